"""Benchmark: peak memory and time of `export qdpx` (REFI-QDA project) at 100,000 answers, against loading the same
data alone (load_frames + tables.build: what every export pays before writing), each in a fresh subprocess
(resource.getrusage ru_maxrss). Target (issue 11 item 4): 550,000 answers under 1 GB; the figure at 550,000 is
extrapolated linearly from the size measured, and printed as such. Run: python bench/bench_export_qdpx.py [--answers N]
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
TARGET = 550_000


def child(mode: str, db_path: str, out: str) -> None:
    from data.findings import load_frames
    from exports import refi, tables

    t0 = time.perf_counter()
    db = open_db(Path(db_path))
    ex = tables.build(load_frames(db, LEAD, with_text=True))
    if mode == "qdpx":
        refi.write_qdpx(ex, Path(out))
    db.conn.close()
    print(f"{time.perf_counter() - t0:.3f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


def run_child(mode: str, db_path: Path, out: Path) -> tuple[float, float]:
    result = subprocess.run([sys.executable, __file__, "--child", mode, str(db_path), str(out)],
                            capture_output=True, text=True, check=True)
    seconds, peak_kib = result.stdout.split()[-2:]
    return float(seconds), int(peak_kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--respondents", type=int, default=30_000)
    parser.add_argument("--codings", type=int, default=200_000)
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
        load_s, load_mib = run_child("load", db_path, Path(tmp) / "none")
        out = Path(tmp) / "p.qdpx"
        qdpx_s, qdpx_mib = run_child("qdpx", db_path, out)
        scale = TARGET / args.answers
        print(f"load + build only (floor): {load_s:.2f} s, peak {load_mib:.0f} MiB")
        print(f"export qdpx: {qdpx_s:.2f} s, peak {qdpx_mib:.0f} MiB ({qdpx_mib - load_mib:+.0f} MiB over the floor); "
              f"file {out.stat().st_size / 1e6:.1f} MB")
        print(f"extrapolated linearly to {TARGET:,} answers: peak ~{qdpx_mib * scale:.0f} MiB (target < 1024 MiB), "
              f"floor ~{load_mib * scale:.0f} MiB")


if __name__ == "__main__":
    main()
