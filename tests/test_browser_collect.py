"""Real browser: a peer researcher signs in on a tablet-sized Chromium and records a respondent with taps."""

from __future__ import annotations

import time

import pytest

from data import open_db
from tests.browser_support import (
    choose_group_and_consent,
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


@pytest.fixture
def seeded(tmp_path):
    path = tmp_path / "browser.db"
    return path, seed_event_db(path)


def test_peer_researcher_records_a_respondent_end_to_end(seeded):
    executable = require_browser()
    path, event = seeded
    with streamlit_server(path) as url, tablet_page(executable) as page:
        sign_in(page, url, "pia", "482193")
        # a full page load would start a new (signed-out) session: follow the in-app link, as a person would
        from tests.browser_support import open_page

        open_page(page, "Collect answers")  # the top bar's Menu: the sidebar starts collapsed
        start_collecting(page)
        choose_group_and_consent(page, "Young person")
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
        from playwright.sync_api import expect

        expect(page.locator(".st-key-collect_answer_thrive_helps textarea")).to_have_value("", timeout=20_000)

        # a second respondent, Save double-tapped: one respondent stored
        choose_group_and_consent(page, "Parent or carer")
        stops = page.locator(".st-key-collect_answer_thrive_stops textarea")
        stops.tap()
        stops.fill("Cost of living")
        save = page.locator(".st-key-collect_save button")
        save.tap()
        save.tap()
        # the counter, not the message: a second tap that lands after the first Save finished replaces "Saved" with
        # "Your second tap on Save was ignored", which is right too
        expect(page.locator('[data-testid="stMetric"]').filter(has_text="People today")
               .locator('[data-testid="stMetricValue"]')).to_have_text("2", timeout=30_000)
        expect(page.get_by_text("Saved. Thank you!").or_(page.get_by_text("Your second tap on Save was ignored"))
               ).to_be_visible(timeout=30_000)
        wait_for_app(page)
        time.sleep(1)
        wait_for_app(page)

        # Urdu labels are laid out right to left
        page.locator(".st-key-collect_language").get_by_role("radio", name="اردو (draft)").tap()
        wait_for_app(page)
        page.get_by_text("بچوں اور نوجوانوں کو پھلنے پھولنے میں کیا چیز مدد دیتی ہے؟").wait_for()
        page.wait_for_function(
            "() => getComputedStyle(document.querySelector('.st-key-collect_form')).direction === 'rtl'")
        screenshot(page, "collect_urdu")

    db = open_db(path)
    try:
        respondents = db.execute("SELECT group_id, consent, recorded_by, event_id FROM respondents "
                                 "ORDER BY created_at").fetchall()
        assert respondents == [("young_person", 1, "pia", event.id), ("parent_carer", 1, "pia", event.id)]
        answers = db.execute("SELECT p.group_id, r.question_id, r.text FROM responses r JOIN respondents p "
                             "ON p.id = r.respondent_id ORDER BY p.created_at, r.question_id, r.position").fetchall()
        assert answers == [("young_person", "thrive_helps", "Youth club on Fridays"),
                           ("young_person", "thrive_helps", "A trusted adult to talk to"),
                           ("young_person", "thrive_local", "More free things to do after school"),
                           ("parent_carer", "thrive_stops", "Cost of living")]
    finally:
        db.conn.close()
