"""The per-run database connection, the signed-in user, and the guard every page starts with.

Session keys owned here: `auth_user` (a data.users.User), `auth_last_seen` (epoch seconds of the last run the
person caused), `auth_idle_notice` (say why they were signed out) and `auth_next_page` (the page asked for by URL
before signing in).
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

import streamlit as st

import config
from data import accounts, open_db, settings
from data.db import Database, describe_db_error
from data.users import User

log = logging.getLogger(__name__)

USER_KEY = "auth_user"
LAST_SEEN_KEY = "auth_last_seen"
IDLE_NOTICE_KEY = "auth_idle_notice"
NEXT_PAGE_KEY = "auth_next_page"  # the URL path asked for before signing in
#: How often an open page checks, by itself, whether its user has been idle too long (seconds).
IDLE_CHECK_SECONDS = float(os.environ.get("THRIVE_IDLE_CHECK_SECONDS", "30"))


@st.cache_resource(show_spinner=False)
def _migrated(path: str) -> bool:
    """Apply migrations once per database file per server process (the connection itself is not cached)."""
    open_db(Path(path), migrate=True).conn.close()
    return True


def db() -> Database:
    """A fresh connection for this script run: connections are never shared between sessions."""
    path = str(config.db_path())
    _migrated(path)
    return open_db(Path(path), migrate=False)


def ensure_frame() -> None:
    """Make sure app.py (the frame with sign-in and navigation) runs, even on a fresh server's first request.

    Until st.navigation has been called once in a server process, Streamlit treats the `pages/` folder as an
    old-style multipage app: the very first request for /collect would run pages/collect.py directly, with every
    page listed in the sidebar. Switching that mode off and rerunning runs app.py instead.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def current_user() -> User | None:
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, User) else None


def guard(permission: str) -> User:
    """Return the signed-in user if they may use this page; otherwise show a refusal, no data, and stop."""
    ensure_frame()
    user = current_user()
    if user is None:
        st.warning("Please sign in to use this page.")
        st.stop()
    if not user.can(permission):
        st.error("You don't have access to this page. If you need it, ask an admin to give you the right role.")
        st.stop()
    return user


#: Every character that means something to Streamlit's markdown (CommonMark + GFM, HTML, KaTeX `$`, emoji and
#: icon shortcodes and colour directives with `:`).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")
#: Where GFM would turn text into a link. Its autolinks ("www.x.org", "http://x", "kai@x.org") are found in the
#: text *after* backslash escapes are decoded, so escaping cannot stop them (checked in Chromium: see
#: tests/test_browser_remote.py); an invisible word joiner (U+2060) at just these spots does.
_AUTOLINK_SPOT = re.compile(r"(?i)(?<=www)(?=\.)|(?<=[a-z]:)(?=//)|(?<=[-.\w+])(?=@)")
WORD_JOINER = "\u2060"


def md_escape(text: str) -> str:
    """Stored text made safe inside Streamlit markdown (labels, captions, options, tooltips): it shows the same
    characters and can make no link, image, heading, emphasis, formula or icon.

    Prefer `st.text` for stored text standing on its own; use this where markdown is unavoidable. The only change
    a reader could notice is an invisible word joiner before "@" and inside "www." and "://" (see _AUTOLINK_SPOT).
    """
    return _MD_SPECIAL.sub(_escape_one, _AUTOLINK_SPOT.sub(WORD_JOINER, str(text)))


def _escape_one(match: re.Match[str]) -> str:
    # ":material/home:" becomes an icon even when its colons are backslash-escaped; a character reference does not
    return "&#58;" if match.group(1) == ":" else "\\" + match.group(1)


def show_db_error(exc: BaseException) -> bool:
    """If `exc` means the database is busy, full, read-only or unreachable, show that in plain words (the detail
    goes to the server log) and return True; otherwise return False and let the caller re-raise."""
    message = describe_db_error(exc)
    if message is None:
        return False
    log.error("database error while running a page", exc_info=exc)
    st.error(message, icon=":material/database:")
    return True


def idle_timeout_seconds(db: Database) -> float:
    """The configured idle time (admin setting "idle_timeout_minutes", default THRIVE_IDLE_TIMEOUT_MINUTES)."""
    try:
        return settings.get_int(db, "idle_timeout_minutes") * 60
    except Exception:  # noqa: BLE001 - a broken setting must not lock everyone out: fall back to config
        return config.IDLE_TIMEOUT_MINUTES * 60


def is_idle(last_seen: float | None, now: float, timeout_seconds: float) -> bool:
    """Whether a session last used at `last_seen` has been idle longer than the timeout."""
    return last_seen is not None and now - last_seen > timeout_seconds


def sign_in(user: User) -> None:
    st.session_state[USER_KEY] = user
    st.session_state[LAST_SEEN_KEY] = time.time()


def sign_out(*, idle: bool = False) -> None:
    """Forget everything this session held (typed answers included: the tablet is shared)."""
    st.session_state.clear()
    if idle:
        st.session_state[IDLE_NOTICE_KEY] = True


def refresh_user(db: Database, *, now: float | None = None) -> User | None:
    """The signed-in user for this run, after the idle check; roles are re-read from the database.

    Signs the session out if it was idle too long or the account was disabled or removed meanwhile.
    """
    user = current_user()
    if user is None:
        return None
    now = time.time() if now is None else now
    if is_idle(st.session_state.get(LAST_SEEN_KEY, now), now, idle_timeout_seconds(db)):
        sign_out(idle=True)
        return None
    fresh = accounts.current_user(db, user)
    if fresh is None:
        sign_out()
        return None
    st.session_state[USER_KEY] = fresh
    st.session_state[LAST_SEEN_KEY] = now
    return fresh


@st.fragment(run_every=IDLE_CHECK_SECONDS)
def idle_watch() -> None:
    """Re-checks idleness on a timer, so an untouched tablet signs itself out without anyone tapping it."""
    if current_user() is None:
        return
    try:
        conn = db()
        try:
            timeout = idle_timeout_seconds(conn)
        finally:
            conn.conn.close()
    except Exception as exc:  # a busy or unreachable database must not put a traceback in the sidebar
        if describe_db_error(exc) is None:
            raise
        log.warning("idle check skipped: %s", exc)
        return
    if is_idle(st.session_state.get(LAST_SEEN_KEY), time.time(), timeout):
        sign_out(idle=True)
        st.rerun(scope="app")
