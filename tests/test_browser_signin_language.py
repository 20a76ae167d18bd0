"""Real browser: the sign-in page in Urdu (issue 9, item 6): chosen on the page itself, right to left, every word
from the catalogue, and the PIN field still opens the numeric keypad (inputmode, found by the field's key)."""

from __future__ import annotations

import re

import pytest

from tests.browser_support import (
    require_browser,
    screenshot,
    seed_event_db,
    streamlit_server,
    tablet_page,
    wait_for_app,
)
from ui.i18n import t

pytestmark = pytest.mark.browser

SECRET = ".st-key-signin_secret input"


def test_sign_in_in_urdu_keeps_the_numeric_keypad_and_signs_in(tmp_path):
    executable = require_browser()
    from playwright.sync_api import expect

    path = tmp_path / "signin.db"
    seed_event_db(path)
    with tablet_page(executable) as page, streamlit_server(path) as url:
        page.goto(url)
        wait_for_app(page)
        expect(page.locator(SECRET)).to_have_attribute("inputmode", "numeric")
        page.locator(".st-key-signin_language").get_by_role("radio", name=re.compile("اردو")).tap()
        expect(page.get_by_role("heading", name=t("signin.title", "ur"))).to_be_visible()
        wait_for_app(page)
        expect(page.get_by_label(t("signin.secret", "ur"))).to_have_attribute("inputmode", "numeric")
        expect(page.locator(".st-key-signin_box")).to_have_css("direction", "rtl")
        body = page.locator("[data-testid='stMain']").inner_text()
        for key in ("signin.title", "signin.username", "signin.button"):
            assert t(key, "en") not in body  # "Password or PIN" etc. gone ("Thrive Voices" included)
        screenshot(page, "signin_urdu")

        page.get_by_label(t("signin.username", "ur")).fill("pia")
        page.get_by_label(t("signin.secret", "ur")).fill("000000")
        page.get_by_role("button", name=t("signin.button", "ur")).tap()
        expect(page.get_by_text(t("signin.refused", "ur"))).to_be_visible()  # refused, in Urdu

        page.get_by_label(t("signin.secret", "ur")).fill("482193")
        page.get_by_role("button", name=t("signin.button", "ur")).tap()
        # signed in, and every page now speaks Urdu too (the session's interface language), right to left
        expect(page.get_by_text(t("menu.signed_in_as", "ur", name="Pia")).first).to_be_visible(timeout=30_000)
        wait_for_app(page)
        expect(page.get_by_role("heading", name=t("home.your_pages", "ur"))).to_be_visible(timeout=30_000)
        expect(page.locator("[data-testid=stMainBlockContainer]").get_by_role("link", name=t("nav.collect", "ur"))
               ).to_be_visible()  # the page list, in Urdu
        expect(page.get_by_role("button", name=t("signin.button", "ur"))).to_have_count(0)  # the form is gone
        expect(page.locator("[data-testid='stMainBlockContainer']")).to_have_css("direction", "rtl")
        screenshot(page, "home_urdu")
