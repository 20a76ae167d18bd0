"""The Events page under AppTest: create, list with counts, close and reopen; refused without the role."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import capture
from data.events import area_languages, get_event

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "events.py")


def page(user):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = user
    at.run()
    assert not at.exception, at.exception
    return at


def test_create_event(db, officer):
    at = page(officer)
    at.text_input(key="events_name").input("Summer fair")
    at.date_input(key="events_date").set_value(dt.date(2026, 7, 4))
    at.text_input(key="events_venue").input("Mary Stevens Park")
    next(b for b in at.button if b.label == "Create event").click().run()
    assert not at.exception
    rows = db.execute("SELECT name, date, venue, status, question_set_id FROM events").fetchall()
    assert rows == [("Summer fair", "2026-07-04", "Mary Stevens Park", "open", "thrive@1")]
    assert any("Created" in s.value for s in at.success)
    assert list(at.dataframe[0].value["Event"]) == ["Summer fair"]


def test_create_without_name_is_refused(db, officer):
    at = page(officer)
    next(b for b in at.button if b.label == "Create event").click().run()
    assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    assert any("name" in e.value for e in at.error)


def test_list_shows_counts(db, officer, researcher, event):
    capture.save_respondent(db, researcher, event_id=event.id, group_id="resident", consent=True,
                            answers={"thrive_helps": ["Parks", "Libraries"]})
    at = page(officer)
    table = at.dataframe[0].value
    row = table[table["Event"] == event.name].iloc[0]
    assert (row["People"], row["Answers"], row["Status"]) == (1, 2, "open")


def test_close_and_reopen(db, officer, event):
    at = page(officer)
    at.button(key="events_close").click().run()
    assert get_event(db, event.id).status == "closed"
    assert at.dataframe[0].value["Status"].tolist() == ["closed"]
    at.button(key="events_reopen").click().run()
    assert get_event(db, event.id).status == "open"


def test_peer_researcher_cannot_manage_events(db, researcher, event):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = researcher
    at.run()
    assert not at.dataframe and not at.button
    assert any("don't have access" in e.value for e in at.error)


def test_event_names_are_shown_as_typed_not_as_markup(db, officer):
    at = page(officer)
    at.text_input(key="events_name").input("**Big** [fair](http://example.com) <b>x</b>")
    next(b for b in at.button if b.label == "Create event").click().run()
    message = next(s.value for s in at.success if "Created" in s.value)
    assert "\\*\\*Big\\*\\*" in message and "\\[fair\\]" in message and "\\<b\\>" in message
    assert db.execute("SELECT name FROM events").fetchone()[0] == "**Big** [fair](http://example.com) <b>x</b>"


def _create(at, name="Summer fair", date=dt.date(2026, 7, 4)):
    at.text_input(key="events_name").input(name)
    at.date_input(key="events_date").set_value(date)
    return at


def _tap_create(at):
    next(b for b in at.button if b.label == "Create event").click().run()
    assert not at.exception, at.exception
    return at


def test_double_tap_on_create_event_creates_one(db, officer):
    at = _tap_create(_create(page(officer)))
    _tap_create(at)  # the second tap lands on the cleared form
    assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
    assert not at.error, [e.value for e in at.error]
    assert any("Created" in s.value for s in at.success)


def test_second_tap_with_the_same_values_resent_creates_one(db, officer):
    at = _tap_create(_create(page(officer)))
    _tap_create(_create(at, name="summer  FAIR"))  # the browser resent the old form
    assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
    assert not at.error and any("Created" in s.value for s in at.success)


def test_a_duplicate_of_an_open_event_from_another_session_is_refused_with_a_clear_message(db, officer, admin):
    from data.events import close_event, create_event

    first = create_event(db, admin, name="Summer fair", date="2026-07-04")
    at = _tap_create(_create(page(officer), name=" Summer Fair "))
    assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
    assert any("already an open event called “Summer fair”" in e.value for e in at.error)
    assert at.text_input(key="events_name").value == " Summer Fair "  # kept, to be changed
    # another date, or another name, is a different event
    _tap_create(_create(at, name="Summer fair", date=dt.date(2026, 7, 5)))
    _tap_create(_create(page(officer), name="Summer fair (afternoon)"))
    assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 3
    # once the first one is closed, its name and date may be used again ...
    close_event(db, admin, first.id)
    _tap_create(_create(page(officer)))
    assert db.execute("SELECT COUNT(*) FROM events WHERE name = 'Summer fair' AND date = '2026-07-04'").fetchone()[0] == 2
    # ... and then the closed one cannot be reopened beside its twin
    at = page(officer)
    at.selectbox(key="events_chosen").set_value(first.id).run()
    at.button(key="events_reopen").click().run()
    assert not at.exception, at.exception
    assert get_event(db, first.id).status == "closed"
    assert any("already an open event" in e.value for e in at.error)


URDU_AREA = "ڈڈلی"
COLLECT = str(ROOT / "pages" / "collect.py")


def _collect_label(researcher, event_id: str, language: str) -> str:
    """The label of question 4 on the Collect page in `language`."""
    at = AppTest.from_file(COLLECT, default_timeout=30)
    at.session_state["auth_user"] = researcher
    at.session_state["collect_event_id"] = event_id
    at.session_state["collect_language"] = language
    at.run()
    assert not at.exception, at.exception
    return at.text_area(key="collect_answer_thrive_local").label


def test_create_event_with_the_area_named_in_urdu_and_the_urdu_capture_page_says_it(db, officer, researcher):
    at = _create(page(officer))
    at.text_input(key="events_area").input("Dudley")
    at.text_input(key="events_area_ur").input(f"  {URDU_AREA} ")
    _tap_create(at)
    event_id = db.execute("SELECT id FROM events").fetchone()[0]
    assert area_languages(db, event_id) == {"ur": URDU_AREA}
    assert at.text_input(key="events_area_ur").value == ""  # the form is cleared for the next event
    urdu = _collect_label(researcher, event_id, "ur")
    assert URDU_AREA in urdu and "Dudley" not in urdu and "thrive" not in urdu
    english = _collect_label(researcher, event_id, "en")
    assert "Dudley" in english and URDU_AREA not in english


def test_the_area_name_per_language_is_edited_and_removed(db, officer, researcher, event):
    at = page(officer)
    field = at.text_input(key=f"events_area_{event.id}_ur")
    assert field.value == "" and field.label == "Area in question 4 in اردو, optional"  # no escapes in its name
    field.input(URDU_AREA)
    at.button(key="events_area_save").click().run()
    assert not at.exception, at.exception
    assert area_languages(db, event.id) == {"ur": URDU_AREA}
    assert any("Saved the area names" in s.value for s in at.success)
    assert URDU_AREA in _collect_label(researcher, event.id, "ur")

    at = page(officer)  # a fresh visit shows the stored name, and emptying it removes it
    assert at.text_input(key=f"events_area_{event.id}_ur").value == URDU_AREA
    at.text_input(key=f"events_area_{event.id}_ur").input("")
    at.button(key="events_area_save").click().run()
    assert area_languages(db, event.id) == {}
    assert URDU_AREA not in _collect_label(researcher, event.id, "ur")


def test_an_area_name_is_limited_to_what_the_core_accepts(db, officer, event):
    from data.events import EventError, set_area_languages

    at = page(officer)  # the boxes stop at 100 characters, the core's limit ...
    assert at.text_input(key=f"events_area_{event.id}_ur").max_chars == 100
    assert at.text_input(key="events_area_ur").max_chars == 100
    with pytest.raises(EventError, match="too long"):  # ... which refuses a longer name, storing nothing
        set_area_languages(db, officer, event.id, {"ur": "ا" * 101})
    assert area_languages(db, event.id) == {}


def test_area_names_are_shown_as_typed_not_as_markup(db, officer, admin):
    from data.events import create_event

    create_event(db, admin, name="Fair", date="2026-07-04", area="**Dudley** [x](http://example.com)")
    at = page(officer)
    caption = next(c.value for c in at.caption if "Question 4 names the area" in c.value)
    assert "\\*\\*Dudley\\*\\*" in caption and "\\[x\\]" in caption
