"""Real browser, 820x1180 with touch: the Collect page uses the width, its action bar stays on screen, problems
point at their field, Save returns to the top, safeguarding guidance is a red alert with tap-to-call numbers,
the PIN opens the numeric keypad, and the Urdu page shows no English interface text."""

from __future__ import annotations

import re

import pytest

from tests.browser_support import (
    TABLET,
    open_page,
    require_browser,
    screenshot,
    seed_event_db,
    sign_in,
    start_collecting,
    streamlit_server,
    tablet_page,
    wait_for_app,
)
from ui.i18n import catalogue

pytestmark = pytest.mark.browser

PROCEDURE = ("Stay calm and listen.\nTell the event lead straight away.\nIf a child is in immediate danger, call 999.\n"
             "Children's Services front door: 0300 555 0050.")


@pytest.fixture
def seeded(tmp_path):
    path = tmp_path / "layout.db"
    return path, seed_event_db(path, procedure=PROCEDURE)


class Taps:
    """Taps a researcher makes, counted (focusing a text box to type in it counts as a tap)."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def __call__(self, locator):
        locator.tap()
        self.count += 1
        wait_for_app(self.page)


def in_view(page, selector: str) -> bool:
    return page.locator(selector).first.evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight"
        " && r.height > 0; }")


def wait_in_view(page, selector: str) -> None:
    page.wait_for_function(
        "s => { const e = document.querySelector(s); if (!e) return false; const r = e.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }", arg=selector)


def scroll_main(page, where: str) -> None:
    """Scroll the page's scrolling box to the top, the middle or the bottom."""
    page.evaluate("""w => { for (const e of [document.scrollingElement,
        document.querySelector('[data-testid="stMain"]'), document.querySelector('[data-testid="stAppViewContainer"]')]) {
          if (!e) continue; const max = e.scrollHeight - e.clientHeight;
          e.scrollTop = w === 'top' ? 0 : (w === 'middle' ? max / 2 : max); } }""", where)
    page.wait_for_timeout(100)  # one frame for layout; the assertions below read positions, not timing


def test_collect_on_a_tablet(seeded):
    executable = require_browser()
    path, _event = seeded
    with streamlit_server(path) as url, tablet_page(executable) as page:
        # the PIN field opens the numeric keypad
        page.goto(url)
        wait_for_app(page)
        page.wait_for_function(
            "() => document.querySelector('input[aria-label=\"Password or PIN\"]')?.getAttribute('inputmode') === 'numeric'")
        screenshot(page, "layout_signin")
        sign_in(page, url, "pia", "482193")
        # the sidebar starts collapsed; the top bar says who is signed in and its Menu opens the pages
        assert page.locator('[data-testid="stSidebar"]').first.evaluate(
            "e => e.getAttribute('data-collapsed') === 'true'")
        assert page.get_by_role("button", name="Sign out").first.is_visible()
        open_page(page, "Collect answers")
        start_collecting(page)
        width = page.locator('[data-testid="stMainBlockContainer"]').evaluate("e => e.getBoundingClientRect().width")
        assert width >= 0.85 * TABLET["width"], width

        # an empty Save says so, and points at the group chooser
        page.locator(".st-key-collect_save button").tap()
        page.get_by_text("Nothing to save yet").wait_for()
        wait_for_app(page)
        outline = page.locator(".st-key-collect_group").first.evaluate("e => getComputedStyle(e).outlineStyle")
        assert outline == "solid"
        screenshot(page, "layout_empty_save")

        taps = Taps(page)
        taps(page.locator(".st-key-collect_group").get_by_role("radio", name="Young person"))
        chosen = page.locator('.st-key-collect_group button[data-selected="true"]').first
        assert chosen.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(31, 95, 168)"
        assert "✓" in chosen.evaluate("e => getComputedStyle(e, '::before').content")
        # touch targets and text size
        for selector in (".st-key-collect_group button", ".st-key-collect_save button", ".st-key-collect_worry button",
                         ".st-key-collect_clear button", ".st-key-topbar button"):
            heights = page.locator(selector).evaluate_all("es => es.map(e => e.getBoundingClientRect().height)")
            assert heights and min(heights) >= 48, (selector, heights)
        sizes = page.locator(".st-key-collect_form p, .st-key-collect_actions p").evaluate_all(
            "es => es.filter(e => e.offsetParent).map(e => parseFloat(getComputedStyle(e).fontSize))")
        assert sizes and min(sizes) >= 16, sizes

        # a missing consent: the status area says so, the tick box is outlined and scrolled into view
        box = page.locator(".st-key-collect_answer_thrive_helps textarea")
        taps(box)
        box.fill("Youth club on Fridays")
        page.locator(".st-key-collect_save button").tap()
        page.get_by_text("before saving: the person must give their consent").wait_for()
        wait_for_app(page)
        wait_in_view(page, ".st-key-collect_consent")
        assert page.locator(".st-key-collect_consent").first.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"
        assert page.get_by_text("Nothing to save yet").count() == 0  # one status area: the old message is gone
        screenshot(page, "layout_consent_missing")

        taps(page.locator(".st-key-collect_consent").get_by_text("They agree to take part"))
        for qid, text in (("thrive_stops", "Cost of living"), ("neglect_is", "No one checking you ate"),
                          ("thrive_local", "More free things to do")):
            box = page.locator(f".st-key-collect_answer_{qid} textarea")
            taps(box)
            box.fill(text)
        # the action bar's Save is on screen at the top, the middle and the bottom of the filled form
        for where in ("top", "middle", "bottom"):
            scroll_main(page, where)
            assert in_view(page, ".st-key-collect_save button"), where
            screenshot_name = f"layout_filled_{where}"
            page.screenshot(path=str(screenshot(page, screenshot_name)))  # viewport, as the researcher sees it
        taps(page.locator(".st-key-collect_save button"))
        page.get_by_text("Saved. Thank you!").wait_for()
        wait_in_view(page, ".st-key-collect_group")  # back at the top: the next person's group
        wait_in_view(page, ".st-key-collect_status")
        screenshot(page, "layout_saved")
        print(f"\ntaps for one respondent with one answer to each of 4 questions: {taps.count} "
              "(group 1, consent 1, one tap into each box 4 [the first one counted before consent], Save 1)")

        # "I'm worried": a red alert at the top with tap-to-call links, until "I've read this"
        page.locator(".st-key-collect_worry button").tap()
        alert = page.locator('.st-key-collect_guidance_box [role="alert"]').first
        alert.wait_for()
        wait_in_view(page, ".st-key-collect_guidance_box")
        links = page.locator('.st-key-collect_guidance_box a[href^="tel:"]')
        links.nth(1).wait_for()  # the call buttons render with the alert, maybe a moment after it on a busy machine
        assert sorted(links.evaluate_all("es => es.map(e => e.getAttribute('href'))")) == [
            "tel:+443005550050", "tel:999"]
        page.screenshot(path=str(screenshot(page, "layout_worried")))
        page.locator(".st-key-collect_change_event button").evaluate("e => e")  # still on the page
        wait_for_app(page)
        page.locator(".st-key-collect_group").get_by_role("radio", name="Parent or carer").tap()
        wait_for_app(page)
        assert alert.is_visible()  # it stays while the next person is being entered
        page.locator(".st-key-collect_guidance_ok button").tap()
        wait_for_app(page)
        page.locator(".st-key-collect_guidance_box").wait_for(state="detached")

        # Urdu: no English interface text left on the page
        page.locator(".st-key-collect_language").get_by_role("radio", name=re.compile("اردو")).tap()
        wait_for_app(page)
        page.get_by_text("یہ شخص کون ہے؟").wait_for()
        page.locator(".st-key-collect_worry button").tap()  # the guidance too (a form is being filled: pending)
        page.locator(".st-key-collect_guidance_box").wait_for()
        wait_for_app(page)
        visible = page.locator('[data-testid="stMain"]').inner_text()
        english = {v for k, v in catalogue("en").items() if k.split(".")[0] in ("collect", "guidance", "menu")}
        english_lines = {re.sub(r"\{\w+\}", "", v).strip() for v in english}
        left = sorted(line.strip() for line in visible.splitlines()
                      if line.strip() and any(line.strip() == e or (len(e) > 12 and e in line) for e in english_lines))
        screenshot(page, "layout_urdu")
        assert left == [], left
        # the language returns to the event's default for the next respondent
        page.locator(".st-key-collect_clear button").tap()
        page.get_by_text("Who is this person?").wait_for()
