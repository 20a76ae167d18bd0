"""Real browser: a peer researcher signs in on a tablet-sized Chromium and records a respondent with taps."""

from __future__ import annotations

import pytest

from data import accounts, open_db
from data.events import create_event
from tests.browser_support import require_browser, screenshot, streamlit_server, tablet_page, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(tmp_path):
    path = tmp_path / "browser.db"
    db = open_db(path)
    accounts.create_user(db, None, "admin", "password123456", ["admin"])
    admin = accounts.sign_in(db, "admin", "password123456")
    accounts.create_user(db, admin, "pia", "4821", ["peer_researcher"], kind="pin", display_name="Pia")
    event = create_event(db, admin, name="Family fun day", date="2026-11-20", venue="Stourbridge library")
    db.conn.close()
    return path, event


def test_peer_researcher_records_a_respondent_end_to_end(seeded):
    executable = require_browser()
    path, event = seeded
    with streamlit_server(path) as url, tablet_page(executable) as page:
        page.goto(url)
        wait_for_app(page)
        page.get_by_label("Username").fill("pia")
        page.get_by_label("Password or PIN").fill("4821")
        page.get_by_role("button", name="Sign in").tap()
        page.get_by_text("Signed in as").first.wait_for()
        wait_for_app(page)
        # a full page load would start a new (signed-out) session: follow the in-app link, as a person would
        page.get_by_role("link", name="Collect answers").first.tap()
        wait_for_app(page)
        page.get_by_role("button", name="Start collecting").tap()
        page.get_by_text("Who is this person?").wait_for()
        wait_for_app(page)
        page.locator(".st-key-collect_group").get_by_role("radio", name="Young person").tap()
        wait_for_app(page)
        page.locator(".st-key-collect_consent").get_by_text("They agree to take part").tap()
        wait_for_app(page)
        helps = page.locator(".st-key-collect_answer_thrive_helps textarea")
        helps.tap()
        helps.fill("Youth club on Fridays\nA trusted adult to talk to")
        local = page.locator(".st-key-collect_answer_thrive_local textarea")
        local.tap()  # moving to the next box commits the first one, as a finger would
        local.fill("More free things to do after school")
        screenshot(page, "collect_filled")
        page.locator(".st-key-collect_save button").tap()
        page.get_by_text("Saved. Thank you!").wait_for()
        wait_for_app(page)
        screenshot(page, "collect_saved")
        assert page.locator(".st-key-collect_answer_thrive_helps textarea").input_value() == ""

    db = open_db(path)
    try:
        respondents = db.execute("SELECT group_id, consent, recorded_by, event_id FROM respondents").fetchall()
        assert respondents == [("young_person", 1, "pia", event.id)]
        answers = db.execute("SELECT question_id, text FROM responses ORDER BY question_id, position").fetchall()
        assert answers == [("thrive_helps", "Youth club on Fridays"), ("thrive_helps", "A trusted adult to talk to"),
                           ("thrive_local", "More free things to do after school")]
    finally:
        db.conn.close()
