"""Import at national scale (issue 11 item 4): 550,000 answers through import_responses against a raw floor.

Run: python bench/bench_import_scale.py [--rows 550000] [--screen-sample 50000] [--wide]
  (1) the whole import (parse, check, screen on a helper process, write) of a long CSV, wall time
  (2) the same import with screening replaced by a no-op: what the importer itself costs
  (3) the floor: the same CSV parsed and its rows executemany'd with fresh ids into a responses-shaped table
  (4) screening alone (privacy.redact + safeguarding.check per answer, in one process) on a sample, scaled up
  (5) the same sample through BackgroundScreening (helper process + this one), as the importer screens, scaled up
      (screening is analysis/privacy.py's and analysis/safeguarding.py's cost, reported apart so it is attributable)
--wide writes the same answers as a KoBo-style wide CSV (one row per respondent, one column per question).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_capture import ADMIN, GROUPS, QUESTIONS, make_csv, raw_floor  # noqa: E402

import data.importer as importer  # noqa: E402
from analysis.screening import screen  # noqa: E402
from data import open_db  # noqa: E402
from surveys import bundled  # noqa: E402


def make_wide(rows: int) -> bytes:
    """The long bench CSV's answers, four per respondent, as a KoBo-style wide CSV (`;`-separated)."""
    qs = bundled("thrive")
    labels = [qs.text(qs.question(q).label, area="Dudley") for q in QUESTIONS]
    reader = csv.reader(io.StringIO(make_csv(rows).decode("utf-8"), newline=""))
    next(reader)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["start", "end", "Which group are you in?", *labels, "_id", "_uuid", "_submission_time"])
    answers: list[str] = []
    for i, row in enumerate(reader):
        answers.append(row[3])
        if len(answers) == 4:
            n = i // 4
            writer.writerow(["2026-11-23T10:00:00.000+00:00", "2026-11-23T10:05:00.000+00:00",
                             GROUPS[n % len(GROUPS)], *answers, n, str(uuid.UUID(int=n + 1)),
                             "2026-11-23T10:06:00"])
            answers = []
    return out.getvalue().encode("utf-8")


class _NoScreening:
    """Stands in for BackgroundScreening in run (2): every answer comes back unredacted and unflagged."""

    def __init__(self, answers, **_):
        self._answers = answers

    def get(self, i):
        return self._answers[i][0], None

    def close(self):
        pass


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_import(path: Path, data: bytes, name: str, *, screening: bool) -> tuple[float, float, float, int]:
    """(wall s, cpu s of this process, cpu s of the screening helper (a child, counted once it has exited), rows)"""
    db = open_db(path)
    real = importer.BackgroundScreening
    if not screening:
        importer.BackgroundScreening = _NoScreening
    try:
        start, cpu, child = time.perf_counter(), time.process_time(), _children_cpu()
        importer.import_responses(db, ADMIN, io.BytesIO(data), name, event="Scale import")
        elapsed, cpu, child = time.perf_counter() - start, time.process_time() - cpu, _children_cpu() - child
    finally:
        importer.BackgroundScreening = real
    stored = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    db.conn.close()
    return elapsed, cpu, child, stored


def main() -> None:
    # the import starts a background embedding top-up after it commits (data.embeddings): it would compete with the
    # measurements that follow, so it is kept off, as the CLI does
    from data.embeddings import no_background

    with no_background():
        _main()


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=550_000)
    parser.add_argument("--screen-sample", type=int, default=50_000)
    parser.add_argument("--wide", action="store_true", help="a wide (one row per respondent) file instead")
    args = parser.parse_args()
    rows = args.rows - args.rows % 4 if args.wide else args.rows
    print(f"bench_import_scale: {rows:,} answers ({'wide ;-separated' if args.wide else 'long'} CSV), python "
          f"{sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, {os.cpu_count()} cpu(s), load "
          f"{os.getloadavg()[0]:.1f}")
    long_data = make_csv(rows)
    data, name = (make_wide(rows), "bench.csv") if args.wide else (long_data, "bench.csv")
    with tempfile.TemporaryDirectory(prefix="thrive-scale-") as tmp:
        work = Path(tmp)
        cpu = time.process_time()
        floor = raw_floor(work / "raw.db", long_data)
        floor_cpu = time.process_time() - cpu
        print(f"(3) floor: csv parse + uuid4 ids + one executemany of {rows:,} rows: {floor:.2f} s "
              f"(cpu {floor_cpu:.2f} s)")
        bare, bare_cpu, _, stored = timed_import(work / "bare.db", data, name, screening=False)
        print(f"(2) import without screening: {bare:.2f} s (cpu {bare_cpu:.2f} s), stored {stored:,} = "
              f"{bare / floor:.2f} x floor (cpu {bare_cpu / floor_cpu:.2f} x)   load {os.getloadavg()[0]:.1f}")
        whole, whole_cpu, helper_cpu, stored = timed_import(work / "whole.db", data, name, screening=True)
        total_cpu = whole_cpu + helper_cpu
        print(f"(1) whole import: {whole:.2f} s (cpu {whole_cpu:.2f} s here + {helper_cpu:.2f} s in the screening "
              f"helper = {total_cpu:.2f} s), stored {stored:,} = {whole / floor:.2f} x floor (cpu "
              f"{total_cpu / floor_cpu:.2f} x)   load {os.getloadavg()[0]:.1f}\n"
              f"    targets <= 60 s and <= 5 x floor: {'OK' if whole <= 60 else 'MISSED'} / "
              f"{'OK' if whole <= 5 * floor else 'MISSED'} (wall); on two idle cores the cpu time would allow "
              f"{max(total_cpu / 2, whole_cpu):.0f} s at best")
    reader = csv.reader(io.StringIO(long_data.decode("utf-8"), newline=""))
    next(reader)
    sample = [(r[3], r[1]) for _, r in zip(range(args.screen_sample), reader, strict=False)]
    start, cpu = time.perf_counter(), time.process_time()
    for text, question in sample:
        screen(text, question)
    per = (time.perf_counter() - start) / max(len(sample), 1)
    per_cpu = (time.process_time() - cpu) / max(len(sample), 1)
    print(f"(4) screening alone, one process: {per * 1e6:.0f} us per answer (cpu {per_cpu * 1e6:.0f} us) over "
          f"{len(sample):,} answers -> {per * rows:.1f} s for {rows:,} in one process (cpu {per_cpu * rows:.1f} s; "
          f"{per_cpu * rows / 2:.1f} s on two idle cores at best)")
    from analysis.screening import BackgroundScreening

    start = time.perf_counter()
    background = BackgroundScreening(sample, min_answers=0)
    try:
        for i in range(len(sample)):
            background.get(i)
    finally:
        background.close()
    piped = (time.perf_counter() - start) / max(len(sample), 1)
    print(f"(5) screening as the importer runs it (helper process + this one, nothing else): {piped * 1e6:.0f} us "
          f"per answer -> {piped * rows:.1f} s for {rows:,}; whole import minus this = what the rest costs")


if __name__ == "__main__":
    main()
