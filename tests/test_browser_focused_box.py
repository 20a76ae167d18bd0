"""Real browser: the words in the text box being typed in (still focused, so Streamlit has not sent them) reach the
server-side draft when the tab is hidden (the tablet switches app, the tab is discarded), thanks to the static
script ui.tablet.commit_on_leave, and come back after a reload (issue 9, item 2).

A reload straight from the focused box (pull-to-refresh while typing) is NOT asserted: the script also blurs the box
on `beforeunload`/`pagehide`, and in this Chromium the words then reached the draft in 3 of 4 tries (a probe, since
removed), but once they did not: the value is sent on a WebSocket that the unloading page is closing, so delivery is
a race, not a guarantee. A blur just before the reload (a finger on another box first) always arrived."""

from __future__ import annotations

import json
import time

import pytest

from data import open_db
from tests.browser_support import (
    answer_box,
    choose_group_and_consent,
    require_browser,
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


def draft_answers(path) -> list[str | None]:
    """The value of the first answer box in every stored draft."""
    db = open_db(path)
    try:
        return [json.loads(state).get("collect_answer_thrive_helps")
                for (state,) in db.execute("SELECT state FROM drafts")]
    finally:
        db.conn.close()


def wait_for_draft(path, text: str, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while text not in draft_answers(path):
        if time.time() > deadline:
            raise AssertionError(f"the draft never held the typed text: {draft_answers(path)!r}")
        time.sleep(0.2)


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
