"""Benchmark: peak memory and time of `export qdpx` (REFI-QDA project) at 100,000 answers, against loading the same
data alone (load_frames + tables.build: what every export pays before writing), each in a fresh subprocess
(resource.getrusage: wall, CPU, ru_maxrss). Target (issue 11 item 4): 550,000 answers under 1 GB; at another size
the figure at 550,000 is extrapolated linearly, and printed as such. The same as `bench_export.py --kinds qdpx`,
on the same database builder. Run: python bench/bench_export_qdpx.py [--answers N] [--db /tmp/q.db]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_export  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--respondents", type=int, default=30_000)
    parser.add_argument("--codings", type=int, default=200_000)
    parser.add_argument("--db", help="build the synthetic database here once and reuse it (e.g. /tmp/bench550k.db)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = bench_export.database(args.db, tmp, args.answers, args.respondents, args.codings)
        bench_export.qdpx(db_path, tmp, args.answers)


if __name__ == "__main__":
    main()
