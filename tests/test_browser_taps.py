"""Real browser, 820x1180 with touch: the taps a peer researcher needs for one respondent with one answer to each of
the four questions (issue 9: at most 5 plus typing), counted on the real flow. Consent stays a tap of its own and is
never pre-ticked; ticking it moves into the first answer box; Enter on an empty line moves to the next question."""

from __future__ import annotations

import pytest

from data import open_db
from tests.browser_support import (
    answer_box,
    require_browser,
    seed_event_db,
    sign_in,
    start_collecting,
    streamlit_server,
    tablet_page,
    wait_for_app,
)

pytestmark = pytest.mark.browser

ANSWERS = {"thrive_helps": "Youth club on Fridays", "thrive_stops": "Cost of living",
           "neglect_is": "No one checking you ate", "thrive_local": "More free things to do"}


@pytest.fixture
def seeded(tmp_path):
    path = tmp_path / "taps.db"
    return path, seed_event_db(path)


class Taps:
    """Every tap goes through here and is counted; typing (keys of the on-screen keyboard) is not a tap."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def __call__(self, locator):
        locator.tap()
        self.count += 1


def focused_box(page) -> str | None:
    return page.evaluate("() => { const e = document.activeElement; const k = e && e.closest('[class*=\"st-key-"
                         "collect_answer_\"]'); return k ? [...k.classList].find(c => c.startsWith('st-key-'))"
                         ".slice('st-key-collect_answer_'.length) : null; }")


def test_one_respondent_takes_three_taps_plus_typing(seeded):
    executable = require_browser()
    path, event = seeded
    with streamlit_server(path) as url, tablet_page(executable) as page:
        sign_in(page, url, "pia", "482193", path="collect")
        start_collecting(page)
        consent = page.locator(".st-key-collect_consent input[type=checkbox]")
        assert not consent.is_checked()  # never pre-ticked: agreeing is the person's explicit act
        taps = Taps(page)

        taps(page.locator(".st-key-collect_group").get_by_role("radio", name="Young person"))
        wait_for_app(page)
        assert not consent.is_checked()  # choosing a group does not give consent
        assert focused_box(page) is None  # and does not jump past the consent

        taps(page.locator(".st-key-collect_consent").get_by_text("They agree to take part"))
        page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'TEXTAREA'")
        assert focused_box(page) == "thrive_helps"  # consent moves straight into the first question
        wait_for_app(page)
        assert consent.is_checked()

        for question, text in ANSWERS.items():
            assert focused_box(page) == question
            page.keyboard.type(text)
            page.keyboard.press("Enter")  # the end of this answer (a second answer could follow on this line)
            page.keyboard.press("Enter")  # an empty line: on to the next question
            wait_for_app(page)
        assert focused_box(page) is None  # the last box was left, which sends it
        wait_for_app(page)

        taps(page.locator(".st-key-collect_save button"))
        page.get_by_text("Saved. Thank you!").wait_for()
        wait_for_app(page)
        print(f"\ntaps for one respondent with one answer to each of 4 questions: {taps.count} plus typing "
              "(group 1, consent 1 [moves into the first box], Enter on an empty line to move on, Save 1); "
              "tapping into each box instead: 6")
        assert taps.count == 3

        # a second answer to the same question is still one Enter away: only an empty line moves on
        taps(page.locator(".st-key-collect_group").get_by_role("radio", name="Parent or carer"))
        wait_for_app(page)
        taps(page.locator(".st-key-collect_consent").get_by_text("They agree to take part"))
        page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'TEXTAREA'")
        page.keyboard.type("Parks")
        page.keyboard.press("Enter")
        page.keyboard.type("Libraries")
        assert focused_box(page) == "thrive_helps"
        assert answer_box(page, "thrive_helps").input_value() == "Parks\nLibraries"
        taps(page.locator(".st-key-collect_save button"))
        page.get_by_text("2 people").wait_for()
        wait_for_app(page)

    db = open_db(path)
    try:
        rows = db.execute("SELECT p.group_id, r.question_id, r.text FROM responses r JOIN respondents p "
                          "ON p.id = r.respondent_id ORDER BY p.created_at, r.question_id, r.position").fetchall()
        assert rows == [("young_person", q, ANSWERS[q]) for q in sorted(ANSWERS)] + [
            ("parent_carer", "thrive_helps", "Parks"), ("parent_carer", "thrive_helps", "Libraries")]
        assert db.execute("SELECT COUNT(*) FROM respondents WHERE event_id = ?", [event.id]).fetchone()[0] == 2
    finally:
        db.conn.close()
