"""Bundle merge benchmark: merge a laptop's bundle into a big hub, against a raw executemany of the same rows.

Run: python bench/bench_bundle.py                 (issue 13 sizes: 100,000-answer bundle into a 550,000-answer hub)
     python bench/bench_bundle.py --quick         (10,000 into 50,000, for development)
     python bench/bench_bundle.py --hub-answers N --bundle-answers M
  export: export_bundle of the laptop's event (answers, respondents, codings on a fifth of them, flags)
  merge:  import_bundle into a copy of the hub (one transaction: checks, lookups, inserts, audit)
  again:  the same bundle a second time (everything already present)
  floor:  one transaction of raw sqlite3 executemany of the same rows (already in memory) into another copy
Data is built with executemany into the app's schema (no screening: the texts are plain words).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3  # the raw floor only; the app itself goes through data/
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data import open_db  # noqa: E402
from data.bundle import export_bundle, import_bundle  # noqa: E402
from data.codebook import list_codes, load_starter_codebook  # noqa: E402
from data.db import new_ids, now_utc  # noqa: E402
from data.events import create_event  # noqa: E402
from data.users import User  # noqa: E402

ADMIN = User("bench_admin", frozenset({"admin"}), "Bench admin")
QUESTIONS = ["thrive_helps", "thrive_stops", "neglect_is", "thrive_local"]
WORDS = ("youth club parks family time money worries phones bullying school support trusted adult food housing "
         "cold house safe places sport music library free activities buses after school clubs").split()


def fill(path: Path, answers: int, name: str, seed: int, codings: bool) -> None:
    """An event with `answers` answers from answers/4 respondents (and, for a laptop, codings and flags)."""
    rng = random.Random(seed)
    db = open_db(path)
    event = create_event(db, ADMIN, name=name, date="2026-11-20")
    people = max(1, answers // 4)
    respondent_ids = new_ids(people)
    response_ids = new_ids(answers)
    now = now_utc()
    with db.conn:
        db.conn.executemany(
            "INSERT INTO respondents (id, event_id, group_id, profile, language, consent, consent_method, source, "
            "recorded_by, created_at) VALUES (?, ?, 'resident', '{}', 'en', 1, 'tablet', 'tablet', 'bench', ?)",
            [(rid, event.id, now) for rid in respondent_ids])
        rows = []
        for i, rid in enumerate(response_ids):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9)))
            rows.append((rid, respondent_ids[i // 4], event.id, QUESTIONS[i % 4], 0, text, text, "tablet", "bench",
                         now))
        db.conn.executemany(
            "INSERT INTO responses (id, respondent_id, event_id, question_id, position, text, redacted_text, source, "
            "recorded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    if codings:
        load_starter_codebook(db, ADMIN)
        codes = [c.id for c in list_codes(db) if c.parent_id is not None]
        with db.conn:
            db.conn.executemany(
                "INSERT INTO codings (response_id, code_id, coder, source, created_at) VALUES (?, ?, 'coder', "
                "'human', ?)", [(rid, rng.choice(codes), now) for rid in response_ids[::5]])
            flag_ids = new_ids(max(1, answers // 500))
            db.conn.executemany(
                "INSERT INTO flags (id, respondent_id, response_id, event_id, kind, reason, status, raised_by, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, 'auto', 'bench', 'open', 'bench', ?, ?)",
                [(fid, respondent_ids[i], response_ids[4 * i], event.id, now, now) for i, fid in enumerate(flag_ids)])
            db.conn.executemany("INSERT INTO flag_history (flag_id, status, note, by, at) VALUES (?, 'open', '', "
                                "'bench', ?)", [(fid, now) for fid in flag_ids])
    with db.ensure_autocommit_on():
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()


def floor(hub: Path, bundle_file: Path) -> float:
    """Raw executemany of the bundle's rows (parsed beforehand) into the hub, in one transaction."""
    with zipfile.ZipFile(bundle_file) as archive:
        parts = {t: [json.loads(line) for line in archive.read(f"{t}.jsonl").decode().splitlines()]
                 for t in ("question_sets", "events", "respondents", "responses", "codings", "flags", "flag_history")}
    conn = sqlite3.connect(hub)
    code_ids = dict(conn.execute("SELECT name, id FROM codes"))
    codings = [(c["response_id"], code_ids.get(c["code"], 1), c["coder"], c["source"], c["created_at"])
               for c in parts["codings"]]
    start = time.perf_counter()
    with conn:
        for table in ("question_sets", "events", "respondents", "responses", "flags"):
            rows = parts[table]
            if table == "question_sets":
                rows = [r for r in rows if not conn.execute("SELECT 1 FROM question_sets WHERE id = ?",
                                                            [r["id"]]).fetchone()]
            if rows:
                keys = list(rows[0])
                conn.executemany(f"INSERT INTO {table} ({', '.join(keys)}) VALUES ({', '.join('?' for _ in keys)})",
                                 [tuple(r[k] for k in keys) for r in rows])
        conn.executemany("INSERT INTO codings (response_id, code_id, coder, source, created_at) VALUES (?, ?, ?, ?, ?)",
                         codings)
        conn.executemany("INSERT INTO flag_history (flag_id, status, note, by, at) VALUES (?, ?, ?, ?, ?)",
                         [(h["flag_id"], h["status"], h["note"], h["by"], h["at"]) for h in parts["flag_history"]])
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 answers into 50,000")
    parser.add_argument("--hub-answers", type=int, default=None)
    parser.add_argument("--bundle-answers", type=int, default=None)
    args = parser.parse_args()
    hub_n = args.hub_answers or (50_000 if args.quick else 550_000)
    bundle_n = args.bundle_answers or (10_000 if args.quick else 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        fill(tmp / "hub.db", hub_n, "Hub events", 1, codings=False)
        fill(tmp / "laptop.db", bundle_n, "Market day", 2, codings=True)
        print(f"built a {hub_n:,}-answer hub and a {bundle_n:,}-answer laptop in {time.perf_counter() - t0:.1f} s")
        hub_codes = open_db(tmp / "hub.db")
        load_starter_codebook(hub_codes, ADMIN)  # the hub has the same codebook (codings match by name)
        hub_codes.conn.close()
        laptop = open_db(tmp / "laptop.db")
        start = time.perf_counter()
        manifest = export_bundle(laptop, ADMIN, tmp / "bundle.zip")
        export_s = time.perf_counter() - start
        laptop.conn.close()
        size = (tmp / "bundle.zip").stat().st_size
        print(f"export: {export_s:.2f} s, {size / 1e6:.1f} MB, counts {manifest['counts']}")
        shutil.copyfile(tmp / "hub.db", tmp / "hub_merge.db")
        shutil.copyfile(tmp / "hub.db", tmp / "hub_floor.db")
        hub = open_db(tmp / "hub_merge.db")
        start = time.perf_counter()
        report = import_bundle(hub, ADMIN, tmp / "bundle.zip")
        merge_s = time.perf_counter() - start
        start = time.perf_counter()
        again = import_bundle(hub, ADMIN, tmp / "bundle.zip")
        again_s = time.perf_counter() - start
        total = hub.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        hub.conn.close()
        assert report.tables["responses"].new == bundle_n and again.added == 0 and total == hub_n + bundle_n
        floor_s = floor(tmp / "hub_floor.db", tmp / "bundle.zip")
        print(f"merge:  {merge_s:.2f} s ({bundle_n / merge_s:,.0f} answers/s; hub now {total:,} answers; "
              f"{report.open_flags_arrived} open flags arrived)")
        print(f"again:  {again_s:.2f} s (nothing added)")
        print(f"floor:  {floor_s:.2f} s (raw executemany of the same rows, parsed beforehand)")
        print(f"ratio merge / floor: {merge_s / floor_s:.1f}x")


if __name__ == "__main__":
    main()
