"""The store: connection settings, migrations (upgrade keeps data, backup first), ids and timestamps."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

import pytest

from data import open_db
from data.db import connect, schema_version, transaction
from data.schema import migrations


def test_open_db_creates_schema_in_wal_mode_with_busy_timeout(db):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    tables = set(db.table_names())
    assert {"question_sets", "events", "respondents", "responses", "codes", "codings", "users", "flags",
            "audit"} <= tables
    columns = {c.name for c in db["responses"].columns}
    assert {"id", "question_id", "text", "external_id", "redacted_text"} <= columns
    assert "group_id" in {c.name for c in db["respondents"].columns}


def test_init_is_idempotent(db_path):
    first = open_db(db_path)
    applied = schema_version(first)
    first.conn.close()
    again = open_db(db_path)
    assert schema_version(again) == applied == [m.name for m in migrations._migrations]
    assert not list(db_path.parent.glob("*.bak-*")), "no backup when nothing was pending"


def test_upgrade_from_older_schema_keeps_data_and_backs_up_first(db_path, admin, researcher):
    from data.capture import save_respondent
    from data.events import create_event

    old = connect(db_path)
    migrations.apply(old, stop_before="0002_coding")
    assert schema_version(old) == ["0001_capture"]
    # Write through the 0001 tables only (the capture core needs later tables, so insert the way 0001 allowed).
    from data.events import freeze_question_set
    from surveys import bundled

    qs_id = freeze_question_set(old, bundled("thrive"))
    old.execute("INSERT INTO events (id, name, date, question_set_id, created_at) VALUES ('e1', 'Old event', "
                "'2026-01-01', ?, '2026-01-01T00:00:00+00:00')", [qs_id])
    old.execute("INSERT INTO respondents (id, event_id, group_id, consent, source, created_at) VALUES "
                "('r1', 'e1', 'resident', 1, 'tablet', '2026-01-01T00:00:00+00:00')")
    old.execute("INSERT INTO responses (id, respondent_id, event_id, question_id, text, source, created_at) VALUES "
                "('a1', 'r1', 'e1', 'thrive_helps', 'parks 🌳 & \"clubs\"', 'tablet', '2026-01-01T00:00:00+00:00')")
    old.conn.close()

    upgraded = open_db(db_path)
    assert schema_version(upgraded)[-1] == migrations._migrations[-1].name
    assert upgraded.execute("SELECT text FROM responses WHERE id = 'a1'").fetchone()[0] == 'parks 🌳 & "clubs"'
    backups = list(db_path.parent.glob("thrive.db.bak-*"))
    assert len(backups) == 1
    snapshot = sqlite3.connect(backups[0])
    assert snapshot.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 1
    assert "codes" not in {r[0] for r in snapshot.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    snapshot.close()
    # and the upgraded database works for new writes
    event = create_event(upgraded, admin, name="New event", date="2026-02-01")
    save_respondent(upgraded, researcher, event_id=event.id, group_id="young_person", consent=True,
                    answers={"thrive_helps": ["mates"]})
    assert upgraded.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 2


def test_failed_migration_rolls_back_and_stays_pending(db_path):
    from sqlite_utils.migrations import Migrations

    broken = Migrations("thrive")

    @broken(name="0001_capture")
    def half_then_fail(db):
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    database = connect(db_path)
    with pytest.raises(RuntimeError):
        broken.apply(database)
    assert "half_done" not in database.table_names()
    assert [m.name for m in broken.pending(database)] == ["0001_capture"]


def test_transaction_is_all_or_nothing(db, event, researcher):
    with pytest.raises(RuntimeError):
        with transaction(db):
            db.execute("INSERT INTO settings (key, value, updated_at) VALUES ('area_name', 'X', 'now')")
            raise RuntimeError("interrupted")
    assert db.execute("SELECT COUNT(*) FROM settings").fetchone()[0] == 0


def test_ids_are_uuids_and_timestamps_utc_iso(db, event, researcher):
    from data.capture import save_respondent

    result = save_respondent(db, researcher, event_id=event.id, group_id="parent_carer", consent=True,
                             answers={"thrive_helps": ["family time"]})
    row = db.execute("SELECT r.id, r.created_at, p.id, e.id FROM responses r JOIN respondents p ON p.id = "
                     "r.respondent_id JOIN events e ON e.id = r.event_id").fetchone()
    for ident in (row[0], row[2], row[3]):
        assert uuid.UUID(ident).version == 4
    assert row[2] == result.respondent_id
    moment = dt.datetime.fromisoformat(row[1])
    assert moment.utcoffset() == dt.timedelta(0)


def test_audit_log_is_append_only(db, event):
    assert db.execute("SELECT COUNT(*) FROM audit WHERE action = 'event_created'").fetchone()[0] == 1
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit SET actor = 'someone else'")
