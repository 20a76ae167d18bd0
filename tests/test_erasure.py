"""Erasure removes a respondent with everything derived from them; flags stay, unlinked, with tombstones;
an audit row records who, when and why. Also the CLI `erase` command."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from data import erasure, flags
from data.capture import save_respondent
from data.db import now_utc
from data.erasure import ErasureError
from data.importer import import_responses
from data.users import PermissionDenied

DISCLOSURE = "my dad hits me when he's drunk"


def _save(db, user, event, answers):
    return save_respondent(db, user, event_id=event.id, group_id="young_person", consent=True, answers=answers)


def _derive(db, response_ids, coder="olu_officer"):
    """Codings, a memo, a dismissed suggestion and a pinned quote on each answer."""
    now = now_utc()
    code_id = db.execute("INSERT INTO codes (name, label, created_at, updated_at) VALUES ('family', 'Family', ?, ?)"
                         " ON CONFLICT(name) DO UPDATE SET label = label RETURNING id", [now, now]).fetchone()[0]
    for rid in response_ids:
        db.execute("INSERT INTO codings (response_id, code_id, coder, created_at) VALUES (?, ?, ?, ?)",
                   [rid, code_id, coder, now])
        db.execute("INSERT INTO memos (target_type, target_id, author, text, created_at, updated_at) "
                   "VALUES ('response', ?, ?, 'memo', ?, ?)", [rid, coder, now, now])
        db.execute("INSERT INTO suggestion_dismissals (response_id, code_id, coder, at) VALUES (?, ?, ?, ?)",
                   [rid, code_id, coder, now])
        db.execute("INSERT INTO pinned_quotes (code_id, response_id, pinned_by, at) VALUES (?, ?, ?, ?)",
                   [code_id, rid, coder, now])
    db.conn.commit()


def _ids(db, respondent_id):
    return [r[0] for r in db.execute("SELECT id FROM responses WHERE respondent_id = ?", [respondent_id])]


@pytest.fixture
def two_people(db, researcher, event):
    gone = _save(db, researcher, event, {"thrive_helps": ["my nan", DISCLOSURE], "neglect_is": "no food"})
    kept = _save(db, researcher, event, {"thrive_helps": "parks", "neglect_is": "being ignored"})
    _derive(db, _ids(db, gone.respondent_id) + _ids(db, kept.respondent_id))
    return gone, kept


def _count(db, sql, params=()):
    return db.execute(sql, list(params)).fetchone()[0]


def test_erasure_removes_everything_derived_and_keeps_others(db, admin, two_people, safeguarding_lead):
    gone, kept = two_people
    gone_ids, kept_ids = _ids(db, gone.respondent_id), _ids(db, kept.respondent_id)
    flag_id = gone.flags[0].id
    result = erasure.erase_respondent(db, admin, gone.respondent_id, "Withdrew consent by email on 3 Dec")
    assert (result.answers, result.codings, result.memos, result.dismissals, result.pinned_quotes,
            result.flags_unlinked) == (3, 3, 3, 3, 3, 1)
    marks = ", ".join("?" for _ in gone_ids)
    assert _count(db, "SELECT COUNT(*) FROM respondents WHERE id = ?", [gone.respondent_id]) == 0
    for sql in (f"SELECT COUNT(*) FROM responses WHERE id IN ({marks})",
                f"SELECT COUNT(*) FROM codings WHERE response_id IN ({marks})",
                f"SELECT COUNT(*) FROM memos WHERE target_id IN ({marks})",
                f"SELECT COUNT(*) FROM suggestion_dismissals WHERE response_id IN ({marks})",
                f"SELECT COUNT(*) FROM pinned_quotes WHERE response_id IN ({marks})"):
        assert _count(db, sql, gone_ids) == 0, sql
    # the words are nowhere in the database any more
    for table in ("responses", "memos", "flags", "flag_history", "audit", "tombstones"):
        for row in db.execute(f"SELECT * FROM {table}"):
            assert not any(DISCLOSURE in str(v) for v in row), table
    # the other respondent is untouched
    marks_k = ", ".join("?" for _ in kept_ids)
    assert _count(db, f"SELECT COUNT(*) FROM codings WHERE response_id IN ({marks_k})", kept_ids) == 2
    assert _count(db, f"SELECT COUNT(*) FROM pinned_quotes WHERE response_id IN ({marks_k})", kept_ids) == 2
    # the flag stays, unlinked, with a note in its history and a tombstone
    item = flags.get(db, safeguarding_lead, flag_id)
    assert item.response_id is None and item.respondent_id is None and item.erased and item.answers == []
    assert "Respondent erased" in flags.history(db, safeguarding_lead, flag_id)[-1].note
    stones = {(r[0], r[1]) for r in db.execute("SELECT kind, ref_id FROM tombstones")}
    assert ("respondent", gone.respondent_id) in stones and ("flag", flag_id) in stones
    assert {("response", i) for i in gone_ids} <= stones
    assert {r[0] for r in db.execute("SELECT reason FROM tombstones")} == {"Withdrew consent by email on 3 Dec"}
    (audit_row,) = db.execute("SELECT actor, target_id, detail FROM audit WHERE action = 'respondent_erased'")
    assert audit_row[0] == "ada_admin" and audit_row[1] == gone.respondent_id
    assert json.loads(audit_row[2])["answers"] == 3


def test_erasure_needs_a_reason_and_an_existing_respondent(db, admin, two_people):
    gone, _ = two_people
    with pytest.raises(ErasureError, match="reason"):
        erasure.erase_respondent(db, admin, gone.respondent_id, "  ")
    with pytest.raises(ErasureError, match="not in the database"):
        erasure.erase_respondent(db, admin, "no-such-id", "asked")
    assert _count(db, "SELECT COUNT(*) FROM responses WHERE respondent_id = ?", [gone.respondent_id]) == 3
    assert _count(db, "SELECT COUNT(*) FROM tombstones") == 0


@pytest.mark.parametrize("role_fixture", ["officer", "researcher", "lead", "safeguarding_lead"])
def test_only_admins_erase(request, db, two_people, role_fixture):
    user = request.getfixturevalue(role_fixture)
    gone, _ = two_people
    with pytest.raises(PermissionDenied):
        erasure.erase_respondent(db, user, gone.respondent_id, "asked")
    with pytest.raises(PermissionDenied):
        erasure.find_respondent(db, user, gone.respondent_id)
    assert _count(db, "SELECT COUNT(*) FROM responses WHERE respondent_id = ?", [gone.respondent_id]) == 3


def _import(db, admin):
    csv = (b"id,question,group,text,respondent,event\n"
           b"a1,thrive_helps,parent_carer,my sister helps,R-7,Market day\n"
           b"a2,neglect_is,parent_carer,nobody listening,R-7,Market day\n"
           b"a3,thrive_helps,parent_carer,the park,R-8,Market day\n"
           b"b1,thrive_helps,resident,buses,R-7,School fair\n")
    import_responses(db, admin, csv, "answers.csv")


def test_erase_by_respondent_reference_and_event(db, admin):
    _import(db, admin)
    with pytest.raises(ErasureError, match="2 events"):
        erasure.erase(db, admin, "R-7", "asked")
    with pytest.raises(ErasureError, match="No respondent"):
        erasure.erase(db, admin, "R-99", "asked", event="Market day")
    result = erasure.erase(db, admin, "R-7", "asked at the stall", event="Market day")
    assert result.answers == 2
    assert sorted(r[0] for r in db.execute("SELECT external_id FROM responses")) == ["a3", "b1"]


def test_cli_erase(db, db_path, admin):
    from cli import cli

    _import(db, admin)
    runner = CliRunner()
    refused = runner.invoke(cli, ["erase", "R-7", "--reason", "asked", "--db", str(db_path), "--yes"])
    assert refused.exit_code == 1 and "say which event" in refused.output
    aborted = runner.invoke(cli, ["erase", "R-8", "--reason", "asked", "--db", str(db_path)], input="n\n")
    assert aborted.exit_code != 0
    assert _count(db, "SELECT COUNT(*) FROM responses WHERE external_id = 'a3'") == 1
    done = runner.invoke(cli, ["erase", "R-8", "--reason", "withdrew", "--db", str(db_path)], input="y\n")
    assert done.exit_code == 0, done.output
    assert "1 answer(s)" in done.output
    assert _count(db, "SELECT COUNT(*) FROM responses WHERE external_id = 'a3'") == 0
    assert _count(db, "SELECT COUNT(*) FROM audit WHERE action = 'respondent_erased'") == 1


def test_erasure_is_all_or_nothing(db, admin, two_people, monkeypatch):
    gone, _ = two_people
    before = _count(db, "SELECT COUNT(*) FROM codings")

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(erasure.audit, "record", broken)
    with pytest.raises(sqlite3.OperationalError):
        erasure.erase_respondent(db, admin, gone.respondent_id, "asked")
    assert _count(db, "SELECT COUNT(*) FROM codings") == before
    assert _count(db, "SELECT COUNT(*) FROM responses WHERE respondent_id = ?", [gone.respondent_id]) == 3
    assert _count(db, "SELECT COUNT(*) FROM tombstones") == 0
