"""The Collect page under AppTest: save, double save, consent missing, failed save keeps input, worried flag."""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import config
from data import capture, settings
from data.events import close_event, create_event
from surveys import bundled, load_question_set

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "collect.py")


def count(db, sql: str, params=()) -> int:
    return db.execute(sql, list(params)).fetchone()[0]


@pytest.fixture
def app(db, researcher, event):
    """The Collect page signed in as a peer researcher, with the fixture event already chosen."""
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = researcher
    at.session_state["collect_event_id"] = event.id
    at.run()
    assert not at.exception, at.exception
    return at


def fill(at, *, group="young_person", consent=True, answers=None):
    answers = {"thrive_helps": "Youth club on Fridays\nA trusted adult", "neglect_is": "No one checking you ate"} \
        if answers is None else answers
    if group is not None:
        at.pills(key="collect_group").set_value(group)
    at.checkbox(key="collect_consent").set_value(consent)
    for question_id, text in answers.items():
        at.text_area(key=f"collect_answer_{question_id}").input(text)
    return at


def shown(at) -> str:
    """Every text on the page, markdown escapes removed (labels and catalogue texts go through md_escape)."""
    parts = [e.value for kind in (at.markdown, at.error, at.warning, at.info, at.success, at.caption) for e in kind]
    return re.sub(r"\\(.)", r"\1", " ".join(parts))


def save(at):
    at.button(key="collect_save").click().run()
    assert not at.exception, at.exception
    return at


def test_choose_event_lists_only_open_events(db, admin, researcher, event):
    closed = create_event(db, admin, name="Closed summer fair", date="2026-07-01")
    close_event(db, admin, closed.id)
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = researcher
    at.run()
    box = at.selectbox(key="collect_event_choice")
    assert list(box.options) == [event.title]
    at.button(key="collect_start").click().run()
    assert at.session_state["collect_event_id"] == event.id
    assert at.text_area(key="collect_answer_thrive_helps") is not None


def test_save_stores_respondent_and_answers_and_resets_the_form(app, db, event):
    save(fill(app))
    row = db.execute("SELECT id, group_id, consent, source, recorded_by FROM respondents").fetchall()
    assert len(row) == 1
    assert row[0][1:] == ("young_person", 1, "tablet", "pia_researcher")
    texts = db.execute("SELECT question_id, position, text FROM responses ORDER BY question_id, position").fetchall()
    assert texts == [("neglect_is", 0, "No one checking you ate"), ("thrive_helps", 0, "Youth club on Fridays"),
                     ("thrive_helps", 1, "A trusted adult")]
    # confirmation with today's count, and an empty form for the next person
    assert any("Saved" in s.value and "1 person at this event today" in s.value.replace("*", "") for s in app.success)
    assert app.text_area(key="collect_answer_thrive_helps").value == ""
    assert app.checkbox(key="collect_consent").value is False
    assert app.pills(key="collect_group").value is None
    assert not app.error


def test_second_respondent_gets_a_new_token_and_count_two(app, db):
    save(fill(app))
    save(fill(app, group="parent_carer", answers={"thrive_stops": "Money worries"}))
    assert count(db, "SELECT COUNT(*) FROM respondents") == 2
    assert count(db, "SELECT COUNT(DISTINCT submission_token) FROM respondents") == 2
    assert any("2 people at this event today" in s.value.replace("*", "") for s in app.success)


def test_double_tap_on_save_stores_one_respondent(app, db):
    fill(app)
    app.button(key="collect_save").click().run()
    app.button(key="collect_save").click().run()  # the second tap lands on the cleared form
    assert not app.exception
    assert count(db, "SELECT COUNT(*) FROM respondents") == 1
    assert count(db, "SELECT COUNT(*) FROM responses") == 3
    assert not app.error, [e.value for e in app.error]
    assert any("Saved" in s.value for s in app.success)  # the confirmation stays


def test_second_tap_processed_late_on_a_busy_laptop_keeps_the_confirmation(app, db):
    """The first save's rerun took longer than the double-tap window: the cleared form is not "nothing to save"."""
    fill(app)
    app.button(key="collect_save").click().run()
    app.session_state["collect_last"] = {**app.session_state["collect_last"], "at": time.time() - 20}
    app.button(key="collect_save").click().run()
    assert not app.error, [e.value for e in app.error]
    assert any("Saved" in s.value for s in app.success)
    assert count(db, "SELECT COUNT(*) FROM respondents") == 1


def test_an_empty_save_long_after_the_last_one_says_so(app, db):
    save(fill(app))
    app.session_state["collect_last"] = {**app.session_state["collect_last"], "at": time.time() - 120}
    save(app)
    assert any("Nothing to save yet" in e.value for e in app.error)


def test_double_tap_with_the_old_form_resent_stores_one_respondent(app, db):
    """A browser that has not yet received the cleared form sends the same answers again with the second tap."""
    save(fill(app))
    save(fill(app))
    assert count(db, "SELECT COUNT(*) FROM respondents") == 1
    assert app.text_area(key="collect_answer_thrive_helps").value == ""
    assert any("second tap on Save was ignored" in i.value for i in app.info)


def test_identical_answers_from_the_next_person_later_are_stored(app, db, monkeypatch):
    """Only a repeat within a few seconds counts as a double tap; the next person may say the same thing."""
    save(fill(app))
    app.session_state["collect_last"] = {**app.session_state["collect_last"], "at": time.time() - 60}
    save(fill(app))
    assert count(db, "SELECT COUNT(*) FROM respondents") == 2


def test_profile_is_stored(app, db):
    fill(app)
    app.pills(key="collect_profile_age_band").set_value("age_14_17")
    app.text_input(key="collect_profile_ward").input("Brierley Hill")
    save(app)
    assert json.loads(db.execute("SELECT profile FROM respondents").fetchone()[0]) == {
        "age_band": "age_14_17", "ward": "Brierley Hill"}


def test_same_token_saved_twice_stores_once_in_the_core(app, db, monkeypatch):
    """Even when the page's own check is bypassed, the submission token makes the core store one respondent."""
    token = app.session_state["collect_token"]
    save(fill(app))
    app.session_state["collect_token"] = token
    app.session_state["collect_last"] = None
    save(fill(app))
    assert count(db, "SELECT COUNT(*) FROM respondents") == 1


def test_consent_missing_shows_error_stores_nothing_and_keeps_text(app, db):
    save(fill(app, consent=False))
    assert count(db, "SELECT COUNT(*) FROM respondents") == 0
    assert count(db, "SELECT COUNT(*) FROM responses") == 0
    assert any("consent" in e.value.lower() for e in app.error)
    assert app.text_area(key="collect_answer_thrive_helps").value == "Youth club on Fridays\nA trusted adult"
    assert app.pills(key="collect_group").value == "young_person"
    # ticking consent and saving again works, with what was typed
    app.checkbox(key="collect_consent").check()
    save(app)
    assert count(db, "SELECT COUNT(*) FROM responses") == 3
    assert not app.error


def test_missing_group_says_so(app, db):
    save(fill(app, group=None))
    assert count(db, "SELECT COUNT(*) FROM respondents") == 0
    assert any("group" in e.value.lower() for e in app.error)


def test_failed_save_keeps_everything_typed(app, db, monkeypatch):
    real_save = capture.save_respondent

    def locked(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(capture, "save_respondent", locked)
    save(fill(app))
    assert any("could not be saved" in e.value and "still here" in e.value for e in app.error)
    assert "database is locked" not in " ".join(e.value for e in app.error)  # detail goes to the log
    assert app.text_area(key="collect_answer_thrive_helps").value == "Youth club on Fridays\nA trusted adult"
    assert app.text_area(key="collect_answer_neglect_is").value == "No one checking you ate"
    assert app.checkbox(key="collect_consent").value is True
    assert not app.success
    monkeypatch.setattr(capture, "save_respondent", real_save)  # (undo() would also drop THRIVE_DB)
    save(app)  # the retry stores what was kept
    assert count(db, "SELECT COUNT(*) FROM responses") == 3


def test_really_locked_database_keeps_everything_typed(app, db, monkeypatch):
    """Another writer holds the database past the busy timeout: the save fails in plain words, input stays."""
    monkeypatch.setattr(config, "BUSY_TIMEOUT_MS", 200)
    fill(app)
    db.execute("BEGIN IMMEDIATE")  # this test's own connection takes the write lock and keeps it
    try:
        save(app)
    finally:
        db.execute("ROLLBACK")
    assert any("could not be saved" in e.value for e in app.error)
    assert app.text_area(key="collect_answer_thrive_helps").value == "Youth club on Fridays\nA trusted adult"
    assert count(db, "SELECT COUNT(*) FROM respondents") == 0
    save(app)  # once the lock is gone, the same tap works
    assert count(db, "SELECT COUNT(*) FROM responses") == 3


def test_event_closed_between_render_and_save_keeps_input(app, db, admin, event):
    fill(app)
    close_event(db, admin, event.id)
    save(app)
    assert count(db, "SELECT COUNT(*) FROM respondents") == 0
    assert any("has been closed" in w.value for w in app.warning)
    # choosing another open event brings back the form with everything typed, and it saves there
    other = create_event(db, admin, name="Library stall", date="2026-11-21")
    app.run()
    app.selectbox(key="collect_event_choice").set_value(other.id)
    app.button(key="collect_start").click().run()
    assert app.text_area(key="collect_answer_thrive_helps").value == "Youth club on Fridays\nA trusted adult"
    save(app)
    assert db.execute("SELECT event_id FROM respondents").fetchall() == [(other.id,)]


def test_worried_after_save_flags_that_respondent_and_shows_procedure(app, db, admin):
    settings.put(db, admin, "safeguarding_procedure", "Call Jo on 01384 000000.\nDo not promise secrecy.")
    save(fill(app))
    respondent_id = db.execute("SELECT id FROM respondents").fetchone()[0]
    app.button(key="collect_worry").click().run()
    flags = db.execute("SELECT kind, respondent_id, status FROM flags").fetchall()
    assert flags == [("manual", respondent_id, "open")]
    text = shown(app)
    assert "Call Jo on 01384 000000" in text and "Do not promise secrecy" in text
    # the guidance is a red alert at the top, with the number as a tap-to-call button built by the app
    assert any("Call Jo on 01384 000000" in e.value.replace("\\", "") for e in app.error)
    assert [b.proto.url for b in app.get("link_button")] == ["tel:+441384000000"]


def test_worried_long_after_the_last_save_flags_the_event_not_that_respondent(app, db, event):
    save(fill(app))
    app.session_state["collect_last"] = {**app.session_state["collect_last"], "at": time.time() - 3600}
    app.button(key="collect_worry").click().run()
    assert db.execute("SELECT kind, event_id, respondent_id FROM flags").fetchall() == [("manual", event.id, None)]


def test_worried_while_filling_flags_on_save(app, db):
    fill(app)
    app.button(key="collect_worry").click().run()
    assert count(db, "SELECT COUNT(*) FROM flags") == 0  # not yet: it goes with the respondent
    assert "Stay calm and listen" in shown(app)  # guidance shows at once
    app.text_input(key="collect_worry_note").input("Said they sleep at a friend's most nights")
    save(app)
    rows = db.execute("SELECT f.kind, f.reason, r.group_id FROM flags f JOIN respondents r ON r.id = f.respondent_id"
                      ).fetchall()
    assert len(rows) == 1 and rows[0][0] == "manual" and "sleep at a friend" in rows[0][1]


def test_worried_without_saving_raises_event_flag(app, db, event):
    fill(app, consent=False)
    app.button(key="collect_worry").click().run()
    app.button(key="collect_flag_now").click().run()
    assert db.execute("SELECT kind, event_id, respondent_id FROM flags").fetchall() == [("manual", event.id, None)]
    assert count(db, "SELECT COUNT(*) FROM respondents") == 0


def test_possible_disclosure_flags_automatically_and_shows_guidance(app, db):
    save(fill(app, answers={"thrive_stops": "my dad hits me when he is drunk"}))
    assert db.execute("SELECT kind FROM flags").fetchall() == [("auto",)]
    text = shown(app)
    assert "safeguarding" in text.lower() and "Stay calm and listen" in text


def test_text_is_stored_exactly_and_shown_as_text(app, db):
    hostile = "=HYPERLINK(\"http://x\")\n<script>alert(1)</script> **bold** 😀\nبچوں کو محبت"
    save(fill(app, answers={"thrive_helps": hostile}))
    texts = [r[0] for r in db.execute("SELECT text FROM responses ORDER BY position")]
    assert texts == hostile.split("\n")


def test_urdu_labels_and_language_is_stored(app, db):
    app.segmented_control(key="collect_language").set_value("ur").run()
    assert "بچوں اور نوجوانوں" in app.text_area(key="collect_answer_thrive_helps").label
    save(fill(app))
    assert db.execute("SELECT language FROM respondents").fetchone()[0] == "ur"


def test_counts_visible(app, db):
    save(fill(app))
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["People today"] == "1"
    assert metrics["Answers at this event"] == "3"


def test_page_refused_without_collect_role(db, lead, event):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = lead
    at.run()
    assert not at.text_area
    assert any("don't have access" in e.value for e in at.error)


def test_choice_questions_of_another_question_set(db, admin, researcher):
    definition = copy.deepcopy(bundled("thrive").definition)
    definition["key"] = "thrive_choice"
    definition["questions"].append({
        "id": "heard_of_early_help", "type": "single_choice",
        "label": {"en": "Have you heard of Early Help?", "ur": "کیا آپ نے ارلی ہیلپ کے بارے میں سنا ہے؟"},
        "options": [{"id": "yes", "label": {"en": "Yes", "ur": "ہاں"}}, {"id": "no", "label": {"en": "No", "ur": "نہیں"}}],
    })
    event = create_event(db, admin, name="Choice event", date="2026-11-22", question_set=load_question_set(definition))
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = researcher
    at.session_state["collect_event_id"] = event.id
    at.run()
    fill(at, answers={})
    at.pills(key="collect_answer_heard_of_early_help").set_value("no")
    save(at)
    assert db.execute("SELECT question_id, text FROM responses").fetchall() == [("heard_of_early_help", "no")]
    assert at.pills(key="collect_answer_heard_of_early_help").value is None


def test_next_person_signing_in_on_the_tablet_does_not_see_the_last_ones_typing(app, db, officer):
    fill(app)
    app.session_state["auth_user"] = officer  # pia was signed out for inactivity; olu signs in on the same tablet
    app.run()
    assert app.session_state["collect_event_id"] is None
    assert not app.text_area  # back to choosing the event
    assert "collect_answer_thrive_helps" not in app.session_state
    app.selectbox(key="collect_event_choice")
    app.button(key="collect_start").click().run()
    assert app.text_area(key="collect_answer_thrive_helps").value == ""
    assert app.pills(key="collect_group").value is None


def test_confirmation_shows_the_withdrawal_reference_of_the_saved_person(app, db):
    save(fill(app))
    stored = db.execute("SELECT reference FROM respondents").fetchone()[0]
    found = [m.value for m in app.success if "withdraw" in m.value]
    assert stored and len(found) == 1 and f"**{stored.replace('-', chr(92) + '-')}**" in found[0]
    save(fill(app, group="parent_carer", answers={"thrive_stops": "Money worries"}))
    second = db.execute("SELECT reference FROM respondents ORDER BY created_at DESC").fetchone()[0]
    found = [shown_text.replace("\\", "") for shown_text in (m.value for m in app.success) if "withdraw" in shown_text]
    assert second != stored and len(found) == 1 and second in found[0] and stored not in found[0]


def test_post_its_are_not_counted_as_people(app, db, event, officer):
    capture.add_transcribed(db, officer, event_id=event.id, question_id="thrive_helps", group_id="young_person",
                            text="more buses")
    save(fill(app))
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["People today"] == "1" and metrics["People at this event"] == "1"
    assert metrics["Answers at this event"] == "4"
    assert "1 transcribed flipchart post-it" in shown(app)
    assert any("1 person at this event today" in s.value.replace("*", "") for s in app.success)


def test_area_is_named_per_language_and_the_language_resets_after_each_respondent(app, db, admin, event):
    from data.events import EventError, area_languages, set_area_languages

    set_area_languages(db, admin, event.id, {"ur": "ڈڈلی", "en": ""})
    assert area_languages(db, event.id) == {"ur": "ڈڈلی"}
    with pytest.raises(EventError):
        set_area_languages(db, admin, event.id, {"fr": "Dudley"})
    app.run()
    assert "ڈڈلی" not in app.text_area(key="collect_answer_thrive_local").label
    app.segmented_control(key="collect_language").set_value("ur").run()
    assert "ڈڈلی" in app.text_area(key="collect_answer_thrive_local").label
    assert "یہ شخص کون ہے؟" in app.pills(key="collect_group").label
    save(fill(app))
    assert db.execute("SELECT language FROM respondents").fetchone()[0] == "ur"
    assert app.segmented_control(key="collect_language").value == "en"  # the next person starts in English
    assert "Who is this person?" in app.pills(key="collect_group").label


def test_empty_save_says_so_and_points_at_the_group(app, db):
    save(app)
    assert count(db, "SELECT COUNT(*) FROM respondents") == 0
    assert any("Nothing to save yet" in e.value for e in app.error)
    assert app.session_state["collect_error_field"] == "collect_group"


def test_one_status_area_a_new_message_replaces_the_old(app, db):
    save(fill(app, consent=False))
    assert len(app.error) == 1
    app.checkbox(key="collect_consent").set_value(True)
    save(app)
    assert not app.error and len(app.success) == 1  # the error is gone, the confirmation alone


def test_guidance_stays_until_read(app, db):
    save(fill(app, answers={"thrive_stops": "my dad hits me when he is drunk"}))
    assert app.button(key="collect_guidance_ok")
    save(fill(app, group="parent_carer", answers={"thrive_helps": "Parks"}))
    assert any("Stay calm and listen" in e.value for e in app.error)  # still there for the next person
    app.button(key="collect_guidance_ok").click().run()
    assert not any("Stay calm" in e.value for e in app.error)


def test_each_free_text_box_says_how_to_move_on(app):
    """The Enter shortcut (an empty line goes to the next question) is said where the researcher types."""
    boxes = [app.text_area(key=f"collect_answer_{q}") for q in ("thrive_helps", "thrive_stops", "neglect_is")]
    assert all("empty line goes to the next question" in box.placeholder for box in boxes), \
        [box.placeholder for box in boxes]
