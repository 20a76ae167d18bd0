"""Rendering safety in real Chromium: answers (and an event name, a code label and a display name) holding
<script>, <img onerror>, javascript: links and markdown are shown as text on the coding, findings and
safeguarding pages; nothing executes and no <img src=x> element is created."""

from __future__ import annotations

import re
import time

import pytest

from data import accounts, codebook, coding, findings, open_db
from data.capture import save_respondent
from data.events import create_event
from data.users import ROLES, User
from tests.browser_support import require_browser, screenshot, sign_in, streamlit_server, tablet_page, wait_for_app

pytestmark = pytest.mark.browser

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
HOSTILE = [
    SCRIPT,
    IMG,
    "[click](javascript:window.__pwned=1) and **bold** and <b>tag</b>",
    '<a href="javascript:window.__pwned=1">tap me</a> ![x](x) <svg onload="window.__pwned=1">',
    "my dad hits me " + IMG,  # a disclosure, so the queue has an automatic flag too
]
PASSWORD = "password123456"


@pytest.fixture
def seeded(tmp_path):
    path = tmp_path / "hostile.db"
    db = open_db(path)
    accounts.create_user(db, None, "sec", PASSWORD, ["admin", "engagement_officer", "safeguarding_lead"],
                         display_name=IMG)
    user = User("sec", frozenset(ROLES))
    event = create_event(db, user, name="Fair [go](javascript:window.__pwned=1) " + IMG, date="2026-11-20", venue=SCRIPT)
    saved = save_respondent(db, user, event_id=event.id, group_id="young_person", consent=True,
                            answers={"thrive_helps": HOSTILE[:3], "thrive_stops": HOSTILE[3:]}, worried=True,
                            worried_note=SCRIPT)
    codebook.load_starter_codebook(db, user)
    hostile_code = codebook.create_code(db, user, "hostile_code", IMG, definition=SCRIPT)
    # the worried respondent's answers are withheld outside the queue; an unflagged one carries the same hostile
    # texts (all but the disclosure) to the coding and findings pages
    quotable = save_respondent(db, user, event_id=event.id, group_id="young_person", consent=True,
                               answers={"thrive_helps": HOSTILE[:3], "thrive_stops": HOSTILE[3:-1]})
    other_coder = User("olu", frozenset({"engagement_officer"}))  # so the answers are still "not yet coded by me"
    for respondent_id in (saved.respondent_id, quotable.respondent_id):
        for (response_id,) in db.execute("SELECT id FROM responses WHERE respondent_id = ?",
                                         [respondent_id]).fetchall():
            coding.apply_code(db, other_coder, response_id, hostile_code.name)
            if respondent_id == quotable.respondent_id:
                findings.pin_quote(db, other_coder, hostile_code.id, response_id)
    db.conn.close()
    return path


def _check_nothing_ran(page, where: str, dialogs: list[str]) -> None:
    wait_for_app(page)
    time.sleep(1.5)  # give any injected handler (img onerror, svg onload) time to fire
    wait_for_app(page)
    assert page.evaluate("typeof window.__pwned") == "undefined", f"script ran on {where}"
    assert dialogs == [], f"a dialog opened on {where}"
    assert page.locator('img[src="x"]').count() == 0, f"an <img src=x> element exists on {where}"
    assert page.locator("svg[onload]").count() == 0, f"an <svg onload> element exists on {where}"
    assert page.locator('a[href^="javascript:" i]').count() == 0, f"a javascript: link exists on {where}"
    assert not page.evaluate("[...document.scripts].some(s => s.textContent.includes('__pwned'))")
    assert page.locator("strong", has_text=re.compile(r"^bold$")).count() == 0, f"markdown rendered on {where}"
    assert page.locator("b", has_text=re.compile(r"^tag$")).count() == 0, f"HTML rendered on {where}"
    # the answers' markdown/HTML links must not become links of any kind
    assert page.locator("a", has_text=re.compile(r"^(click|tap me)$")).count() == 0, f"answer link rendered on {where}"


def _open(page, title: str) -> None:
    from tests.browser_support import open_page

    open_page(page, title)  # the top bar's Menu: the sidebar starts collapsed
    page.get_by_role("heading", name=title).first.wait_for()


def _shows_hostile_text(page, needles: list[str] = HOSTILE, timeout_ms: int = 30_000) -> bool:
    """Wait until the page's main area shows one of the hostile strings as text (False if it never does)."""
    try:
        page.wait_for_function(
            "(needles) => { const m = document.querySelector('[data-testid=\"stMain\"]');"
            " return m && needles.some(n => m.innerText.includes(n)); }",
            arg=needles, timeout=timeout_ms)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError
        return False
    return True


def test_hostile_text_is_inert_on_coding_findings_and_safeguarding(seeded):
    executable = require_browser()
    with streamlit_server(seeded) as url, tablet_page(executable) as page:
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(page, url, "sec", PASSWORD)
        _check_nothing_ran(page, "home", dialogs)

        _open(page, "Safeguarding")
        page.get_by_text("Raised by hand").first.wait_for()
        _check_nothing_ran(page, "safeguarding", dialogs)
        body = page.locator('[data-testid="stMain"]').inner_text()
        for text in HOSTILE:
            assert text in body, f"{text!r} is not shown as text on the safeguarding page"
        screenshot(page, "security_safeguarding")

        _open(page, "Code answers")
        shown = _shows_hostile_text(page)
        _check_nothing_ran(page, "code", dialogs)
        screenshot(page, "security_code")
        assert shown, "no hostile answer is shown as text on the coding page"

        _open(page, "Findings")
        _check_nothing_ran(page, "findings", dialogs)
        screenshot(page, "security_findings")
        page.get_by_role("tab", name="Quotes").click()
        wait_for_app(page)
        box = page.locator(".st-key-findings_quote_code").get_by_role("combobox")
        box.click()
        box.fill("onerror")  # the hostile code's label
        page.keyboard.press("Enter")
        wait_for_app(page)
        shown = _shows_hostile_text(page, [SCRIPT, HOSTILE[2], HOSTILE[3]])
        _check_nothing_ran(page, "findings quotes", dialogs)
        screenshot(page, "security_findings_quotes")
        assert shown, "no hostile answer is shown as text among the findings quotes"
        page.mouse.wheel(0, 4000)
        _check_nothing_ran(page, "findings (scrolled)", dialogs)
