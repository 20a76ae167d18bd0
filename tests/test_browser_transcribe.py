"""Real browser: on the Transcribe page the post-it being typed (still in the focused box, so the form has not sent it)
survives a reload straight from the box, thanks to the same script as on Collect (ui.tablet.commit_on_leave, issue
9): the tab keeps the box in sessionStorage until the post-it is added, undone, or the person signs out. A failed Add
(no group chosen) keeps the words; a successful one stores exactly one post-it and leaves nothing in the tab."""

from __future__ import annotations

import pytest

from data import open_db
from tests.browser_support import (
    require_browser,
    screenshot,
    seed_event_db,
    sign_in,
    streamlit_server,
    tablet_page,
    wait_for_app,
)

pytestmark = pytest.mark.browser

KEPT_IN_TAB = """() => Object.keys(sessionStorage).filter(k => k.startsWith('thrive.box.transcribe_box.'))"""
WORDS = "Nowhere to go after school"
RELOADS = 3


@pytest.fixture
def seeded(tmp_path):
    path = tmp_path / "transcribe.db"
    seed_event_db(path)
    return path


def entry(page):
    return page.locator(".st-key-transcribe_text input")


def choose_group(page, expect, group: str = "Parent or carer") -> None:
    pill = page.locator(".st-key-transcribe_group").get_by_role("radio", name=group)
    pill.tap()
    wait_for_app(page)
    expect(pill).to_be_checked()


def post_its(path) -> list[tuple[str, str, str]]:
    db = open_db(path)
    try:
        return db.execute("SELECT r.text, p.group_id, r.source FROM responses r JOIN respondents p "
                          "ON p.id = r.respondent_id").fetchall()
    finally:
        db.conn.close()


def test_a_reload_from_the_focused_post_it_box_keeps_the_words_and_add_stores_one(seeded):
    executable = require_browser()
    from playwright.sync_api import expect

    path = seeded
    with tablet_page(executable) as page, streamlit_server(path) as url:
        sign_in(page, url, "pia", "482193", path="transcribe")
        box = entry(page)

        # Enter before choosing a group: refused, and the words stay in the box and in the tab
        box.tap()
        box.fill(WORDS)
        box.press("Enter")
        expect(page.get_by_text("Choose the group these post-its came from.")).to_be_visible()
        page.wait_for_function(KEPT_IN_TAB + ".length === 1")
        page.reload()
        wait_for_app(page)
        expect(entry(page)).to_have_value(WORDS, timeout=30_000)

        # typing on, the finger still in the box, then pull-to-refresh: every time the words come back
        typed = WORDS
        for attempt in range(RELOADS):
            more = f", and the park shuts ({attempt + 1})"
            box = entry(page)
            box.tap()
            box.press("End")
            box.press_sequentially(more)
            typed += more
            expect(box).to_be_focused()
            expect(box).to_have_value(typed)
            page.reload()
            wait_for_app(page)
            expect(entry(page)).to_have_value(typed, timeout=30_000)
        assert post_its(path) == []  # nothing was stored along the way
        screenshot(page, "transcribe_after_reloads")

        choose_group(page, expect)
        box = entry(page)
        expect(box).to_have_value(typed)
        box.tap()
        box.press("Enter")  # the post-it is added; the box empties for the next one
        expect(page.get_by_text("Added this session: 1")).to_be_visible(timeout=30_000)
        expect(entry(page)).to_have_value("")
        page.wait_for_function(KEPT_IN_TAB + ".length === 0")
        screenshot(page, "transcribe_after_add")
        page.reload()
        wait_for_app(page)
        expect(entry(page)).to_be_visible()
        expect(entry(page)).to_have_value("")  # nothing comes back into the next post-it's box

        # words typed for the next post-it are forgotten at sign-out
        box = entry(page)
        box.tap()
        box.fill("Someone else's words")
        page.wait_for_function(KEPT_IN_TAB + ".length === 1")
        page.locator(".st-key-topbar_sign_out button").tap()
        page.get_by_role("button", name="Sign in").wait_for()
        page.wait_for_function("() => Object.keys(sessionStorage).filter(k => k.startsWith('thrive.box.'))"
                               ".length === 0")

    assert post_its(path) == [(typed, "parent_carer", "transcribed")]  # exactly one post-it, with every word
