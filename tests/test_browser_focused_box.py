"""Real browser: the words in the text box being typed in (still focused, so Streamlit has not sent them) survive the
tab being hidden (the tablet switches app, the tab is discarded) and a reload straight from the box (pull-to-refresh
while typing), thanks to the static script ui.tablet.commit_on_leave (issue 9, item 2).

On its own, blurring the box on `beforeunload`/`pagehide` kept the words in about 3 of 4 reloads: the value travels
on a WebSocket the unloading page is closing, and the new page may read the draft before the old session stored it.
The script also keeps each box in the tab's sessionStorage and puts it back (committed through the widget) after
the reload; the loop below reloads from the focused box ten times and requires every one to keep the words, then
checks that Save stores them once and that Save and sign-out leave nothing in the tab."""

from __future__ import annotations

import json
import time

import pytest

from data import open_db
from tests.browser_support import (
    answer_box,
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

TYPED = "A trusted adult to talk to, and the youth club"


@pytest.fixture
def seeded(tmp_path):
    path = tmp_path / "focused.db"
    seed_event_db(path)
    return path


def draft_answers(path, question_id: str = "thrive_helps") -> list[str | None]:
    """The value of one answer box in every stored draft."""
    db = open_db(path)
    try:
        return [json.loads(state).get(f"collect_answer_{question_id}")
                for (state,) in db.execute("SELECT state FROM drafts")]
    finally:
        db.conn.close()


def wait_for_draft(path, text: str, question_id: str = "thrive_helps", seconds: float = 30) -> None:
    """Poll the database until a draft holds `text` (the server got it through the widget)."""
    deadline = time.time() + seconds
    while text not in draft_answers(path, question_id):
        if time.time() > deadline:
            raise AssertionError(f"the draft never held the typed text: {draft_answers(path, question_id)!r}")
        time.sleep(0.2)


KEPT_IN_TAB = """() => Object.keys(sessionStorage).filter(k => k.startsWith('thrive.box.'))"""


HIDE_TAB = """() => {
  Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
  Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_hiding_the_tab_sends_the_focused_box_to_the_draft(seeded):
    executable = require_browser()
    from playwright.sync_api import expect

    path = seeded
    with tablet_page(executable) as page, streamlit_server(path) as url:
        sign_in(page, url, "pia", "482193", path="collect")
        start_collecting(page)
        choose_group_and_consent(page, "Young person")
        box = answer_box(page, "thrive_helps")
        box.tap()
        box.fill(TYPED)  # typed, and the finger never left the box
        expect(box).to_be_focused()
        assert TYPED not in draft_answers(path)  # typing alone sends nothing: the gap this script closes

        page.evaluate(HIDE_TAB)  # the tablet switches to another app / the tab is put in the background
        wait_for_draft(path, TYPED)

        page.reload()  # the tab is discarded and opened again
        wait_for_app(page)
        expect(answer_box(page, "thrive_helps")).to_have_value(TYPED, timeout=30_000)


QUESTIONS = ["thrive_helps", "thrive_stops", "neglect_is", "thrive_local"]
RELOADS = 10


def test_reload_straight_from_the_focused_box_keeps_the_words_every_time(seeded):
    executable = require_browser()
    from playwright.sync_api import expect

    path = seeded
    kept: dict[str, str] = {}
    with tablet_page(executable) as page, streamlit_server(path) as url:
        sign_in(page, url, "pia", "482193", path="collect")
        start_collecting(page)
        choose_group_and_consent(page, "Young person")
        for attempt in range(RELOADS):
            question = QUESTIONS[attempt % len(QUESTIONS)]
            text = f"{TYPED}, try {attempt + 1} of {RELOADS}"
            box = answer_box(page, question)
            box.tap()
            box.fill(text[:-3])
            box.press_sequentially(text[-3:])  # the last keys typed one by one, as on a tablet
            expect(box).to_be_focused()
            assert text not in draft_answers(path, question)  # not sent yet: the reload comes straight from the box
            kept[question] = text

            page.reload()  # pull-to-refresh with the finger still in the box
            wait_for_app(page)
            for q, words in kept.items():  # this box's words, and every earlier box's, are back on the form
                expect(answer_box(page, q)).to_have_value(words, timeout=30_000)
            wait_for_draft(path, text, question)  # and reached the server through the widget, not just the screen
        expect(page.locator(".st-key-collect_consent input[type=checkbox]")).to_be_checked()
        screenshot(page, "focused_box_after_reloads")

        page.locator(".st-key-collect_save button").tap()
        expect(page.get_by_text("Saved. Thank you!")).to_be_visible(timeout=30_000)
        assert page.evaluate(KEPT_IN_TAB) == []  # Save forgets what the tab kept
        page.reload()
        wait_for_app(page)
        # no draft left, but the sign-in session remembers the event: its empty form, not the event chooser
        expect(page.get_by_text("Who is this person?")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("button", name="Start collecting")).to_have_count(0)
        for q in kept:  # nothing comes back into the next person's form
            expect(answer_box(page, q)).to_have_value("", timeout=30_000)

        box = answer_box(page, "thrive_helps")
        box.tap()
        box.fill("Words for the next person")
        page.wait_for_function(KEPT_IN_TAB + ".length > 0")
        page.locator(".st-key-topbar_sign_out button").tap()
        page.get_by_role("button", name="Sign in").wait_for()
        page.wait_for_function(KEPT_IN_TAB + ".length === 0")  # signed out: the tab keeps no one's words

    db = open_db(path)
    try:
        rows = db.execute("SELECT r.id, x.question_id, x.text FROM respondents r JOIN responses x "
                          "ON x.respondent_id = r.id").fetchall()
        drafts_left = db.execute("SELECT COUNT(*) FROM drafts").fetchone()[0]
    finally:
        db.conn.close()
    assert len({r[0] for r in rows}) == 1  # one respondent, not one per reload
    assert {(q, text) for _, q, text in rows} == set(kept.items())
    assert drafts_left == 0
