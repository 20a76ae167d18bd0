"""Drafts (data/drafts.py, ui/collect_draft.py): the Collect form kept server-side per user, device and event;
restored on the first run of a new session, cleared by Save or Clear, purged by erasure and retention, never
readable by another user or device."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import drafts, retention, sessions, settings
from data.events import close_event, create_event
from data.users import PermissionDenied, User

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "collect.py")
FORM = {"collect_group": "young_person", "collect_answer_thrive_helps": "Youth club on Fri"}


def test_drafts_are_per_user_device_and_event(db, researcher, officer, event, admin):
    other_event = create_event(db, admin, name="Library pop-up", date="2026-11-21")
    assert drafts.save_draft(db, researcher, "tablet-1", event.id, FORM)
    assert drafts.load_draft(db, researcher, "tablet-1", event.id) == FORM
    # nobody else, no other device, no other event sees it
    assert drafts.load_draft(db, officer, "tablet-1", event.id) is None
    assert drafts.load_draft(db, admin, "tablet-1", event.id) is None
    assert drafts.load_draft(db, researcher, "tablet-2", event.id) is None
    assert drafts.load_draft(db, researcher, "tablet-1", other_event.id) is None
    drafts.save_draft(db, officer, "tablet-1", event.id, {"collect_group": "parent"})
    assert drafts.load_draft(db, researcher, "tablet-1", event.id) == FORM
    assert drafts.latest_event(db, researcher, "tablet-1") == event.id
    assert drafts.latest_event(db, researcher, "tablet-2") is None


def test_an_identical_save_writes_nothing_and_a_change_replaces(db, researcher, event):
    assert drafts.save_draft(db, researcher, "d", event.id, FORM)
    assert not drafts.save_draft(db, researcher, "d", event.id, dict(FORM))
    changed = {**FORM, "collect_answer_thrive_helps": "Youth club on Fridays"}
    assert drafts.save_draft(db, researcher, "d", event.id, changed)
    assert drafts.load_draft(db, researcher, "d", event.id) == changed
    assert db.execute("SELECT COUNT(*) FROM drafts").fetchone()[0] == 1
    assert drafts.clear_draft(db, researcher, "d", event.id)
    assert not drafts.clear_draft(db, researcher, "d", event.id)
    assert drafts.load_draft(db, researcher, "d", event.id) is None


def test_erasure_purges_drafts_by_user_or_event(db, admin, researcher, officer, event):
    from data import erasure

    other = create_event(db, admin, name="Library pop-up", date="2026-11-21")
    drafts.save_draft(db, researcher, "d", event.id, FORM)
    drafts.save_draft(db, researcher, "d", other.id, FORM)
    drafts.save_draft(db, officer, "e", event.id, FORM)
    with pytest.raises(PermissionDenied):
        drafts.purge(db, officer, username="pia_researcher")
    with pytest.raises(ValueError):
        drafts.purge(db, admin)
    assert drafts.purge(db, admin, event_id=other.id, reason="event withdrawn") == 1
    assert drafts.load_draft(db, researcher, "d", event.id) == FORM
    assert erasure.erase_drafts(db, admin, username=researcher.username, reason="asked") == 1
    assert drafts.load_draft(db, officer, "e", event.id) == FORM
    detail = db.execute("SELECT detail FROM audit WHERE action = 'drafts_erased' ORDER BY id").fetchall()
    assert len(detail) == 2 and "Youth club" not in str(detail)


def test_retention_apply_deletes_old_drafts_even_when_originals_are_kept(db, admin, researcher, event):
    drafts.save_draft(db, researcher, "old", event.id, FORM)
    drafts.save_draft(db, researcher, "new", event.id, FORM)
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=drafts.DRAFT_MAX_HOURS + 1)).isoformat()
    db.execute("UPDATE drafts SET updated_at = ? WHERE device = 'old'", [long_ago])
    settings.put(db, admin, "retention_days", "0")  # originals kept for ever
    assert retention.apply(db, admin) == 0
    assert drafts.load_draft(db, researcher, "old", event.id) is None
    assert drafts.load_draft(db, researcher, "new", event.id) == FORM
    row = db.execute("SELECT detail FROM audit WHERE action = 'drafts_expired'").fetchone()
    assert row is not None and '"deleted": 1' in row[0]


# --- the Collect page ---------------------------------------------------------------------------------------------

def _page(researcher: User, session_id: str, **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = researcher
    at.session_state["auth_session_id"] = session_id
    for key, value in state.items():
        at.session_state[key] = value
    return at


@pytest.fixture
def device(db, researcher):
    return sessions.start(db, researcher.username)[1].id


def _type_half_a_form(at):
    at.pills(key="collect_group").set_value("young_person")
    at.checkbox(key="collect_consent").set_value(True)
    at.text_area(key="collect_answer_thrive_helps").input("Youth club on Fridays").run()
    assert not at.exception, at.exception


def test_the_form_is_kept_as_typed_and_comes_back_in_a_new_session(db, researcher, event, device):
    at = _page(researcher, device, collect_event_id=event.id)
    at.run()
    assert drafts.load_draft(db, researcher, device, event.id) is None  # an empty form is not kept
    _type_half_a_form(at)
    kept = drafts.load_draft(db, researcher, device, event.id)
    assert kept["collect_answer_thrive_helps"] == "Youth club on Fridays" and kept["collect_consent"] is True
    # a reload: a new Streamlit session with only the sign-in restored, not even the event
    again = _page(researcher, device)
    again.run()
    assert not again.exception, again.exception
    assert again.session_state["collect_event_id"] == event.id
    assert again.text_area(key="collect_answer_thrive_helps").value == "Youth club on Fridays"
    assert again.pills(key="collect_group").value == "young_person"
    assert again.checkbox(key="collect_consent").value is True
    # another device of the same user, or another user on this device, gets nothing
    elsewhere = _page(researcher, sessions.start(db, researcher.username)[1].id)
    elsewhere.run()
    assert elsewhere.session_state["collect_event_id"] is None
    stranger = _page(User("olu", frozenset({"engagement_officer"})), device)
    stranger.run()
    assert stranger.session_state["collect_event_id"] is None
    # Save stores one respondent and the draft goes
    again.button(key="collect_save").click().run()
    assert not again.exception, again.exception
    assert db.execute("SELECT COUNT(*) FROM respondents").fetchone()[0] == 1
    assert db.execute("SELECT text FROM responses").fetchall() == [("Youth club on Fridays",)]
    assert drafts.load_draft(db, researcher, device, event.id) is None
    assert again.text_area(key="collect_answer_thrive_helps").value == ""


def test_clear_deletes_the_draft(db, researcher, event, device):
    at = _page(researcher, device, collect_event_id=event.id)
    at.run()
    _type_half_a_form(at)
    assert drafts.load_draft(db, researcher, device, event.id) is not None
    at.button(key="collect_clear").click().run()
    assert not at.exception
    assert drafts.load_draft(db, researcher, device, event.id) is None
    again = _page(researcher, device)
    again.run()  # the same event's empty form (the sign-in session remembers the event), with nothing in it
    assert again.session_state["collect_event_id"] == event.id
    assert again.text_area(key="collect_answer_thrive_helps").value == ""
    assert again.checkbox(key="collect_consent").value is False


def test_a_draft_for_a_closed_event_is_not_reopened(db, admin, researcher, event, device):
    at = _page(researcher, device, collect_event_id=event.id)
    at.run()
    _type_half_a_form(at)
    close_event(db, admin, event.id)
    again = _page(researcher, device)
    again.run()
    assert not again.exception
    assert again.session_state["collect_event_id"] is None


def test_signing_out_or_revoking_the_session_deletes_its_drafts(db, admin, researcher, event, device):
    drafts.save_draft(db, researcher, device, event.id, FORM)
    sessions.revoke(db, researcher.username, device, why="signed out")
    assert drafts.load_draft(db, researcher, device, event.id) is None


def test_without_a_sign_in_session_nothing_is_kept(db, researcher, event):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = researcher
    at.session_state["collect_event_id"] = event.id
    at.run()
    _type_half_a_form(at)
    assert db.execute("SELECT COUNT(*) FROM drafts").fetchone()[0] == 0


def test_the_chosen_event_is_remembered_per_user_and_live_session_only(db, researcher, event, device):
    at = _page(researcher, device, collect_event_id=event.id)
    at.run()
    assert sessions.capture_event(db, device, researcher.username) == event.id
    assert sessions.capture_event(db, device, "olu") is None  # another user's name on this session: nothing
    assert not sessions.set_capture_event(db, device, "olu", event.id)
    at.button(key="collect_change_event").click().run()  # back at the chooser: forgotten
    assert not at.exception, at.exception
    assert sessions.capture_event(db, device, researcher.username) is None
    again = _page(researcher, device)
    again.run()
    assert again.session_state["collect_event_id"] is None
    sessions.set_capture_event(db, device, researcher.username, event.id)
    sessions.revoke(db, researcher, device, why="signed out")
    assert sessions.capture_event(db, device, researcher.username) is None  # an ended session remembers nothing
    assert not sessions.set_capture_event(db, device, researcher.username, event.id)
