"""Run every benchmark in bench/ in turn and print their output (python bench/run_all.py [--quick]).

Each benchmark is also runnable on its own; this is the one command for all of them.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK_CAPABLE = {"bench_capture.py"}


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        args = [sys.executable, str(script)] + (["--quick"] if quick and script.name in QUICK_CAPABLE else [])
        print(f"\n===== {script.name} =====", flush=True)
        start = time.perf_counter()
        code = subprocess.call(args, cwd=HERE.parent)
        print(f"===== {script.name}: exit {code}, {time.perf_counter() - start:.0f} s =====", flush=True)
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
