"""Benchmark: the exports of 100,000 answers (30,000 respondents, 200,000 codings), or as many as asked.

Prints each export's time against a floor measured in the same run -- xlsx: a bare openpyxl write-only dump of the
same cells, already materialised in memory (no styles, no formula safety); csv: pandas to_csv of the same frame;
qdpx: loading the same data alone -- and peak memory, each in a fresh subprocess (resource.getrusage: wall, CPU
time user+sys, ru_maxrss). Targets: xlsx <= 30 s at 100,000, <= 1.5x the floor, peak < 1.5 GB; issue 12 at
550,000: csv <= 2x to_csv, report <= 15 s; issue 11 at 550,000: qdpx peak < 1 GB. The synthetic database is
bench_findings.build's, made once per --db path (database() below; bench_export_qdpx.py uses the same).
Run: python bench/bench_export.py [--answers N] [--kinds xlsx,csv,report,qdpx] [--db /tmp/e550k.db]
"""

from __future__ import annotations

import argparse
import os
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
_CPU0 = [0.0]


def _start() -> float:
    """Start the timed section: wall clock returned, CPU time (time.process_time: all threads) kept."""
    _CPU0[0] = time.process_time()
    return time.perf_counter()


def export(db_path: Path, out: Path) -> tuple[float, dict[str, int]]:
    """The export as the CLI and the page run it: load, build the tables, write the workbook."""
    from data.findings import load_frames
    from exports import tables, xlsx

    t0 = _start()
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
    t0 = _start()
    xlsx.bare_dump(materialised, out)
    return time.perf_counter() - t0


def export_csv(db_path: Path, out: Path, kind: str = "csv") -> float:
    """`export csv` (or `report`) as the CLI runs it: load, build, write."""
    from data.findings import load_frames
    from exports import tables

    t0 = _start()
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
    t0 = _start()
    frame.to_csv(out, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return time.perf_counter() - t0


def export_qdpx(db_path: Path, out: Path, write: bool = True) -> float:
    """`export qdpx` as the CLI runs it (load, build, memos of the kept answers, write); without `write`, the
    floor: load + build only (what every export pays before writing)."""
    from data.findings import load_frames
    from data.refi_import import memos_for_export
    from exports import refi, tables

    t0 = _start()
    db = open_db(db_path)
    ex = tables.build(load_frames(db, LEAD, with_text=True))
    if write:
        refi.write_qdpx(ex, out, memos=memos_for_export(db, LEAD, ex.sel.answers["response_id"]))
    db.conn.close()
    return time.perf_counter() - t0


def child(mode: str, db_path: str, out: str) -> None:
    if mode in ("qdpx", "load"):
        seconds = export_qdpx(Path(db_path), Path(out), mode == "qdpx")
    elif mode == "floor":
        seconds = floor(Path(db_path), Path(out))
    elif mode == "csvfloor":
        seconds = csv_floor(Path(db_path), Path(out))
    elif mode in ("csv", "report"):
        seconds = export_csv(Path(db_path), Path(out), mode)
    else:
        seconds = export(Path(db_path), Path(out))[0]
    cpu_s = time.process_time() - _CPU0[0]  # of the timed section only, like `seconds`
    print(f"{seconds:.3f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} {cpu_s:.3f}")  # maxrss: KiB


#: CPU seconds (user+sys) of each child run by run_child, by mode, in order (printed beside the wall times).
CPU: dict[str, list[float]] = {}


def run_child(mode: str, db_path: Path, out: Path) -> tuple[float, float]:
    """Run one measurement in a fresh interpreter; return (wall seconds, peak MiB); the CPU time (user+sys) of
    the same timed section goes to CPU[mode]."""
    result = subprocess.run([sys.executable, __file__, "--child", mode, str(db_path), str(out)],
                            capture_output=True, text=True, check=True)
    seconds, peak_kib, cpu = result.stdout.split()[-3:]
    CPU.setdefault(mode, []).append(float(cpu))
    return float(seconds), int(peak_kib) / 1024


def cpu(mode: str) -> str:
    return ", ".join(f"{c:.1f}" for c in CPU.get(mode, []))


def load() -> str:
    return "load average " + " ".join(f"{v:.1f}" for v in os.getloadavg())


def database(db: str | None, tmp: str, answers: int, respondents: int, codings: int) -> Path:
    """The one synthetic database builder of the export benchmarks (bench_findings.build, kept at --db)."""
    from bench_findings import cached

    path, how = cached(db or str(Path(tmp) / "bench.db"), answers, respondents, codings)
    print(f"synthetic data: {answers:,} answers, {respondents:,} respondents, {codings:,} codings ({how}); {load()}")
    return path


def qdpx(db_path: Path, tmp: str, answers: int) -> None:
    """export qdpx against load + build alone: time, CPU, peak memory, file size; extrapolated to 550,000."""
    load_s, load_mib = run_child("load", db_path, Path(tmp) / "none")
    out = Path(tmp) / "p.qdpx"
    qdpx_s, qdpx_mib = run_child("qdpx", db_path, out)
    scale = QDPX_TARGET / answers
    print(f"load + build only (floor): {load_s:.2f} s (CPU {cpu('load')} s), peak {load_mib:.0f} MiB")
    print(f"export qdpx: {qdpx_s:.2f} s (CPU {cpu('qdpx')} s), peak {qdpx_mib:.0f} MiB ({qdpx_mib - load_mib:+.0f} MiB "
          f"over the floor; target < 1024 MiB at {QDPX_TARGET:,}); file {out.stat().st_size / 1e6:.1f} MB")
    if answers != QDPX_TARGET:
        print(f"extrapolated linearly to {QDPX_TARGET:,} answers: peak ~{qdpx_mib * scale:.0f} MiB, floor "
              f"~{load_mib * scale:.0f} MiB")
    print(load())


QDPX_TARGET = 550_000


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
    with tempfile.TemporaryDirectory() as tmp:
        db_path = database(args.db, tmp, args.answers, args.respondents, args.codings)
        kinds = args.kinds.split(",")
        if "csv" in kinds:
            csv_floors, csvs, csv_peak = [], [], 0.0
            for i in range(2):
                csv_floors.append(run_child("csvfloor", db_path, Path(tmp) / f"floor{i}.csv")[0])
                seconds, mib = run_child("csv", db_path, Path(tmp) / f"export{i}.csv")
                csvs.append(seconds)
                csv_peak = max(csv_peak, mib)
            print(f"pandas to_csv of the same frame (floor): {', '.join(f'{f:.2f}' for f in csv_floors)} s "
                  f"(CPU {cpu('csvfloor')} s; the frame built untimed)")
            print(f"export csv (load + tables + write): {', '.join(f'{e:.2f}' for e in csvs)} s (CPU "
                  f"{cpu('csv')} s); best {min(csvs):.2f} s, ratio to best floor {min(csvs) / min(csv_floors):.2f} "
                  f"(target <= 2), of CPU time {min(CPU['csv']) / min(CPU['csvfloor']):.2f}; peak {csv_peak:.0f} MiB; "
                  f"{load()}")
        if "report" in kinds:
            runs = [run_child("report", db_path, Path(tmp) / f"report{i}.docx") for i in range(2)]
            print(f"report (load + tables + docx with charts): {', '.join(f'{r[0]:.2f}' for r in runs)} s "
                  f"(CPU {cpu('report')} s; target <= 15 s); peak {max(r[1] for r in runs):.0f} MiB; {load()}")
        if "qdpx" in kinds:
            qdpx(db_path, tmp, args.answers)
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
              f"{', '.join(f'{f:.2f}' for f in floors)} s (CPU {cpu('floor')} s; cells built untimed)")
        print(f"Excel export (load + tables + styled, formula-safe write): {', '.join(f'{e:.2f}' for e in exports_)} s "
              f"(CPU {cpu('export')} s); file {size / 1e6:.1f} MB")
        print(f"best export {best_export:.2f} s (target <= 30 s); ratio to best floor {best_export / best_floor:.2f} "
              f"(target <= 1.5), of CPU time {min(CPU['export']) / min(CPU['floor']):.2f}; peak memory of the export "
              f"{peak:.0f} MiB (target < 1536 MiB); {load()}")


if __name__ == "__main__":
    main()
