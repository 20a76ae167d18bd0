"""Real browser: a reload and a server restart in the middle of a form lose neither the sign-in nor a word typed
(issue 9 items 1 and 2); Save afterwards stores exactly one respondent with every answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from data import open_db
from tests.browser_support import (
    answer_box,
    choose_group_and_consent,
    free_port,
    require_browser,
    screenshot,
    seed_event_db,
    sign_in,
    start_collecting,
    streamlit_server,
    tablet_page,
    wait_for_app,
)

pytestmark = pytest.mark.browser

ANSWERS = {
    "thrive_helps": "Youth club on Fridays\nA trusted adult to talk to",
    "thrive_stops": "Buses stop at six",
    "neglect_is": "No one checking you ate",
    "thrive_local": "More free things to do after school",
}


def server_on(port: int, db_path: Path, log_name: str):
    """The app on a given loopback port, so a restart comes back where the page expects it."""
    return streamlit_server(db_path, port=port, log_name=log_name)


@pytest.fixture
def seeded(tmp_path):
    path = tmp_path / "browser.db"
    return path, seed_event_db(path)


def type_answer(page, question_id: str, text: str) -> None:
    box = answer_box(page, question_id)
    box.tap()
    box.fill(text)
    box.press("Tab")  # leaving the box sends it to the server, as moving a finger to the next box does
    wait_for_app(page)


def still_there(page, expect, typed: dict[str, str]) -> None:
    """Signed in, back on the form, with every typed answer, the group and the consent tick as they were."""
    expect(page.get_by_text("Signed in as").first).to_be_attached(timeout=30_000)
    expect(page.get_by_text("Sign in", exact=True)).to_have_count(0)
    for question_id, text in typed.items():
        expect(answer_box(page, question_id)).to_have_value(text, timeout=30_000)
    expect(page.locator(".st-key-collect_consent input[type=checkbox]")).to_be_checked()
    expect(page.locator(".st-key-collect_group").get_by_role("radio", name="Young person")).to_be_checked()


def test_reload_and_server_restart_mid_form_keep_the_sign_in_and_the_answers(seeded):
    executable = require_browser()
    from playwright.sync_api import expect

    path, event = seeded
    port = free_port()
    with tablet_page(executable) as page:
        with server_on(port, path, "first.log") as url:
            sign_in(page, url, "pia", "482193", path="collect")
            start_collecting(page)
            choose_group_and_consent(page, "Young person")
            type_answer(page, "thrive_helps", ANSWERS["thrive_helps"])
            type_answer(page, "thrive_stops", ANSWERS["thrive_stops"])
            cookie = [c for c in page.context.cookies() if c["name"] == "thrive_session"]
            assert len(cookie) == 1 and cookie[0]["sameSite"] == "Strict" and cookie[0]["path"] == "/"
            assert cookie[0]["value"] not in page.url

            # 1. a reload (pull-to-refresh): a new Streamlit session, signed in from the cookie, the form as it was
            page.reload()
            wait_for_app(page)
            still_there(page, expect, {k: ANSWERS[k] for k in ("thrive_helps", "thrive_stops")})
            screenshot(page, "reload_after_reload")
            type_answer(page, "neglect_is", ANSWERS["neglect_is"])

        # 2. the laptop's server stops and starts again on the same port and database, mid-form
        with server_on(port, path, "second.log") as url:
            page.reload()  # what a person does when the page says it lost the connection
            wait_for_app(page)
            still_there(page, expect, {k: ANSWERS[k] for k in ("thrive_helps", "thrive_stops", "neglect_is")})
            screenshot(page, "reload_after_restart")
            type_answer(page, "thrive_local", ANSWERS["thrive_local"])
            page.locator(".st-key-collect_save button").tap()
            expect(page.get_by_text("Saved. Thank you!")).to_be_visible(timeout=30_000)
            expect(answer_box(page, "thrive_helps")).to_have_value("")

    db = open_db(path)
    try:
        respondents = db.execute("SELECT id, group_id, consent, recorded_by FROM respondents").fetchall()
        assert len(respondents) == 1
        assert respondents[0][1:] == ("young_person", 1, "pia")
        stored = db.execute("SELECT question_id, position, text FROM responses ORDER BY question_id, position")
        expected = sorted((q, i, line) for q, text in ANSWERS.items() for i, line in enumerate(text.split("\n")))
        assert sorted(stored.fetchall()) == expected
        assert db.execute("SELECT COUNT(*) FROM drafts").fetchone()[0] == 0  # Save cleared the draft
        # the token is in the browser only: nowhere in the database, the audit or either server log
        token = cookie[0]["value"]
        assert db.execute("SELECT COUNT(*) FROM sessions WHERE token_hash = ? AND revoked_at IS NULL",
                          [__import__("hashlib").sha256(token.encode()).hexdigest()]).fetchone()[0] == 1
        for (detail,) in db.execute("SELECT COALESCE(detail, '') FROM audit"):
            assert token not in detail
    finally:
        db.conn.close()
    for log_name in ("first.log", "second.log"):
        assert token not in (path.parent / log_name).read_text(errors="replace")


def on_the_empty_form(page, expect, event_name: str) -> None:
    """The Collect form of `event_name`, empty for the next person, not the event chooser."""
    expect(page.get_by_text("Who is this person?")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(event_name).first).to_be_visible()
    expect(page.get_by_role("button", name="Start collecting")).to_have_count(0)
    expect(answer_box(page, "thrive_helps")).to_have_value("")
    expect(page.locator(".st-key-collect_consent input[type=checkbox]")).not_to_be_checked()


def test_after_save_a_reload_or_a_restart_comes_back_to_the_same_events_empty_form(seeded):
    executable = require_browser()
    from playwright.sync_api import expect

    from data import accounts
    from data.events import close_event, create_event

    path, event = seeded
    db = open_db(path)
    try:  # a second open event, listed first in the chooser, so that landing on the right one means something
        admin = accounts.sign_in(db, "admin", "password123456")
        other = create_event(db, admin, name="Another open day", date="2026-11-21", venue="Halesowen")
    finally:
        db.conn.close()
    port = free_port()
    with tablet_page(executable) as page:
        with server_on(port, path, "save-first.log") as url:
            sign_in(page, url, "pia", "482193", path="collect")
            page.locator(".st-key-collect_event_choice").get_by_role("combobox").tap()
            page.get_by_role("option", name=event.title).tap()
            start_collecting(page)
            choose_group_and_consent(page, "Young person")
            type_answer(page, "thrive_helps", ANSWERS["thrive_helps"])
            page.locator(".st-key-collect_save button").tap()
            expect(page.get_by_text("Saved. Thank you!")).to_be_visible(timeout=30_000)

            page.reload()  # the draft went with Save; the sign-in session still remembers the event
            wait_for_app(page)
            on_the_empty_form(page, expect, event.name)
            expect(page.get_by_text(other.name)).to_have_count(0)
            screenshot(page, "reload_after_save")

        with server_on(port, path, "save-second.log") as url:
            page.reload()
            wait_for_app(page)
            on_the_empty_form(page, expect, event.name)
            screenshot(page, "restart_after_save")
            # a second person at the same event, no event to choose again
            choose_group_and_consent(page, "Parent or carer")
            type_answer(page, "thrive_stops", ANSWERS["thrive_stops"])
            page.locator(".st-key-collect_save button").tap()
            expect(page.get_by_text("Saved. Thank you!")).to_be_visible(timeout=30_000)

            db = open_db(path)
            try:  # the event is closed meanwhile: a reload shows the chooser, not a closed event's form
                close_event(db, admin, event.id)
            finally:
                db.conn.close()
            page.reload()
            wait_for_app(page)
            expect(page.get_by_role("button", name="Start collecting")).to_be_visible(timeout=30_000)
            expect(page.get_by_text("Who is this person?")).to_have_count(0)

    db = open_db(path)
    try:
        saved = db.execute("SELECT event_id, group_id FROM respondents ORDER BY created_at").fetchall()
    finally:
        db.conn.close()
    assert saved == [(event.id, "young_person"), (event.id, "parent_carer")]


def test_a_refused_save_then_a_reload_keeps_every_word(seeded):
    """Save without the consent tick is refused ("Not saved yet"); a reload straight after, from the box just
    typed into, still has every word (the server draft holds what Save sent); with consent, one respondent."""
    executable = require_browser()
    from playwright.sync_api import expect

    path, event = seeded
    with tablet_page(executable) as page, streamlit_server(path) as url:
        sign_in(page, url, "pia", "482193", path="collect")
        start_collecting(page)
        page.locator(".st-key-collect_group").get_by_role("radio", name="Young person").tap()
        wait_for_app(page)
        type_answer(page, "thrive_helps", ANSWERS["thrive_helps"])
        box = answer_box(page, "thrive_stops")
        box.tap()
        box.fill(ANSWERS["thrive_stops"])
        page.locator(".st-key-collect_save button").tap()  # no consent: refused
        expect(page.get_by_text("Not saved yet.")).to_be_visible(timeout=30_000)
        wait_for_app(page)
        page.reload()
        wait_for_app(page)
        for question_id in ("thrive_helps", "thrive_stops"):
            expect(answer_box(page, question_id)).to_have_value(ANSWERS[question_id], timeout=30_000)
        page.locator(".st-key-collect_consent").get_by_text("They agree to take part").tap()
        wait_for_app(page)
        page.locator(".st-key-collect_save button").tap()
        expect(page.get_by_text("Saved. Thank you!")).to_be_visible(timeout=30_000)
    db = open_db(path)
    try:
        assert db.execute("SELECT COUNT(*) FROM respondents").fetchone()[0] == 1
        stored = sorted(r[0] for r in db.execute("SELECT text FROM responses"))
    finally:
        db.conn.close()
    assert stored == sorted(line for q in ("thrive_helps", "thrive_stops") for line in ANSWERS[q].split("\n"))
