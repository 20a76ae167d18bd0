"""Retention: original texts older than the configured period are replaced by their redacted text (audited);
answers under an open safeguarding flag wait; `cli.py retention apply`."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from data import flags, retention, settings
from data.capture import save_respondent
from data.users import PermissionDenied

LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=800)
PHONE = "ring my mum on 07700 900123"
DISCLOSURE = "my dad hits me when he's drunk"


@pytest.fixture
def answers(db, researcher, event):
    plain = save_respondent(db, researcher, event_id=event.id, group_id="parent_carer", consent=True,
                            answers={"thrive_helps": PHONE})
    flagged = save_respondent(db, researcher, event_id=event.id, group_id="young_person", consent=True,
                              answers={"thrive_helps": DISCLOSURE})
    return plain, flagged


def _text(db, respondent_id):
    return db.execute("SELECT text, redacted_text, text_purged_at FROM responses WHERE respondent_id = ?",
                      [respondent_id]).fetchone()


def test_nothing_is_due_before_the_period(db, admin, answers):
    status = retention.status(db, admin)
    assert status.days == 730 and status.due == 0
    assert retention.apply(db, admin) == 0
    assert _text(db, answers[0].respondent_id)[0] == PHONE


def test_old_originals_are_purged_and_open_flags_hold_theirs(db, admin, answers, safeguarding_lead):
    plain, flagged = answers
    status = retention.status(db, admin, now=LATER)
    assert (status.due, status.held) == (1, 1)
    assert retention.apply(db, admin, now=LATER) == 1
    text, redacted, purged_at = _text(db, plain.respondent_id)
    assert text == redacted and "07700" not in text and purged_at
    assert _text(db, flagged.respondent_id)[0] == DISCLOSURE  # open flag: kept for the safeguarding lead
    # once the flag is dealt with, its answer is purged too
    flags.set_status(db, safeguarding_lead, flagged.flags[0].id, "no_further_action", "Known to social care")
    assert retention.apply(db, admin, now=LATER) == 1
    text, redacted, _ = _text(db, flagged.respondent_id)
    assert text == redacted
    assert retention.apply(db, admin, now=LATER) == 0  # idempotent
    details = [json.loads(r[0]) for r in db.execute("SELECT detail FROM audit WHERE action = 'retention_applied'")]
    assert [d["purged"] for d in details] == [1, 1, 0]
    assert retention.status(db, admin, now=LATER).purged == 2


def test_retention_period_is_an_admin_setting_and_zero_keeps_originals(db, admin, answers):
    settings.put(db, admin, "retention_days", "0")
    assert retention.apply(db, admin, now=LATER) == 0
    assert _text(db, answers[0].respondent_id)[0] == PHONE
    with pytest.raises(settings.SettingError):
        settings.put(db, admin, "retention_days", "-3")
    with pytest.raises(settings.SettingError):
        settings.put(db, admin, "retention_days", "soon")
    settings.put(db, admin, "retention_days", "30")
    assert retention.apply(db, admin, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=31)) == 1


def test_retention_days_default_comes_from_the_environment(db, admin, monkeypatch):
    monkeypatch.setitem(settings.DEFAULTS, "retention_days", "90")  # as config reads THRIVE_RETENTION_DAYS at start
    assert retention.status(db, admin).days == 90


@pytest.mark.parametrize("role_fixture", ["officer", "researcher", "lead", "safeguarding_lead"])
def test_only_admins_apply_retention(request, db, answers, role_fixture):
    user = request.getfixturevalue(role_fixture)
    with pytest.raises(PermissionDenied):
        retention.apply(db, user, now=LATER)
    assert _text(db, answers[0].respondent_id)[0] == PHONE


def test_cli_retention(db, db_path, admin, answers):
    from cli import cli

    runner = CliRunner()
    status = runner.invoke(cli, ["retention", "status", "--db", str(db_path)], catch_exceptions=False)
    assert status.exit_code == 0 and "730 days" in status.output and "Due: 0" in status.output
    settings.put(db, admin, "retention_days", "1")
    db.execute("UPDATE responses SET created_at = '2020-01-01T00:00:00+00:00'")
    db.conn.commit()
    result = runner.invoke(cli, ["retention", "apply", "--db", str(db_path)], catch_exceptions=False)
    assert result.exit_code == 0 and "Purged the original text of 1 answer" in result.output
    assert "1 kept while" in result.output
    assert _text(db, answers[0].respondent_id)[0] != PHONE
