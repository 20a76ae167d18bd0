"""The Transcribe page under AppTest: each post-it + Enter adds one answer; Undo removes the last one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import capture
from data.events import close_event

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "transcribe.py")


def answers(db):
    return db.execute("SELECT r.question_id, p.group_id, r.text, r.source FROM responses r "
                      "JOIN respondents p ON p.id = r.respondent_id ORDER BY r.created_at").fetchall()


@pytest.fixture
def app(db, researcher, event):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = researcher
    at.run()
    assert not at.exception, at.exception
    at.radio(key="transcribe_question").set_value("thrive_stops")
    at.pills(key="transcribe_group").set_value("parent_carer")
    at.run()
    return at


def plain(value: str) -> str:
    """Page text without its markdown escapes (labels and catalogue texts go through md_escape)."""
    return re.sub(r"\\(.)", r"\1", value.replace("&#58;", ":"))


def add(at, text):
    at.text_input(key="transcribe_text").input(text)
    at.button(key="transcribe_add").click().run()
    assert not at.exception, at.exception
    return at


def test_each_post_it_is_stored_with_question_and_group_and_the_box_clears(app, db):
    add(app, "Not enough money for food")
    add(app, "Phones all the time")
    assert answers(db) == [("thrive_stops", "parent_carer", "Not enough money for food", "transcribed"),
                           ("thrive_stops", "parent_carer", "Phones all the time", "transcribed")]
    assert app.text_input(key="transcribe_text").value == ""
    assert plain(app.subheader[0].value) == "Added this session: 2"
    shown = app.dataframe[0].value
    assert list(shown["Post-it"]) == ["Phones all the time", "Not enough money for food"]  # newest first


def test_undo_removes_only_the_last_and_offers_its_text_back(app, db):
    add(app, "Bullying")
    add(app, "Bulying at scool")
    app.button(key="transcribe_undo").click().run()
    assert [a[2] for a in answers(db)] == ["Bullying"]
    assert app.text_input(key="transcribe_text").value == "Bulying at scool"
    assert plain(app.subheader[0].value) == "Added this session: 1"


def test_undo_refused_for_a_flagged_post_it_shows_the_reason(app, db):
    add(app, "my mum hits me when she is angry")
    assert db.execute("SELECT kind FROM flags").fetchall() == [("auto",)]
    shown = plain(" ".join(m.value for m in [*app.markdown, *app.error]))
    assert "Stay calm and listen" in shown  # the safeguarding guidance, right then
    app.button(key="transcribe_undo").click().run()
    assert len(answers(db)) == 1
    assert any("safeguarding flag" in plain(e.value) for e in app.error)


def test_no_group_chosen_keeps_the_text_and_says_so(db, researcher, event):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = researcher
    at.run()
    add(at, "Parks")
    assert answers(db) == []
    assert any("group" in plain(e.value) for e in at.error)
    assert at.text_input(key="transcribe_text").value == "Parks"


def test_failed_add_keeps_the_text(app, db, monkeypatch):
    def busy(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(capture, "add_transcribed", busy)
    add(app, "Family time")
    assert any("still in the box" in plain(e.value) for e in app.error)
    assert app.text_input(key="transcribe_text").value == "Family time"


def test_event_closed_meanwhile_refuses_and_keeps_text(app, db, admin, event):
    close_event(db, admin, event.id)
    add(app, "Youth club")
    assert answers(db) == []
    assert any("closed" in plain(e.value) for e in app.error)
    assert app.session_state["transcribe_text"] == "Youth club"  # kept while no event is open


def test_strategy_lead_cannot_transcribe(db, lead, event):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = lead
    at.run()
    assert not at.text_input
    assert any("don't have access" in plain(e.value) for e in at.error)


def test_next_person_on_the_same_browser_starts_with_an_empty_list(app, db, officer):
    add(app, "Bullying")
    app.session_state["auth_user"] = officer
    app.run()
    assert plain(app.subheader[0].value) == "Added this session: 0"
    assert app.button(key="transcribe_undo").disabled


def _box_script(at) -> str:
    """The commit_on_leave script this run drew (ui.tablet): what the tab keeps and when it forgets it."""
    found = [h.proto.body for h in at.get("html") if "__thriveBoxScope" in h.proto.body]
    assert len(found) == 1
    return found[0]


def test_the_tab_keeps_the_post_it_box_and_keeps_it_again_after_a_refused_add(db, researcher, event):
    from data import sessions
    from ui import tablet

    device = sessions.start(db, researcher.username)[1].id
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = researcher
    at.session_state["auth_session_id"] = device
    at.run()
    script = _box_script(at)
    question = at.session_state["transcribe_question"]
    assert tablet.box_scope(device, researcher.username, f"transcribe\n{event.id}\n{question}") in script
    assert "'transcribe_box'" in script and '["transcribe_add", "transcribe_undo"]' in script
    assert "__thriveBoxEnter = true" in script and "__thriveBoxKeepAll('')" in script  # nothing to keep again yet
    add(at, "No group chosen yet")  # refused: the tab forgot the box on Enter, so it is told to keep it again
    assert at.text_input(key="transcribe_text").value == "No group chosen yet"
    assert re.search(r"__thriveBoxKeepAll\('[0-9a-f]{16}'\)", _box_script(at))
    at.run()
    assert "__thriveBoxKeepAll('')" in _box_script(at)  # once only


def test_without_a_sign_in_session_the_tab_keeps_nothing(app):
    assert "__thriveBoxScope = 'none'" in _box_script(app)


def test_choices_come_back_from_the_address_and_the_kept_box_belongs_to_its_question(db, researcher, event):
    """After a reload (a new session) the event, question and group come back from the address, so words the tab
    kept are put back under the question they were typed for; another question is another scope."""
    from data import sessions
    from ui import tablet

    device = sessions.start(db, researcher.username)[1].id
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = researcher
    at.session_state["auth_session_id"] = device
    at.run()
    at.radio(key="transcribe_question").set_value("neglect_is").run()
    at.pills(key="transcribe_group").set_value("parent_carer").run()
    assert (at.query_params["question"], at.query_params["group"]) == ("neglect_is", "parent_carer")
    assert at.query_params["event"] == event.id
    assert tablet.box_scope(device, researcher.username, f"transcribe\n{event.id}\nneglect_is") in _box_script(at)
    again = AppTest.from_file(PAGE, default_timeout=30)  # the reload: a new session, the same address
    again.session_state["auth_user"] = researcher
    again.session_state["auth_session_id"] = device
    for key, value in at.query_params.items():
        again.query_params[key] = value
    again.run()
    assert not again.exception, again.exception
    assert again.radio(key="transcribe_question").value == "neglect_is"
    assert again.pills(key="transcribe_group").value == "parent_carer"
    assert tablet.box_scope(device, researcher.username, f"transcribe\n{event.id}\nneglect_is") in \
        _box_script(again)
    stale = AppTest.from_file(PAGE, default_timeout=30)  # an address naming a question that is not there
    stale.session_state["auth_user"] = researcher
    stale.session_state["auth_session_id"] = device
    stale.query_params["question"] = "no_such_question"
    stale.query_params["group"] = "no_such_group"
    stale.query_params["event"] = "no-such-event"
    stale.run()
    assert not stale.exception and stale.radio(key="transcribe_question").value != "no_such_question"
    assert stale.pills(key="transcribe_group").value is None and stale.session_state["transcribe_group"] is None


def test_in_urdu_the_page_its_questions_groups_and_messages_are_urdu(db, researcher, event):
    """A researcher who chose Urdu at sign-in transcribes in Urdu: the catalogue's texts, the question set's Urdu
    questions and groups; what is stored is the same ids and the typed words."""
    from ui.i18n import catalogue, t

    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = researcher
    at.session_state["auth_language"] = "ur"
    at.run()
    assert not at.exception, at.exception
    assert plain(at.title[0].value) == t("transcribe.title", "ur")
    question = at.radio(key="transcribe_question")
    assert plain(question.label) == t("transcribe.question", "ur")
    shown_questions = [plain(o) for o in question.options]
    assert not any("thrive" in q.lower() for q in shown_questions)
    assert all(re.search(r"[\u0600-\u06FF]", q) for q in shown_questions)  # Arabic-script text, from the set's Urdu
    question.set_value("thrive_stops")
    at.pills(key="transcribe_group").set_value("parent_carer")
    at.run()
    add(at, "کھانے کے لیے پیسے نہیں")
    assert answers(db) == [("thrive_stops", "parent_carer", "کھانے کے لیے پیسے نہیں", "transcribed")]
    shown = [plain(m.value) for kind in (at.success, at.subheader) for m in kind]
    assert t("transcribe.added", "ur", count=1) in shown and t("transcribe.added_count", "ur", count=1) in shown
    english = {v for k, v in catalogue("en").items() if k.startswith("transcribe.") and len(v) > 3}
    texts = shown + [plain(at.title[0].value), plain(question.label)] + [plain(b.label) for b in at.button]
    assert [e for e in english if e in texts] == []


def test_in_urdu_a_refused_undo_gives_the_reason_in_urdu(db, researcher, event):
    """The core refuses to undo a post-it that raised a safeguarding flag; the reason is told in the person's
    language (data.capture.Problem -> capture_error.undo_flagged), and the post-it and its flag stay."""
    from ui.i18n import t

    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth_user"] = researcher
    at.session_state["auth_language"] = "ur"
    at.run()
    at.radio(key="transcribe_question").set_value("thrive_stops")
    at.pills(key="transcribe_group").set_value("parent_carer")
    at.run()
    add(at, "my mum hits me when she is angry")
    at.button(key="transcribe_undo").click().run()
    assert not at.exception, at.exception
    errors = [plain(e.value) for e in at.error]
    assert t("capture_error.undo_flagged", "ur") in errors
    assert not any("safeguarding flag" in e for e in errors)  # not the core's English
    assert len(answers(db)) == 1 and db.execute("SELECT COUNT(*) FROM flags").fetchone()[0] == 1
