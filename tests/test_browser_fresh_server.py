"""Real browser: several tablets opening a page at once on a server that has just started (a laptop restarted
mid-event, every tablet reloading) each get the app's own frame: the sign-in form, never Streamlit's list of the
files in pages/ with a bare "Please sign in to use this page." (tests/test_browser_reload.py failed this way under
load: two sessions ran their page before app.py's navigation existed, and only the first was sent back to app.py).
"""

from __future__ import annotations

import pytest

from tests.browser_support import CHROMIUM_FLAGS, TABLET, require_browser, seed_event_db, streamlit_server

pytestmark = pytest.mark.browser

TABS = 5


def test_tabs_opening_at_once_on_a_fresh_server_all_get_the_sign_in_form(tmp_path):
    executable = require_browser()
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "fresh.db"
    seed_event_db(path)
    with streamlit_server(path) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            pages = [browser.new_context(viewport=TABLET, has_touch=True).new_page() for _ in range(TABS)]
            for page in pages:  # blank pages first, then every tab asks for a page deep in the app at once
                page.goto("about:blank")
            for n, page in enumerate(pages):
                target = ("collect", "code", "findings", "transcribe", "events")[n % 5]
                page.evaluate("target => { window.location.href = target }", f"{url}/{target}")
            for page in pages:
                expect(page.get_by_label("Username")).to_be_visible(timeout=60_000)
                expect(page.get_by_role("button", name="Sign in")).to_be_visible()
                expect(page.get_by_text("Please sign in to use this page.")).to_have_count(0)
                # Streamlit's own page list names the files ("admin", "codebook"); the app's sign-in lists none
                expect(page.get_by_role("link", name="codebook", exact=True)).to_have_count(0)
        finally:
            browser.close()
