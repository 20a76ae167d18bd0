"""An import killed with SIGKILL part-way leaves the database with all of the file's rows or none of them.

The CLI import runs in a subprocess; the test kills it while it is writing (the -wal file is growing) or while it is
still reading, then opens the database (SQLite recovers from the WAL) and counts, then imports the file again.
"""

from __future__ import annotations

import csv
import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data import open_db

ROOT = Path(__file__).resolve().parent.parent
ROWS = 60_000
EVENT = "Killed import"
WORDS = ("youth club parks family time money worries phones bullying school support trusted adult food housing "
         "cold house safe places sport music library free activities buses after school clubs").split()

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    rng = random.Random(11)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "question", "group", "text", "respondent"])
    questions = ["thrive_helps", "thrive_stops", "neglect_is", "thrive_local"]
    for i in range(ROWS):
        writer.writerow([f"k{i}", questions[i % 4], "resident", " ".join(rng.sample(WORDS, 5)), f"p{i // 4}"])
    path = tmp_path_factory.mktemp("kill") / "BIG.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def counts(db_path: Path) -> tuple[int, int, int]:
    db = open_db(db_path)
    try:
        return db.execute(
            "SELECT (SELECT COUNT(*) FROM responses), (SELECT COUNT(*) FROM respondents), "
            "(SELECT COUNT(*) FROM events WHERE name = ?)", [EVENT]
        ).fetchone()
    finally:
        db.conn.close()


def start_import(big_csv: Path, db_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "import", "responses", str(big_csv),
                             "--event", EVENT, "--db", str(db_path)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wal_size(db_path: Path) -> int:
    try:
        return os.path.getsize(f"{db_path}-wal")
    except OSError:
        return 0


def kill_when(proc: subprocess.Popen, condition, timeout: float = 120) -> str:
    """SIGKILL the process as soon as `condition()` holds; returns what happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return "finished"
        if condition():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            return "killed"
        time.sleep(0.002)
    proc.kill()
    proc.wait()
    return "timeout"


def counted(db_path: Path) -> tuple[set[str], tuple[int, int]]:
    """(the count triggers present, (people, answers) in the per-day counts), where the schema keeps them."""
    db = open_db(db_path)
    try:
        triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN "
                                              "('responses_counted', 'respondents_counted')")}
        has_counts = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'event_day_counts'").fetchone()
        sums = db.execute("SELECT COALESCE(SUM(people), 0), COALESCE(SUM(answers), 0) FROM event_day_counts"
                          ).fetchone() if has_counts else (0, 0)
        return triggers, tuple(sums)
    finally:
        db.conn.close()


def assert_all_or_nothing(db_path: Path) -> tuple[int, int, int]:
    after_kill = counts(db_path)
    assert after_kill in ((0, 0, 0), (ROWS, ROWS // 4, 1)), f"partial import survived a SIGKILL: {after_kill}"
    # a big import drops the per-day count triggers inside its transaction: a kill must leave them, and the counts
    # must say what the tables hold
    triggers, (people, answers) = counted(db_path)
    if triggers:
        assert triggers == {"responses_counted", "respondents_counted"}, f"count triggers lost: {triggers}"
        assert (answers, people) == after_kill[:2], f"counts {people}/{answers} vs tables {after_kill[:2]}"
    return after_kill


def reimport_completes(db_path: Path, big_csv: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "import", "responses", str(big_csv),
                           "--event", EVENT, "--db", str(db_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert counts(db_path) == (ROWS, ROWS // 4, 1)


# The whole file (60,000 answers, 15,000 respondents) writes about 30 MB of WAL; killing at several depths
# catches an importer that commits part of the file early (e.g. the respondents before their answers).
@pytest.mark.parametrize("wal_bytes", [1_000_000, 8_000_000, 20_000_000])
def test_sigkill_while_writing_leaves_nothing(tmp_path, big_csv, wal_bytes):
    db_path = tmp_path / "thrive.db"
    open_db(db_path).conn.close()  # created and migrated before the import starts
    baseline = wal_size(db_path)
    proc = start_import(big_csv, db_path)
    # The rows are written in one transaction at the end; its pages spill into the -wal file as it grows.
    outcome = kill_when(proc, lambda: wal_size(db_path) > baseline + wal_bytes)
    assert outcome == "killed", f"the import {outcome} before it could be killed mid-write: make the file bigger"
    assert proc.returncode == -signal.SIGKILL
    assert assert_all_or_nothing(db_path) == (0, 0, 0), "killed before COMMIT, so nothing may be visible"
    if wal_bytes == 20_000_000:
        reimport_completes(db_path, big_csv)


def test_sigkill_while_reading_leaves_nothing(tmp_path, big_csv):
    db_path = tmp_path / "thrive.db"
    open_db(db_path).conn.close()
    proc = start_import(big_csv, db_path)
    started = time.monotonic()
    outcome = kill_when(proc, lambda: time.monotonic() - started > 1.0)
    assert outcome == "killed", f"the import {outcome} within a second: make the file bigger"
    assert_all_or_nothing(db_path)
    reimport_completes(db_path, big_csv)
