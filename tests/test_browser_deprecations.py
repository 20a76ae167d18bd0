"""Real browser: every page opened as an admin (and the safeguarding queue as the safeguarding lead) leaves no
deprecation warning in the server log (a Streamlit upgrade turns those into errors)."""

from __future__ import annotations

import re

import pytest

from data import accounts, capture, open_db
from data.events import create_event
from tests.browser_support import (
    open_page,
    require_browser,
    server_log,
    sign_in,
    streamlit_server,
    tablet_page,
    wait_for_app,
)
from ui.nav import PAGES

pytestmark = pytest.mark.browser

#: Streamlit's own deprecation messages ("Please replace `x` with `y`. `x` will be removed after ...") do not all say
#: "deprecated", so the check looks for those phrases too.
DEPRECATION = re.compile(r"deprecat|will be removed|please replace", re.IGNORECASE)


@pytest.fixture
def seeded(tmp_path):
    path = tmp_path / "pages.db"
    db = open_db(path)
    accounts.create_user(db, None, "admin", "password123456", ["admin"])
    admin = accounts.sign_in(db, "admin", "password123456")
    accounts.create_user(db, admin, "sue", "password654321", ["safeguarding_lead"], display_name="Sue")
    event = create_event(db, admin, name="Family fun day", date="2026-11-20", venue="Stourbridge library")
    capture.save_respondent(db, admin, event_id=event.id, group_id="young_person", consent=True,
                            answers={"thrive_helps": ["Youth club on Fridays"],
                                     "thrive_stops": ["my dad hits me when he is drunk"]})
    db.conn.close()
    return path


def visit(page, title: str) -> None:
    open_page(page, title)
    path = next(p.url_path for p in PAGES if p.title == title)
    page.wait_for_function("p => location.pathname.replace(/\\/$/, '').endsWith(p === 'home' ? '' : '/' + p)",
                           arg=path)
    wait_for_app(page)
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, (title, errors.first.inner_text())


def test_no_page_logs_a_deprecation_warning(seeded):
    executable = require_browser()
    with streamlit_server(seeded) as url, tablet_page(executable) as page:
        sign_in(page, url, "admin", "password123456")
        page.locator('[class*="st-key-topbar_menu"] button').first.tap()
        menu = page.locator('[data-testid="stPopoverBody"]').get_by_role("link")
        menu.last.wait_for()
        titles = [x.strip().splitlines()[-1] for x in menu.all_inner_texts()]  # after the icon's name
        page.keyboard.press("Escape")
        expected = [p.title for p in PAGES if p.permission != "safeguarding"]
        assert titles == expected, titles  # the admin's menu holds every page but the safeguarding queue
        for title in titles:
            visit(page, title)
        page.locator(".st-key-topbar_sign_out button").tap()
        page.get_by_label("Username").wait_for()
        sign_in(page, url, "sue", "password654321")
        visit(page, "Safeguarding")
        page.get_by_text("my dad hits me").first.wait_for()  # the page really drew its queue
        log = server_log(url)
    found = [line for line in log.splitlines() if DEPRECATION.search(line)]
    assert found == [], "\n".join(found)


def test_the_log_check_can_fail():
    from streamlit.deprecation_util import make_deprecated_name_warning

    real = make_deprecated_name_warning("use_container_width", "width", "2025-12-31", include_st_prefix=False)
    assert any(DEPRECATION.search(line) for line in real.splitlines())
    assert DEPRECATION.search("DeprecationWarning: datetime.utcnow() is deprecated")
    assert not DEPRECATION.search("2026-12-01 INFO streamlit: You can now view your Streamlit app")


def test_no_use_container_width_left_in_the_app_source():
    """Also the calls no page visit above happens to draw (a problems table, a preview)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = [root / "app.py", *sorted((root / "pages").glob("*.py")), *sorted((root / "ui").rglob("*.py"))]
    found = [f"{p.relative_to(root)}:{n}" for p in files
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if "use_container_width" in line]
    assert found == []
