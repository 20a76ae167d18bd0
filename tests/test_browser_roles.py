"""Real browser, tablet viewport: a peer researcher records a disclosure on /collect and sees the local guidance
at once; a strategy lead opening /safeguarding by URL is refused and sees no data."""

from __future__ import annotations

import time

import pytest

from data import accounts, open_db, settings
from data.capture import save_respondent
from data.events import create_event
from data.users import User
from tests.browser_support import (
    choose_group_and_consent,
    require_browser,
    screenshot,
    sign_in,
    start_collecting,
    streamlit_server,
    tablet_page,
    wait_for_app,
)

pytestmark = pytest.mark.browser

PROCEDURE = "Tell Jo Bloggs, the event safeguarding lead, straight away: 0300 555 0101."
DISCLOSURE = "my stepdad hits me when mum is at work"
EARLIER = "nobody feeds us at the weekend and im scared to go home"


@pytest.fixture
def seeded(tmp_path):
    path = tmp_path / "roles.db"
    db = open_db(path)
    accounts.create_user(db, None, "admin", "password123456", ["admin"])
    admin = User("admin", frozenset({"admin"}))
    accounts.create_user(db, admin, "pia", "482193", ["peer_researcher"], kind="pin", display_name="Pia")
    accounts.create_user(db, admin, "sam", "password123456", ["strategy_lead"], display_name="Sam")
    settings.put(db, admin, "safeguarding_procedure", PROCEDURE)
    event = create_event(db, admin, name="Family fun day", date="2026-11-20", venue="Stourbridge library")
    # an earlier disclosure that must never reach the strategy lead
    save_respondent(db, admin, event_id=event.id, group_id="young_person", consent=True,
                    answers={"thrive_stops": EARLIER})
    db.conn.close()
    return path


def test_peer_researcher_records_a_disclosure_and_sees_the_guidance(seeded):
    executable = require_browser()
    with streamlit_server(seeded) as url, tablet_page(executable) as page:
        sign_in(page, url, "pia", "482193", "collect")  # the page asked for opens after sign-in
        start_collecting(page)
        choose_group_and_consent(page, "Young person")
        box = page.locator(".st-key-collect_answer_thrive_stops textarea")
        box.tap()
        box.fill(DISCLOSURE)
        page.locator(".st-key-collect_answer_thrive_helps textarea").tap()  # leaving the box commits it
        page.locator(".st-key-collect_save button").tap()
        guidance = page.locator(".st-key-collect_guidance_box")
        guidance.wait_for()
        wait_for_app(page)
        assert guidance.is_visible()
        assert PROCEDURE in guidance.inner_text()
        screenshot(page, "roles_researcher_guidance")
    db = open_db(seeded)
    try:
        rows = db.execute("SELECT f.kind, f.raised_by, r.text FROM flags f JOIN responses r ON r.id = f.response_id "
                          "WHERE r.text = ?", [DISCLOSURE]).fetchall()
    finally:
        db.conn.close()
    assert rows == [("auto", "pia", DISCLOSURE)]


def test_strategy_lead_opening_safeguarding_by_url_is_refused(seeded):
    executable = require_browser()
    with streamlit_server(seeded) as url, tablet_page(executable) as page:
        # signed out: the URL shows only the sign-in form
        page.goto(f"{url}/safeguarding")
        wait_for_app(page)
        page.get_by_role("button", name="Sign in").wait_for()
        assert EARLIER not in page.content()
        sign_in(page, url, "sam", "password123456", "safeguarding")
        refusal = page.get_by_text("You don't have access to this page")
        refusal.wait_for()
        time.sleep(1)
        wait_for_app(page)
        assert page.url.rstrip("/").endswith("/safeguarding")
        screenshot(page, "roles_lead_safeguarding_refused")
        body = page.locator("body").inner_text()
        assert EARLIER not in body and "hits me" not in body and "Family fun day" not in body
        assert page.locator('[data-testid="stCode"], [data-testid="stDataFrame"], [data-testid="stMetric"]').count() == 0
        # nor does the menu offer the page
        assert page.locator('[data-testid="stSidebarNav"]').get_by_text("Safeguarding").count() == 0
