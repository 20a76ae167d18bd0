"""The safeguarding page under AppTest: the queue with original words, a status change with a note, the refusal
of a change without a reason, and the status filter."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import flags
from data.capture import save_respondent
from ui import session

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "safeguarding.py")
DISCLOSURE = "my dad hits me when he's drunk"


@pytest.fixture
def flagged(db, researcher, event):
    return save_respondent(db, researcher, event_id=event.id, group_id="young_person", consent=True,
                           answers={"thrive_helps": ["ring 07700 900123", DISCLOSURE]})


def _page(user) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state[session.USER_KEY] = user
    at.run()
    assert not at.exception
    return at


def test_queue_shows_original_words_event_and_researcher(flagged, safeguarding_lead):
    at = _page(safeguarding_lead)
    codes = [c.value for c in at.code]
    assert codes[0] == DISCLOSURE and "ring 07700 900123" in codes  # flagged answer first, originals unredacted
    texts = "\n".join(t.value for t in at.text)
    assert "Family centre drop-in" in texts and "pia_researcher" in texts and "Young person" in texts
    assert [m.value for m in at.metric][:1] == ["1"]


def test_status_change_with_a_note(db, flagged, safeguarding_lead):
    at = _page(safeguarding_lead)
    flag_id = flagged.flags[0].id
    at.selectbox(key=f"safeguarding_status_{flag_id}").set_value("referred")
    at.text_area(key=f"safeguarding_note_{flag_id}").input("Referred to the MASH")
    at.button(key=f"FormSubmitter:safeguarding_form_{flag_id}-Save status").click().run()
    assert not at.exception
    assert flags.get(db, safeguarding_lead, flag_id).status == "referred"
    assert any("Referred" in s.value for s in at.success)
    # the default filter (open, reviewed) no longer lists it
    assert DISCLOSURE not in [c.value for c in at.code]


def test_closing_without_a_reason_is_refused(db, flagged, safeguarding_lead):
    at = _page(safeguarding_lead)
    flag_id = flagged.flags[0].id
    at.selectbox(key=f"safeguarding_status_{flag_id}").set_value("no_further_action")
    at.button(key=f"FormSubmitter:safeguarding_form_{flag_id}-Save status").click().run()
    assert any("reason" in e.value for e in at.error)
    assert flags.get(db, safeguarding_lead, flag_id).status == "open"


def test_other_roles_are_refused_with_no_data(flagged, lead, admin):
    for user in (lead, admin):
        at = _page(user)
        assert [e.value for e in at.error] == [
            "You don't have access to this page. If you need it, ask an admin to give you the right role."]
        assert len(at.code) == 0 and len(at.text) == 0 and len(at.metric) == 0
