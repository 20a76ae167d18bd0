"""CLI start-up: wall time of `python cli.py --help`, `stats` and `events list` on a small database (issue 14 item 4).

Prints the median of 10 runs of each command beside two floors measured in the same run: `python -c pass` (the
interpreter alone) and `python -c "import sqlite3"` (the least any database command can import). The database is a
fresh one in a temporary folder holding one event and a few answers (nothing touches data/thrive.db).
Target: --help and stats under 0.4 s. Usage: python bench/bench_cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = str(ROOT / "cli.py")


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median_seconds(args: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall and CPU (user + system) seconds of `runs` runs of `args` (one warm-up run first, not counted).

    CPU time is reported too because the machine is shared: wall time grows with other people's load, CPU much less.
    A failing run stops the bench."""
    walls, cpus = [], []
    for i in range(runs + 1):
        cpu0, start = _child_cpu(), time.perf_counter()
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
        elapsed, cpu = time.perf_counter() - start, _child_cpu() - cpu0
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
        if i:
            walls.append(elapsed)
            cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus)


def seed(db_path: Path, env: dict[str, str]) -> None:
    """A small database: one event and three answers, written through the CLI's own import command."""
    csv_path = db_path.with_name("answers.csv")
    csv_path.write_text("id,question,group,text\n1,thrive_helps,young_person,Friends\n"
                        "2,thrive_helps,parent_carer,The park\n3,thrive_helps,young_person,Music club\n",
                        encoding="utf-8")
    subprocess.run([sys.executable, CLI, "import", "responses", str(csv_path), "--event", "Bench fair"],
                   cwd=ROOT, env=env, check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "bench.db"
        env = {**os.environ, "THRIVE_DB": str(db_path)}
        seed(db_path, env)
        rows = [
            ("floor: python -c pass", [sys.executable, "-c", "pass"]),
            ("floor: python -c 'import sqlite3'", [sys.executable, "-c", "import sqlite3"]),
            ("python cli.py --help", [sys.executable, CLI, "--help"]),
            ("python cli.py stats", [sys.executable, CLI, "stats"]),
            ("python cli.py events list", [sys.executable, CLI, "events", "list"]),
        ]
        print(f"CLI start-up, median of {runs} runs each (one warm-up run not counted), small database; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"  {'command':<36} {'wall':>8} {'cpu':>8}  wall vs the sqlite3 floor")
        floor = None
        for label, args in rows:
            wall, cpu = median_seconds(args, env, runs)
            if label.startswith("floor: python -c 'import"):
                floor = wall
            ratio = f"  {wall / floor:4.1f}x" if floor and not label.startswith("floor") else ""
            target = "  (target < 0.40 s)" if label.endswith(("--help", "stats")) else ""
            print(f"  {label:<36} {wall:6.3f} s {cpu:6.3f} s{ratio}{target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
