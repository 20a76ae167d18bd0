"""No remote content from stored text, in real Chromium (issue 8 item 8).

Markdown images and links, an HTML <img>, bare URLs and an e-mail address are stored in an event's name, venue and
area, the area setting, the safeguarding procedure, a code's label and definition, and answers. Transcribe, Code,
Codebook, Findings and Safeguarding are opened as the roles that use them, with every request routed: anything not
for 127.0.0.1/localhost is aborted and recorded, and none may be attempted (the favicon and fonts included). The
pages may hold no <a href> and no <img src> pointing off the host, and the hostile strings must still be readable.

A second test renders md_escape's output in every kind of Streamlit element that reads markdown (and the raw
strings in a control block, which must make links: the check can fail).
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from data import accounts, codebook, coding, findings, open_db, settings
from data.capture import save_respondent
from data.events import create_event
from data.users import ROLES, User
from tests.browser_support import (
    CHROMIUM_FLAGS,
    ROOT,
    TABLET,
    require_browser,
    screenshot,
    sign_in,
    streamlit_server,
    wait_for_app,
)

pytestmark = pytest.mark.browser

REMOTE = "203.0.113.5"  # TEST-NET-3: never a real host
IMAGE = f"![x](http://{REMOTE}/x.png)"
LINK = f"[click](http://{REMOTE}/)"
HTML_IMG = f"<img src=http://{REMOTE}/y.png>"
BARE = f"http://{REMOTE}/z"
WWW = "www.example.com"
EMAIL = "kai@example.com"
ALL = f"{IMAGE} {LINK} {HTML_IMG} {BARE} {WWW} {EMAIL}"
PASSWORD = "password123456"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
WAIT_MS = 60_000  # a condition waited for, not a sleep: CI is a busy 2-core machine

#: JavaScript: every link and every image-like element whose target is not this host (mailto: and the like count).
OFF_HOST = r"""() => {
  const local = (u) => (u.protocol === 'http:' || u.protocol === 'https:')
                       && ['127.0.0.1', 'localhost'].includes(u.hostname);
  const found = [];
  for (const a of document.querySelectorAll('a[href]')) {
    // the app's own tap-to-call buttons (ui/tablet.py builds them from validated numbers; markdown cannot make one)
    if (a.closest('[data-testid="stLinkButton"]') && /^tel:\+?\d{3,15}$/.test(a.getAttribute('href'))) continue;
    if (!local(new URL(a.href, location.href))) found.push('a ' + a.getAttribute('href'));
  }
  for (const e of document.querySelectorAll('img[src], image, source[src], iframe[src], video[src], audio[src]')) {
    const src = e.getAttribute('src') || e.getAttribute('href') || e.getAttribute('xlink:href') || '';
    if (src.startsWith('data:')) continue;
    if (!local(new URL(src, location.href))) found.push(e.tagName.toLowerCase() + ' ' + src);
  }
  return found;
}"""


@pytest.fixture
def seeded(tmp_path):
    path = tmp_path / "remote.db"
    db = open_db(path)
    admin = User("root", frozenset(ROLES))
    accounts.create_user(db, None, "root", PASSWORD, ["admin"])
    accounts.create_user(db, admin, "eo", PASSWORD, ["engagement_officer"], display_name=f"Officer {WWW}")
    accounts.create_user(db, admin, "lead", PASSWORD, ["strategy_lead"])
    accounts.create_user(db, admin, "guard", PASSWORD, ["safeguarding_lead"])
    settings.put(db, admin, "area_name", f"Dudley {IMAGE} {LINK} {WWW}")
    settings.put(db, admin, "safeguarding_procedure",
                 f"Call the lead on 01384 000000 {LINK}\n{IMAGE} {HTML_IMG}\nSee {BARE} or {WWW}, mail {EMAIL}")
    event = create_event(db, admin, name=f"Fair {IMAGE} {WWW}", date="2026-11-20", venue=f"Hall {LINK} {BARE}",
                         area=f"Brierley {IMAGE} {HTML_IMG} {WWW}")
    other = create_event(db, admin, name=f"Drop-in {LINK}", date="2026-11-21")  # its question uses the setting
    saved = save_respondent(db, admin, event_id=event.id, group_id="young_person", consent=True,
                            answers={"thrive_helps": [f"youth clubs {IMAGE} {LINK}", f"parks {HTML_IMG} {BARE}"],
                                     "thrive_stops": [f"nothing to do, see {WWW} or mail {EMAIL}"],
                                     "thrive_local": ["a safe park near the shops"]})
    save_respondent(db, admin, event_id=other.id, group_id="parent_carer", consent=True,
                    answers={"thrive_local": [f"my dad hits me {LINK} {IMAGE} {WWW}"]})  # a disclosure: flagged
    theme = codebook.create_code(db, admin, "hostile", f"Theme {IMAGE} {LINK} {WWW}",
                                 definition=f"Definition {HTML_IMG} {BARE} {EMAIL}")
    codebook.create_code(db, admin, "hostile_sub", f"Sub {LINK} {BARE}", definition=IMAGE, parent=theme)
    coder = User("olu", frozenset({"engagement_officer"}))  # so the answers are still "not yet coded" for eo
    for (response_id,) in db.execute("SELECT id FROM responses WHERE respondent_id = ?", [saved.respondent_id]):
        coding.apply_code(db, coder, response_id, "hostile")
        findings.pin_quote(db, coder, theme.id, response_id)
    for i, group in enumerate(["young_person", "parent_carer"] * 4):  # enough people for the charts to be drawn
        more = save_respondent(db, admin, event_id=event.id, group_id=group, consent=True,
                               answers={"thrive_helps": [f"a youth club open late, number {i}"]})
        (response_id,) = db.execute("SELECT id FROM responses WHERE respondent_id = ?", [more.respondent_id]).fetchone()
        coding.apply_code(db, coder, response_id, "hostile_sub")
    db.conn.close()
    return path


class Guard:
    """One browser; a fresh context per person, every request routed: off-host ones are aborted and recorded."""

    def __init__(self, browser) -> None:
        self.browser = browser
        self.attempted: list[str] = []

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.attempted.append(url)
            route.abort()

    @contextlib.contextmanager
    def page(self) -> Iterator[object]:
        context = self.browser.new_context(viewport=TABLET, has_touch=True, device_scale_factor=1)
        context.route("**/*", self._route)
        try:
            page = context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            context.close()


@contextlib.contextmanager
def chromium(executable: str) -> Iterator[Guard]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield Guard(browser)
        finally:
            browser.close()


def _open(page, title: str) -> None:
    from playwright.sync_api import expect

    from tests.browser_support import open_page

    open_page(page, title)  # the top bar's Menu: the sidebar starts collapsed
    expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=WAIT_MS)
    wait_for_app(page)


def _check(page, guard: Guard, where: str, shots: list[str]) -> None:
    """Nothing off-host attempted so far, none in the DOM; a screenshot for a person to look at."""
    wait_for_app(page)
    assert guard.attempted == [], f"remote requests attempted by {where}: {guard.attempted}"
    assert page.evaluate(OFF_HOST) == [], f"off-host links or images on {where}"
    shots.append(str(screenshot(page, f"remote_{where}")))


def _visible(page, text: str, within: str = '[data-testid="stMain"]') -> None:
    from playwright.sync_api import expect

    expect(page.locator(within).get_by_text(text, exact=False).first).to_be_visible(timeout=WAIT_MS)


def test_stored_markdown_loads_nothing_remote_and_links_nowhere(seeded):
    executable = require_browser()
    from playwright.sync_api import expect

    shots: list[str] = []
    with streamlit_server(seeded) as url, chromium(executable) as guard:
        with guard.page() as page:  # the engagement officer: Transcribe, Code, Codebook, Findings
            sign_in(page, url, "eo", PASSWORD, "transcribe")
            expect(page.get_by_role("heading", name="Transcribe post-its")).to_be_visible(timeout=WAIT_MS)
            # the question on the flipchart names the area (the setting's, then the event's own), as text
            questions = page.locator(".st-key-transcribe_question")
            expect(questions.get_by_role("radio")).to_have_count(4, timeout=WAIT_MS)
            _check(page, guard, "transcribe_setting_area", shots)
            _visible(page, "Dudley ![x](http:", within=".st-key-transcribe_question")
            box = page.locator(".st-key-transcribe_event").get_by_role("combobox")
            box.click()
            box.fill("Fair")
            page.keyboard.press("Enter")
            expect(questions).to_contain_text("Brierley", timeout=WAIT_MS)
            _check(page, guard, "transcribe", shots)
            _visible(page, "Brierley ![x](http:", within=".st-key-transcribe_question")
            page.locator(".st-key-transcribe_group").get_by_role("radio", name="Young person").tap()
            wait_for_app(page)
            box = page.get_by_label("Post-it text (press Enter to add it and start the next)")
            box.fill(f"my dad hits me {IMAGE} {BARE}")
            box.press("Enter")
            # flagged: the guidance shows the hostile safeguarding procedure, line by line, as text
            guidance = page.locator(".st-key-transcribe_guidance")
            expect(guidance.get_by_role("listitem")).to_have_count(3, timeout=WAIT_MS)
            _check(page, guard, "transcribe_flagged", shots)
            _visible(page, "Call the lead on 01384 000000 [click](http:", within=".st-key-transcribe_guidance")
            _visible(page, f"{IMAGE[:9]}", within=".st-key-transcribe_guidance")

            _open(page, "Code answers")
            expect(page.locator(".st-key-code_card [data-testid=stButtonGroup]").first).to_be_visible(timeout=WAIT_MS)
            _check(page, guard, "code", shots)
            _visible(page, "Theme ![x](http:", within=".st-key-code_card")  # the code's pill
            search = page.get_by_label("Search the answers")
            search.fill(f"youth clubs {IMAGE}")  # the bulk-coding box quotes the search typed
            search.press("Enter")
            expect(page.get_by_text("Code every answer matching", exact=False)).to_be_visible(timeout=WAIT_MS)
            expect(page.locator(".st-key-code_answer")).to_contain_text("youth clubs", timeout=WAIT_MS)
            _check(page, guard, "code_search", shots)
            _visible(page, f"youth clubs {IMAGE[:9]}", within=".st-key-code_answer")  # the answer, as text

            _open(page, "Codebook")
            expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible(timeout=WAIT_MS)
            _check(page, guard, "codebook", shots)

        with guard.page() as page:  # the strategy lead: Findings
            sign_in(page, url, "lead", PASSWORD, "findings")
            expect(page.get_by_role("heading", name="Findings")).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_role("heading", level=3)).to_have_count(3, timeout=WAIT_MS)  # one per question
            _check(page, guard, "findings", shots)
            _visible(page, "Dudley ![x](http:")  # question headings name the hostile area setting
            page.get_by_role("tab", name="Quotes").tap()
            expect(page.get_by_text("pinned", exact=False).first).to_be_visible(timeout=WAIT_MS)
            _check(page, guard, "findings_quotes", shots)
            _visible(page, "youth clubs")  # a pinned quote, as text
            _visible(page, "Fair ![x](http:")  # its event's name, in the quote's caption
            # the tabs are lazy (only the one on screen is drawn): each is opened and checked in turn
            for tab in ("Groups", "Together", "Words", "Progress", "Export"):
                page.get_by_role("tab", name=tab).tap()
                expect(page.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true", timeout=WAIT_MS)
                wait_for_app(page)
                _check(page, guard, f"findings_{tab.lower()}", shots)

        with guard.page() as page:  # the safeguarding lead: the queue shows both flagged answers as text
            sign_in(page, url, "guard", PASSWORD, "safeguarding")
            expect(page.locator('[data-testid="stCode"]')).to_have_count(2, timeout=WAIT_MS)  # two flagged answers
            _check(page, guard, "safeguarding", shots)
            _visible(page, f"my dad hits me {LINK}")
            _visible(page, f"my dad hits me {IMAGE} {BARE}")

    assert len(shots) == 14  # every page and each Findings tab checked


# --- md_escape in every element that reads markdown ---------------------------------------------------------------

SCRATCH_PAGE = """
import sys
import streamlit as st
sys.path.insert(0, {root!r})
from ui.session import md_escape

st.set_page_config(page_title="scratch", page_icon="🌱")
TEXT = {text!r}
with st.container(key="control"):  # the raw text: this block must make links (else the check proves nothing)
    st.markdown("{link} {www}")
with st.container(key="escaped"):
    e = md_escape(TEXT)
    st.markdown(e)
    st.caption(e)
    st.info(e)
    st.title(e)
    st.subheader(e)
    st.button(e, key="b", help=e)
    st.radio(e, [e, "b"], key="r")
    st.pills(e, [TEXT, "b"], format_func=md_escape, key="p")
    st.segmented_control(e, [TEXT, "b"], format_func=md_escape, key="s")
    st.checkbox(e, key="c")
    st.toggle(e, key="t")
    st.text_input(e, key="ti", help=e)
    st.metric(e, 1, help=e)
    st.progress(0.5, e)
    st.select_slider(e, [TEXT, "b"], format_func=md_escape, key="ss")
    with st.expander(e, expanded=True):
        st.write(e)
    st.tabs([e, "other"])
    with st.form("f"):
        st.form_submit_button(e)
    st.download_button(e, b"x", file_name="x.txt")
    st.selectbox("plain options", [TEXT], key="sb")  # options are plain text: given unescaped
    st.multiselect("plain options", [TEXT], default=[TEXT], key="ms")
    st.text(TEXT)
    st.code(TEXT, language=None)
    st.toast(e, duration="infinite")
"""


def test_md_escape_output_renders_as_the_same_text_with_no_link_or_image(tmp_path):
    executable = require_browser()
    from playwright.sync_api import expect

    hostile = f"{ALL} <http://{REMOTE}/a> mailto:{EMAIL} :material/home: $x^2$ **bold**"
    script = tmp_path / "scratch_app.py"
    script.write_text(textwrap.dedent(SCRATCH_PAGE.format(root=str(ROOT), text=hostile, link=LINK, www=WWW)))
    with _scratch_server(script) as url, chromium(executable) as guard, guard.page() as page:
        page.goto(url)
        escaped = page.locator(".st-key-escaped")
        expect(escaped.locator('[data-testid="stCode"]')).to_be_visible(timeout=WAIT_MS)
        expect(page.locator('[data-testid="stToast"]')).to_be_visible(timeout=WAIT_MS)
        wait_for_app(page)
        # the control block does make links from the same kind of text
        assert page.locator(".st-key-control a[href]").count() == 2
        for icon in page.locator('.st-key-escaped [data-testid="stTooltipIcon"]').all():
            icon.hover()  # tooltips render their markdown only when shown
            expect(page.locator('[data-testid="stTooltipContent"]').last).to_be_visible(timeout=WAIT_MS)
            assert page.evaluate(OFF_HOST) == ["a http://" + REMOTE + "/", "a http://www.example.com"]
        screenshot(page, "remote_md_escape")
        off = page.evaluate(OFF_HOST)
        assert off == ["a http://" + REMOTE + "/", "a http://www.example.com"], off  # the control block's only
        assert guard.attempted == []
        assert page.locator(".st-key-escaped strong, .st-key-escaped em, .st-key-escaped .katex").count() == 0
        # every markdown element shows exactly the stored characters (word joiners are invisible)
        shown = page.evaluate("""() => [...document.querySelectorAll(
            '.st-key-escaped [data-testid="stMarkdownContainer"], [data-testid="stToast"] [data-testid="stMarkdownContainer"]')]
            .map(e => e.innerText.replaceAll('\\u2060', '').trim()).filter(t => t && !['b', 'other', '1', 'plain options'].includes(t))""")
        assert len(shown) >= 20
        assert set(shown) == {hostile}, set(shown) - {hostile}


def _scratch_server(script: Path):
    """Run a one-file Streamlit script (not the app) on a free loopback port."""
    from tests.browser_support import run_streamlit

    return run_streamlit(script, log_path=script.with_suffix(".log"), cwd=script.parent)


