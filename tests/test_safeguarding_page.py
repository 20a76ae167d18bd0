"""The safeguarding page under AppTest: the queue with original words in triage order, urgency shown in words and
icons, filters, the overdue marker, "new since you last looked", a status change with a note, a refused change that
keeps the chosen status, release (and the warning when another flag still withholds the answer)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import flags, settings
from data.capture import save_respondent
from ui import session

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "safeguarding.py")
DISCLOSURE = "my dad hits me when he's drunk"
MILD = "mum always on her phone"
SELF_HARM = "i want to kill myself"
#: The release button's label as handed to Streamlit (md_escaped; it shows "Release: may be quoted"): its form key.
RELEASE = session.md_escape("Release: may be quoted")


def _save(db, user, event, answers, **kw):
    return save_respondent(db, user, event_id=event.id, group_id="young_person", consent=True, answers=answers, **kw)


def _age(db, flag_id: str, hours: float) -> None:
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).isoformat(timespec="microseconds")
    db.execute("UPDATE flags SET created_at = ?, updated_at = ? WHERE id = ?", [when, when, flag_id])


@pytest.fixture
def flagged(db, researcher, event):
    return save_respondent(db, researcher, event_id=event.id, group_id="young_person", consent=True,
                           answers={"thrive_helps": ["ring 07700 900123", DISCLOSURE]})


@pytest.fixture
def mixed(db, researcher, event):
    """A mild flag raised long ago, a self-harm one, a hit, in that order of raising (oldest first)."""
    mild = _save(db, researcher, event, {"thrive_helps": MILD}).flags[0]
    harm = _save(db, researcher, event, {"neglect_is": SELF_HARM}).flags[0]
    hit = _save(db, researcher, event, {"thrive_helps": DISCLOSURE}).flags[0]
    _age(db, mild.id, 72)
    _age(db, harm.id, 30)
    _age(db, hit.id, 2)
    return {"mild": mild, "harm": harm, "hit": hit}


def _page(user, **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state[session.USER_KEY] = user
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception
    return at


def _flagged_texts(at) -> list[str]:
    # each flag's flagged answer comes first in its container, right after the "Flagged answer" caption
    return [c.value for c in at.code]


def test_queue_shows_original_words_event_and_researcher(flagged, safeguarding_lead):
    at = _page(safeguarding_lead)
    codes = [c.value for c in at.code]
    assert codes[0] == DISCLOSURE and "ring 07700 900123" in codes  # flagged answer first, originals unredacted
    texts = "\n".join(t.value for t in at.text)
    assert "Family centre drop-in" in texts and "pia_researcher" in texts and "Young person" in texts
    assert [m.value for m in at.metric][:1] == ["1"]


def test_queue_is_in_triage_order_with_urgency_in_words(mixed, safeguarding_lead):
    at = _page(safeguarding_lead)
    assert _flagged_texts(at) == [SELF_HARM, DISCLOSURE, MILD]  # two immediate risks, oldest first; the mild one last
    alerts = [e.value for e in at.error] + [w.value for w in at.warning] + [i.value for i in at.info]
    assert any("Immediate risk" in a and "being hit or hurt" in a and "strong evidence" in a for a in alerts)
    assert any("Possible concern" in i.value and "personal account" in i.value for i in at.info)
    # the tier is said in words and has an icon, not only a colour
    assert all(e.icon for e in at.error)


def test_overdue_flags_stand_out(db, admin, mixed, safeguarding_lead):
    at = _page(safeguarding_lead)
    # the page's words are md_escaped into markdown: the same characters on screen, "\(" in the element's body
    assert any(session.md_escape("2 open flag(s) have waited more than 24 hours") in e.value for e in at.error)
    badges = [m.value for m in at.markdown if "Overdue" in m.value]
    assert len(badges) == 2 and all("more than 24 hours" in b for b in badges)
    settings.put(db, admin, flags.OVERDUE_SETTING, "1")
    at = _page(safeguarding_lead)
    assert len([m for m in at.markdown if "Overdue" in m.value]) == 3
    settings.put(db, admin, flags.OVERDUE_SETTING, "100")
    at = _page(safeguarding_lead)
    assert not [m for m in at.markdown if "Overdue" in m.value]
    assert not [e for e in at.error if "have waited" in e.value]


def test_new_since_you_last_looked(db, researcher, event, flagged, safeguarding_lead):
    at = _page(safeguarding_lead)
    assert any("not looked at this queue before" in c.value for c in at.caption)
    assert len([m for m in at.markdown if "New since you last looked" in m.value]) == 1
    seen = flags.last_seen(db, safeguarding_lead)
    assert seen is not None  # the visit is recorded
    at.run()  # a rerun in the same visit keeps the marker
    assert len([m for m in at.markdown if "New since you last looked" in m.value]) == 1
    later = _save(db, researcher, event, {"thrive_helps": SELF_HARM}).flags[0]
    at = _page(safeguarding_lead)  # a new visit: only the flag raised since the last one is new
    assert any("You last looked at" in c.value for c in at.caption)
    new = [m for m in at.markdown if "New since you last looked" in m.value]
    assert len(new) == 1
    assert flags.get(db, safeguarding_lead, later.id).created_at > seen
    at.button(key="safeguarding_mark_seen").click().run()
    assert not at.exception
    assert not [m for m in at.markdown if "New since you last looked" in m.value]


def test_filters(db, admin, researcher, mixed, safeguarding_lead):
    from data.events import create_event

    other = create_event(db, admin, name="Market day", date="2026-12-05")
    save_respondent(db, researcher, event_id=other.id, group_id="young_person", consent=True,
                    answers={"thrive_helps": "my mum leaves me home alone every night"})
    at = _page(safeguarding_lead)
    assert len(at.code) == 4
    at.selectbox(key="safeguarding_event").set_value(other.id).run()
    assert _flagged_texts(at) == ["my mum leaves me home alone every night"]
    at.selectbox(key="safeguarding_event").set_value("").run()
    at.multiselect(key="safeguarding_categories").set_value(["physical", "self_harm"]).run()
    assert _flagged_texts(at) == [SELF_HARM, DISCLOSURE]
    at.multiselect(key="safeguarding_categories").set_value([]).run()
    at = _page(safeguarding_lead, safeguarding_strengths=["possible"])
    assert _flagged_texts(at) == [MILD]
    at = _page(safeguarding_lead, safeguarding_statuses=["referred"])
    assert not at.code and any("No flags match" in i.value for i in at.info)


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


def test_closing_without_a_reason_is_refused_and_keeps_the_chosen_status(db, flagged, safeguarding_lead):
    at = _page(safeguarding_lead)
    flag_id = flagged.flags[0].id
    at.selectbox(key=f"safeguarding_status_{flag_id}").set_value("no_further_action")
    at.button(key=f"FormSubmitter:safeguarding_form_{flag_id}-Save status").click().run()
    assert not at.exception
    assert any("reason" in e.value for e in at.error)
    assert flags.get(db, safeguarding_lead, flag_id).status == "open"
    assert at.selectbox(key=f"safeguarding_status_{flag_id}").value == "no_further_action"
    # typing the reason now and saving again works without choosing the status a second time
    at.text_area(key=f"safeguarding_note_{flag_id}").input("Known to the school")
    at.button(key=f"FormSubmitter:safeguarding_form_{flag_id}-Save status").click().run()
    assert flags.get(db, safeguarding_lead, flag_id).status == "no_further_action"
    assert not any("reason" in e.value for e in at.error)


def test_release_from_the_page(db, flagged, safeguarding_lead):
    at = _page(safeguarding_lead)
    flag_id = flagged.flags[0].id
    submit = f"FormSubmitter:safeguarding_release_form_{flag_id}-{RELEASE}"
    at.button(key=submit).click().run()
    assert any("reason" in e.value for e in at.error)  # a note is required
    assert flags.get(db, safeguarding_lead, flag_id).released_at is None
    at.text_area(key=f"safeguarding_release_note_{flag_id}").input("Quote agreed with the family worker")
    at.button(key=submit).click().run()
    assert not at.exception
    item = flags.get(db, safeguarding_lead, flag_id)
    assert item.released and item.status == "no_further_action"
    assert any("may now be quoted" in s.value for s in at.success)
    at = _page(safeguarding_lead, safeguarding_statuses=["no_further_action"])
    assert any(session.md_escape("Released: may be quoted") in m.value for m in at.markdown)
    assert any("Released by sue_safeguarding" in t.value for t in at.text)


def test_release_says_when_another_flag_still_withholds(db, researcher, event, safeguarding_lead):
    saved = _save(db, researcher, event, {"thrive_helps": DISCLOSURE}, worried=True, worried_note="bruises")
    auto = next(f for f in saved.flags if f.kind == "auto")
    at = _page(safeguarding_lead)
    assert any("releasing this one alone will not make it quotable" in c.value for c in at.caption)
    at.text_area(key=f"safeguarding_release_note_{auto.id}").input("Fine to quote")
    at.button(key=f"FormSubmitter:safeguarding_release_form_{auto.id}-{RELEASE}").click().run()
    assert not at.exception
    assert any("still withhold this answer" in s.value for s in at.success)
    at = _page(safeguarding_lead, safeguarding_statuses=list(flags.STATUSES))
    assert any("Another flag still withholds this answer" in w.value for w in at.warning)


def test_other_roles_are_refused_with_no_data(flagged, lead, admin):
    for user in (lead, admin):
        at = _page(user)
        assert [e.value for e in at.error] == [
            "You don't have access to this page. If you need it, ask an admin to give you the right role."]
        assert len(at.code) == 0 and len(at.text) == 0 and len(at.metric) == 0


def test_home_tells_the_lead_how_many_flags_are_open_and_overdue(db, mixed, safeguarding_lead, lead):
    home = str(Path(PAGE).parent / "home.py")
    at = AppTest.from_file(home, default_timeout=30)
    at.session_state[session.USER_KEY] = safeguarding_lead
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == ["3 safeguarding flag(s) are open and waiting for you, 2 of them overdue."]
    at = AppTest.from_file(home, default_timeout=30)
    at.session_state[session.USER_KEY] = lead
    at.run()
    assert not at.exception and not at.warning  # no flag numbers for anyone else
