"""Benchmark: the Excel export of 100,000 answers (30,000 respondents, 200,000 codings).

Prints the export's time against a floor measured in the same run -- a bare openpyxl write-only dump of the same
cells, already materialised in memory (no styles, no formula safety) -- and the export's peak memory, measured in a
fresh subprocess with resource.getrusage. Targets: export <= 30 s, <= 1.5x the floor, peak < 1.5 GB.
Run: python bench/bench_export.py [--answers N] [--kinds xlsx,csv,report] [--db /tmp/e550k.db]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from data import open_db  # noqa: E402
from data.users import User  # noqa: E402

LEAD = User("bench_lead", frozenset({"strategy_lead"}))


def export(db_path: Path, out: Path) -> tuple[float, dict[str, int]]:
    """The export as the CLI and the page run it: load, build the tables, write the workbook."""
    from data.findings import load_frames
    from exports import tables, xlsx

    t0 = time.perf_counter()
    db = open_db(db_path)
    ex = tables.build(load_frames(db, LEAD, with_text=True))
    written = xlsx.write_workbook(ex, out)
    db.conn.close()
    return time.perf_counter() - t0, written


def floor(db_path: Path, out: Path) -> float:
    """The floor: the same cells, built and materialised first (not timed), then dumped bare."""
    from data.findings import load_frames
    from exports import tables, xlsx

    db = open_db(db_path)
    ex = tables.build(load_frames(db, LEAD, with_text=True))
    db.conn.close()
    materialised = []
    for t in tables.all_tables(ex):
        rows = list(t.rows())
        materialised.append(tables.Table(t.name, t.description, t.headers, t.widths, lambda rows=rows: iter(rows),
                                         len(rows)))
    t0 = time.perf_counter()
    xlsx.bare_dump(materialised, out)
    return time.perf_counter() - t0


def export_csv(db_path: Path, out: Path, kind: str = "csv") -> float:
    """`export csv` (or `report`) as the CLI runs it: load, build, write."""
    from data.findings import load_frames
    from exports import tables

    t0 = time.perf_counter()
    db = open_db(db_path)
    ex = tables.build(load_frames(db, LEAD, with_text=True))
    if kind == "csv":
        from exports.csv_export import write_csv

        write_csv(ex, out)
    else:
        from exports.report import write_report

        write_report(ex, out)
    db.conn.close()
    return time.perf_counter() - t0


def csv_floor(db_path: Path, out: Path) -> float:
    """The CSV floor: pandas DataFrame.to_csv of the same cells (the Responses table as a frame, built untimed)."""
    import pandas as pd

    from data.findings import load_frames
    from exports import tables

    db = open_db(db_path)
    ex = tables.build(load_frames(db, LEAD, with_text=True))
    db.conn.close()
    table = tables.responses(ex)
    frame = pd.DataFrame.from_records(list(table.rows()), columns=table.headers)
    del ex
    t0 = time.perf_counter()
    frame.to_csv(out, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return time.perf_counter() - t0


def child(mode: str, db_path: str, out: str) -> None:
    if mode == "floor":
        seconds = floor(Path(db_path), Path(out))
    elif mode == "csvfloor":
        seconds = csv_floor(Path(db_path), Path(out))
    elif mode in ("csv", "report"):
        seconds = export_csv(Path(db_path), Path(out), mode)
    else:
        seconds = export(Path(db_path), Path(out))[0]
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"{seconds:.3f} {peak_kib}")


def run_child(mode: str, db_path: Path, out: Path) -> tuple[float, float]:
    """Run one measurement in a fresh interpreter; return (seconds, peak MiB)."""
    result = subprocess.run([sys.executable, __file__, "--child", mode, str(db_path), str(out)],
                            capture_output=True, text=True, check=True)
    seconds, peak_kib = result.stdout.split()[-2:]
    return float(seconds), int(peak_kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--respondents", type=int, default=30_000)
    parser.add_argument("--codings", type=int, default=200_000)
    parser.add_argument("--kinds", default="xlsx", help="comma-separated: xlsx (vs a bare openpyxl dump), csv (vs "
                        "pandas to_csv of the same frame), report (time only; target <= 15 s)")
    parser.add_argument("--db", help="build the synthetic database here once and reuse it (e.g. /tmp/bench550k.db)")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "DB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from bench_findings import cached

    with tempfile.TemporaryDirectory() as tmp:
        db_path, how = cached(args.db or str(Path(tmp) / "bench.db"), args.answers, args.respondents, args.codings)
        print(f"synthetic data: {args.answers:,} answers, {args.respondents:,} respondents, {args.codings:,} codings "
              f"({how})")
        kinds = args.kinds.split(",")
        if "csv" in kinds:
            csv_floors, csvs, csv_peak = [], [], 0.0
            for i in range(2):
                csv_floors.append(run_child("csvfloor", db_path, Path(tmp) / f"floor{i}.csv")[0])
                seconds, mib = run_child("csv", db_path, Path(tmp) / f"export{i}.csv")
                csvs.append(seconds)
                csv_peak = max(csv_peak, mib)
            print(f"pandas to_csv of the same frame (floor): {', '.join(f'{f:.2f}' for f in csv_floors)} s")
            print(f"export csv (load + tables + write): {', '.join(f'{e:.2f}' for e in csvs)} s; best "
                  f"{min(csvs):.2f} s, ratio to best floor {min(csvs) / min(csv_floors):.2f} (target <= 2); "
                  f"peak {csv_peak:.0f} MiB")
        if "report" in kinds:
            runs = [run_child("report", db_path, Path(tmp) / f"report{i}.docx") for i in range(2)]
            print(f"report (load + tables + docx with charts): {', '.join(f'{r[0]:.2f}' for r in runs)} s "
                  f"(target <= 15 s); peak {max(r[1] for r in runs):.0f} MiB")
        if "xlsx" not in kinds:
            return
        # each measurement in a fresh process, floor and export alternating, so machine load hits both alike
        floors, exports_ = [], []
        peak = 0.0
        for i in range(2):
            floors.append(run_child("floor", db_path, Path(tmp) / f"bare{i}.xlsx")[0])
            seconds, mib = run_child("export", db_path, Path(tmp) / f"export{i}.xlsx")
            exports_.append(seconds)
            peak = max(peak, mib)
        size = (Path(tmp) / "export0.xlsx").stat().st_size
        best_floor, best_export = min(floors), min(exports_)
        print(f"bare openpyxl write-only dump of the same cells, materialised in memory (floor): "
              f"{', '.join(f'{f:.2f}' for f in floors)} s")
        print(f"Excel export (load + tables + styled, formula-safe write): {', '.join(f'{e:.2f}' for e in exports_)} s;"
              f" file {size / 1e6:.1f} MB")
        print(f"best export {best_export:.2f} s (target <= 30 s); ratio to best floor {best_export / best_floor:.2f} "
              f"(target <= 1.5); peak memory of the export {peak:.0f} MiB (target < 1536 MiB)")


if __name__ == "__main__":
    main()
