"""Real browser: an untouched tablet signs itself out after the idle time (the page's own timer, no tap needed)."""

from __future__ import annotations

import pytest

from data import accounts, open_db
from tests.browser_support import require_browser, screenshot, sign_in, streamlit_server, tablet_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_untouched_tablet_signs_itself_out(tmp_path):
    executable = require_browser()
    path = tmp_path / "idle.db"
    db = open_db(path)
    accounts.create_user(db, None, "admin", "password123456", ["admin"])
    db.conn.close()
    env = {"THRIVE_IDLE_TIMEOUT_MINUTES": "1", "THRIVE_IDLE_CHECK_SECONDS": "5"}
    with streamlit_server(path, env=env) as url, tablet_page(executable) as page:
        sign_in(page, url, "admin", "password123456")
        # nobody touches the tablet: within the minute plus one check it shows the sign-in form again
        page.get_by_text("signed out after a period of inactivity").wait_for(timeout=90_000)
        assert page.get_by_role("button", name="Sign in").is_visible()
        assert page.get_by_text("Signed in as").count() == 0
        screenshot(page, "idle_signed_out")
