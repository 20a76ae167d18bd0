"""Benchmark: hostile and oversized import files are refused in seconds, within bounded memory.

Each file is imported by import_responses in a fresh subprocess (a new database in a temporary folder); the parent
prints the child's wall time and peak resident memory (its own VmHWM, Linux) beside the same figures for a child
that only starts up (the floor: Python, the app's modules, an empty database), and a real workbook that imports,
for scale. Target (issue 8): a six-million-row .xlsx refused in seconds, under 500 MB peak.
Run: python bench/bench_import_limits.py [--quick]   (the files are built with tests/test_import_limits.py's writer)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_import_limits import answer_row, header_row, tiny_rows, write_xlsx  # noqa: E402

import config  # noqa: E402

CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from data import open_db
from data.importer import InvalidFile, import_responses
from data.users import User
db = open_db(Path(sys.argv[2]) / "bench.db")
admin = User("bench_admin", frozenset({"admin"}), "Bench admin")
outcome = {"refused": False}
if len(sys.argv) > 3:
    path = Path(sys.argv[3])
    start = time.perf_counter()
    try:
        result = import_responses(db, admin, path.read_bytes(), path.name)
        outcome["added"] = result.added
    except InvalidFile as exc:
        outcome.update(refused=True, row=exc.problems[0].row, message=exc.problems[0].message)
    outcome["seconds"] = time.perf_counter() - start
# VmHWM: this process's own peak resident memory (getrusage's ru_maxrss would include the parent's pages at fork)
status = Path("/proc/self/status").read_text()
outcome["peak_mb"] = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")) / 1024
print(json.dumps(outcome))
"""


def run_measured(workdir: Path, file: Path | None) -> tuple[dict, float, float]:
    """(the child's outcome, wall seconds of the whole child, its peak resident memory in MB)."""
    start = time.perf_counter()
    args = [sys.executable, "-c", CHILD, str(ROOT), str(workdir)] + ([str(file)] if file else [])
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"child failed ({done.returncode}):\n{done.stderr[-2000:]}")
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    return outcome, wall, outcome["peak_mb"]


def build(folder: Path, quick: bool) -> list[tuple[str, Path]]:
    rows = 600_000 if quick else 6_000_000
    files = []
    t0 = time.perf_counter()
    files.append((f"{rows:,}-row xlsx, <dimension> present",
                  write_xlsx(folder / "sized.xlsx", tiny_rows(rows), dimension=f"A1:D{rows + 1}")))
    files.append((f"{rows:,}-row xlsx, no <dimension>", write_xlsx(folder / "unsized.xlsx", tiny_rows(rows))))
    cell = "<c><v>1</v></c>" * 1_000
    files.append(("zip bomb: 180 MB sheet of one repeated row",
                  write_xlsx(folder / "bomb.xlsx", [header_row()] + ["<row>" + cell + "</row>"] * 12_000,
                             compresslevel=9)))
    strings = 4 * config.IMPORT_MAX_ROWS + 2_000
    files.append((f"xlsx with {strings:,} shared strings",
                  write_xlsx(folder / "strings.xlsx", [header_row()], shared_strings=(f"s{i}" for i in range(strings)))))
    long_line = folder / "long_line.csv"
    with long_line.open("wb") as out:
        out.write(b"id,question,group,text\n1,thrive_helps,resident,")
        for _ in range(100):
            out.write(b"x" * 1_000_000)
    files.append(("CSV with one 100 MB line", long_line))
    many = folder / "many_rows.csv"
    with many.open("wb") as out:
        out.write(b"id,question,group,text\n")
        for _ in range(rows // 100_000):
            out.write(b"1,a,b,c\n" * 100_000)
    files.append((f"CSV of {rows:,} tiny rows", many))
    real = 20_000 if quick else 50_000
    files.append((f"for scale: a real {real:,}-row xlsx that imports",
                  write_xlsx(folder / "real.xlsx", [header_row()] + [answer_row(r, f"youth club number {r}")
                                                                     for r in range(2, real + 2)],
                             dimension=f"A1:D{real + 1}")))
    print(f"(files built in {time.perf_counter() - t0:.0f} s)")
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600,000-row files instead of 6,000,000")
    args = parser.parse_args()
    print(f"bench_import_limits: python {sys.version.split()[0]}, {os.cpu_count()} cpu(s); limits "
          f"IMPORT_MAX_ROWS={config.IMPORT_MAX_ROWS:,}, IMPORT_MAX_MB={config.IMPORT_MAX_MB}"
          f"{'  [--quick]' if args.quick else ''}")
    with tempfile.TemporaryDirectory(prefix="thrive-bench-") as tmp:
        folder = Path(tmp)
        floors = []
        for attempt in range(3):  # best of 3: the machine is shared
            (folder / f"floor{attempt}").mkdir()
            floors.append(run_measured(folder / f"floor{attempt}", None)[1:])
        print(f"floor (start-up only, no file), best of 3: {min(w for w, _ in floors):.2f} s, "
              f"peak {min(r for _, r in floors):,.0f} MB")
        print(f"{'file':<52} {'size':>9} {'outcome':<44} {'import s':>8} {'child s':>8} {'peak MB':>8}")
        for number, (label, path) in enumerate(build(folder, args.quick)):
            workdir = folder / f"run{number}"
            workdir.mkdir()
            outcome, wall, rss = run_measured(workdir, path)
            if outcome["refused"]:
                said = f"refused, row {outcome['row']:,}: {outcome['message'][:24]}..."
            else:
                said = f"imported {outcome['added']:,} answers"
            verdict = ""
            if "6,000,000-row xlsx" in label:
                ok = outcome["refused"] and outcome["seconds"] < 10 and rss < 500
                verdict = "  (target: refused, seconds, < 500 MB) " + ("OK" if ok else "MISSED")
            print(f"{label:<52} {path.stat().st_size / 1e6:>7.1f}MB {said:<44} {outcome['seconds']:>8.2f} "
                  f"{wall:>8.2f} {rss:>8,.0f}{verdict}")


if __name__ == "__main__":
    main()
