"""The safeguarding queue: flags newest first with the original text, status changes with notes, never deleted,
and `cli.py safeguarding list --json`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from data import flags
from data.capture import flag_respondent, save_respondent
from data.flags import FlagError
from data.users import PermissionDenied

DISCLOSURE = "my dad hits me when he's drunk"


def _save(db, user, event, answers, **kw):
    return save_respondent(db, user, event_id=event.id, group_id="young_person", consent=True, answers=answers, **kw)


@pytest.fixture
def flagged(db, researcher, event):
    first = _save(db, researcher, event, {"thrive_helps": ["my mates", DISCLOSURE], "neglect_is": "call 07700 900123"})
    second = _save(db, researcher, event, {"thrive_helps": "youth club"}, worried=True, worried_note="seemed scared")
    return first, second


def test_queue_lists_flags_newest_first_with_original_text(db, safeguarding_lead, flagged, event):
    first, second = flagged
    items = flags.queue(db, safeguarding_lead)
    assert [i.kind for i in items] == ["manual", "auto"]
    manual, auto = items
    assert auto.text == DISCLOSURE  # the original words, not the redacted text
    assert auto.response_id == first.flags[0].response_id
    assert auto.event == "Family centre drop-in" and auto.recorded_by == "pia_researcher"
    assert auto.status == "open" and auto.created_at <= manual.created_at
    # the lead also sees the person's other answers in their original form
    assert {a.text for a in auto.answers} == {"my mates", DISCLOSURE, "call 07700 900123"}
    assert [a.text for a in auto.answers if a.flagged] == [DISCLOSURE]
    # a manual flag has no single answer: all the person's answers are its text
    assert manual.text == "youth club" and "seemed scared" in manual.reason


def test_status_change_needs_a_note_and_is_kept_in_history(db, safeguarding_lead, flagged):
    flag_id = flags.queue(db, safeguarding_lead, statuses=["open"])[-1].id
    with pytest.raises(FlagError, match="note"):
        flags.set_status(db, safeguarding_lead, flag_id, "reviewed", "  ")
    with pytest.raises(FlagError, match="reason"):
        flags.set_status(db, safeguarding_lead, flag_id, "no_further_action", "")
    with pytest.raises(FlagError, match="Unknown status"):
        flags.set_status(db, safeguarding_lead, flag_id, "deleted", "gone")
    assert flags.get(db, safeguarding_lead, flag_id).status == "open"
    flags.set_status(db, safeguarding_lead, flag_id, "reviewed", "Spoke to the event lead")
    item = flags.set_status(db, safeguarding_lead, flag_id, "referred", "Referred to the MASH, ref 123")
    assert item.status == "referred"
    history = flags.history(db, safeguarding_lead, flag_id)
    assert [(h.status, h.by) for h in history] == [("open", "pia_researcher"), ("reviewed", "sue_safeguarding"),
                                                   ("referred", "sue_safeguarding")]
    assert history[-1].note == "Referred to the MASH, ref 123"
    audits = [json.loads(r[0]) for r in db.execute(
        "SELECT detail FROM audit WHERE action = 'flag_status_changed' AND target_id = ? ORDER BY id", [flag_id])]
    assert audits == [{"before": "open", "after": "reviewed"}, {"before": "reviewed", "after": "referred"}]
    assert [i.id for i in flags.queue(db, safeguarding_lead, statuses=["open"])] != [flag_id]
    assert flags.counts(db, safeguarding_lead) == {"open": 1, "reviewed": 0, "referred": 1, "no_further_action": 0}


def test_flags_are_never_deleted(db, flagged):
    import sqlite3

    with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
        db.execute("DELETE FROM flags")
    assert db.execute("SELECT COUNT(*) FROM flags").fetchone()[0] == 2


@pytest.mark.parametrize("role_fixture", ["admin", "officer", "researcher", "lead"])
def test_only_safeguarding_leads_read_or_change_the_queue(request, db, flagged, role_fixture, safeguarding_lead):
    user = request.getfixturevalue(role_fixture)
    flag_id = flags.queue(db, safeguarding_lead)[0].id
    for call in (lambda: flags.queue(db, user), lambda: flags.get(db, user, flag_id),
                 lambda: flags.history(db, user, flag_id), lambda: flags.counts(db, user),
                 lambda: flags.open_flags_as_dicts(db, user),
                 lambda: flags.set_status(db, user, flag_id, "no_further_action", "fine")):
        with pytest.raises(PermissionDenied):
            call()
    assert flags.get(db, safeguarding_lead, flag_id).status == "open"


def test_manual_flag_on_a_saved_respondent(db, researcher, event, safeguarding_lead):
    saved = _save(db, researcher, event, {"thrive_helps": "parks"})
    flag_respondent(db, researcher, saved.respondent_id, note="went quiet")
    (item,) = flags.queue(db, safeguarding_lead)
    assert item.kind == "manual" and item.respondent_id == saved.respondent_id and item.text == "parks"


def test_cli_safeguarding_list_json(db, db_path, flagged, safeguarding_lead):
    from cli import cli

    closed = flags.queue(db, safeguarding_lead)[0].id
    flags.set_status(db, safeguarding_lead, closed, "no_further_action", "Checked with the school")
    result = CliRunner().invoke(cli, ["safeguarding", "list", "--json", "--db", str(db_path)], catch_exceptions=False)
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert isinstance(rows, list) and len(rows) == 1
    (row,) = rows
    assert {"id", "response_id", "external_id", "reason", "status", "created_at", "event", "kind"} <= set(row)
    assert row["status"] == "open" and row["kind"] == "auto" and row["event"] == "Family centre drop-in"
    assert row["response_id"] == flagged[0].flags[0].response_id
    assert DISCLOSURE not in result.output  # the list names flags; the words stay in the app
    table = CliRunner().invoke(cli, ["safeguarding", "list", "--db", str(db_path)])
    assert table.exit_code == 0 and row["id"] in table.output


def test_imported_flag_carries_its_external_id(db, db_path, officer, safeguarding_lead):
    from data.importer import import_responses

    csv = ("id,question,group,text,event\n"
           "r-1,thrive_helps,young_person,parks and the youth club,Market day\n"
           f"r-2,thrive_helps,young_person,{DISCLOSURE},Market day\n").encode()
    import_responses(db, officer.__class__(officer.username, frozenset({"admin"})), csv, "answers.csv")
    (item,) = flags.queue(db, safeguarding_lead)
    assert item.external_id == "r-2" and item.event == "Market day" and item.text == DISCLOSURE
