"""The per-run database connection, the signed-in user, and the guard every page starts with.

Session keys owned here: `auth_user` (a data.users.User), `auth_last_seen` (epoch seconds of the last run the
person caused), `auth_idle_notice` (say why they were signed out), `auth_next_page` (the page asked for by URL
before signing in), `auth_session_id` / `auth_session_token` / `auth_session_touched` (the server-side sign-in
session, data/sessions.py, and the token this browser's cookie must hold) and `auth_forget_cookie` (delete it).

A reload, a discarded tab or a server restart starts a new Streamlit session with nothing in it; the first run then
finds the token in the cookie (st.context.cookies, sent with the websocket handshake) and restores the user, so the
sign-in form never shows. Streamlit has no API to set a cookie, so a tiny script (st.html with JavaScript, run in
the page itself, not an iframe) writes document.cookie; that is why it cannot be HttpOnly.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from pathlib import Path

import streamlit as st

import config
from data import accounts, open_db, sessions, settings
from data.db import Database, describe_db_error
from data.users import User

log = logging.getLogger(__name__)

USER_KEY = "auth_user"
LAST_SEEN_KEY = "auth_last_seen"
IDLE_NOTICE_KEY = "auth_idle_notice"
NEXT_PAGE_KEY = "auth_next_page"  # the URL path asked for before signing in
SESSION_ID_KEY = "auth_session_id"
SESSION_TOKEN_KEY = "auth_session_token"  # server memory only: written into the cookie, never logged
SESSION_TOUCHED_KEY = "auth_session_touched"  # epoch seconds last_seen was last written
FORGET_COOKIE_KEY = "auth_forget_cookie"
LANGUAGE_KEY = "auth_language"  # the interface language this sign-in chose (kept in the session record too)
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


_fresh_db = db  # for functions whose `db` parameter hides this one


def ensure_frame() -> None:
    """Make sure app.py (the frame with sign-in and navigation) runs, even on a fresh server's first request.

    Until st.navigation has been called once in a server process, Streamlit treats the `pages/` folder as an
    old-style multipage app: the very first request for /collect would run pages/collect.py directly, with every
    page listed in the sidebar. Switching that mode off and rerunning runs app.py instead.

    The mode is one flag for the whole process, so it cannot tell which run it applied to: when two sessions start
    together on a fresh server (a reload while the old tab reconnects), both run their page directly, the first
    switches the flag off, and the second would find it off and show "Please sign in" with Streamlit's page list
    (tests/test_browser_reload.py failed this way under load). So the page also asks whether this run came through
    Streamlit's old-style runner.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory or _run_as_old_style_page():
        PagesManager.uses_pages_directory = False
        st.rerun()


def _run_as_old_style_page() -> bool:
    """Whether this script run is Streamlit's old-style `pages/` runner (`_mpa_v1`), not app.py's navigation."""
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "_mpa_v1" and frame.f_globals.get("__name__", "").startswith("streamlit."):
            return True
        frame = frame.f_back
    return False


def current_user() -> User | None:
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, User) else None


def guard(permission: str) -> User:
    """Return the signed-in user if they may use this page; otherwise show a refusal, no data, and stop."""
    ensure_frame()
    user = current_user()
    from ui.i18n import t

    if user is None:
        st.warning(t("frame.please_sign_in", ui_language()))
        st.stop()
    if not user.can(permission):
        st.error(t("frame.no_access_page", ui_language()))
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
    from data.db import db_error_kind
    from ui.i18n import t

    kind = db_error_kind(exc)
    if kind is None:
        return False
    log.error("database error while running a page", exc_info=exc)
    st.error(t(f"db_error.{kind}", ui_language()), icon=":material/database:")
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


def sign_in(user: User, db: Database | None = None, language: str | None = None) -> None:
    """Sign `user` in for this browser; with `db`, open a server-side session whose token goes into the cookie.
    `language` (the sign-in page's choice) becomes every page's interface language for this session."""
    st.session_state.pop(FORGET_COOKIE_KEY, None)
    st.session_state[USER_KEY] = user
    st.session_state[LAST_SEEN_KEY] = time.time()
    st.session_state[LANGUAGE_KEY] = _known_language(language)
    if db is not None:
        token, record = sessions.start(db, user.username, user_agent=_header("User-Agent"))
        st.session_state[SESSION_ID_KEY] = record.id
        st.session_state[SESSION_TOKEN_KEY] = token
        st.session_state[SESSION_TOUCHED_KEY] = time.time()
        if st.session_state[LANGUAGE_KEY] is not None:
            sessions.set_language(db, record.id, user.username, st.session_state[LANGUAGE_KEY])


def _known_language(code: object) -> str | None:
    """`code` if a catalogue ships it and it is not the default, else None (the default)."""
    from ui import i18n

    return code if isinstance(code, str) and code != i18n.BASE and code in i18n.languages() else None


def ui_language() -> str:
    """The interface language of this sign-in session: what the person chose on the sign-in page or in the Menu
    (kept across a reload and a server restart), English by default. Every page passes it to ui.i18n.t."""
    from ui import i18n

    return _known_language(st.session_state.get(LANGUAGE_KEY)) or i18n.BASE


def set_ui_language(db: Database, code: str) -> None:
    """Change this session's interface language (the Menu's choice) and remember it in the session record."""
    chosen = _known_language(code)
    st.session_state[LANGUAGE_KEY] = chosen
    sid, user = session_id(), current_user()
    if sid is not None and user is not None:
        sessions.set_language(db, sid, user.username, chosen)


def problem_text(problem: str, lang: str | None) -> str:
    """A problem from the core in `lang`: its catalogue text (capture_error.<key>, filled in) when it names one
    (data.capture.Problem), else the core's own English words."""
    from ui.i18n import t

    key = getattr(problem, "key", None)
    return t(f"capture_error.{key}", lang, **problem.fill) if key else str(problem)


#: Which catalogue text tells a refused sign-in in another language (the core's message is English, with numbers).
_REFUSAL_KINDS = (("switched off", "signin.disabled"), ("locked", "signin.locked"), ("slowed down", "signin.throttled"))


def sign_in_refusal(exc: Exception, lang: str | None = None) -> str:
    """A refused sign-in in plain words in `lang`: in English the core's own message (it says how long to wait),
    in another language the catalogue's text for that kind of refusal."""
    from ui.i18n import BASE, t

    message = str(exc)
    if lang in (None, BASE):
        return message
    key = next((k for words, k in _REFUSAL_KINDS if words in message), "signin.refused")
    return t(key, lang)


def _header(name: str) -> str | None:
    try:
        value = st.context.headers.get(name)
    except Exception:  # noqa: BLE001 - no request context (AppTest, bare mode): no hint
        return None
    return value if isinstance(value, str) else None


def _cookie_token() -> str | None:
    try:
        value = st.context.cookies.get(sessions.COOKIE_NAME)
    except Exception:  # noqa: BLE001 - no request context
        return None
    return value if isinstance(value, str) else None  # AppTest's stand-in client has no real cookies


def session_id() -> str | None:
    """The server-side session of this browser (drafts are kept per session: it is the device)."""
    value = st.session_state.get(SESSION_ID_KEY)
    return value if isinstance(value, str) else None


def sign_out(*, idle: bool = False, db: Database | None = None, why: str | None = None) -> None:
    """End the server-side session and forget everything this one held (typed answers included: the tablet is
    shared); the browser's cookie is deleted on the next run."""
    sid = session_id()
    if sid is not None:
        user = current_user()
        try:
            conn = db if db is not None else _fresh_db()
            try:
                sessions.revoke(conn, user.username if user else None, sid,
                                why=why or ("idle" if idle else "signed out"))
            finally:
                if db is None:
                    conn.conn.close()
        except Exception as exc:  # a busy database must not keep someone signed in on screen
            if describe_db_error(exc) is None:
                raise
            log.warning("could not end the session at sign-out: %s", exc)
    st.session_state.clear()
    st.session_state[FORGET_COOKIE_KEY] = True
    if idle:
        st.session_state[IDLE_NOTICE_KEY] = True


def _restore(db: Database, now: float) -> User | None:
    """A new Streamlit session (reload, new tab, server restart): pick the user up from the cookie's token."""
    token = _cookie_token()
    if not token or st.session_state.get(FORGET_COOKIE_KEY):
        return None
    resumed = sessions.resume(db, token, idle_seconds=idle_timeout_seconds(db))
    if resumed.session is None:
        if resumed.refused == "idle":
            st.session_state[IDLE_NOTICE_KEY] = True
        st.session_state[FORGET_COOKIE_KEY] = True
        return None
    fresh = accounts.current_user(db, User(resumed.session.username))
    if fresh is None:  # disabled or removed since (normally revoked already)
        sessions.revoke(db, None, resumed.session.id, why="account disabled")
        st.session_state[FORGET_COOKIE_KEY] = True
        return None
    st.session_state[USER_KEY] = fresh
    st.session_state[LAST_SEEN_KEY] = now
    st.session_state[SESSION_ID_KEY] = resumed.session.id
    st.session_state[SESSION_TOKEN_KEY] = token
    st.session_state[SESSION_TOUCHED_KEY] = now
    st.session_state[LANGUAGE_KEY] = _known_language(sessions.language(db, resumed.session.id, fresh.username))
    return fresh


def refresh_user(db: Database, *, now: float | None = None) -> User | None:
    """The signed-in user for this run, after the idle check; roles are re-read from the database.

    Signs the session out if it was idle too long, the account was disabled or removed, or its server-side session
    was revoked (sign-out elsewhere, an admin) meanwhile. With nobody signed in, a live session cookie signs in.
    """
    now = time.time() if now is None else now
    user = current_user()
    if user is None:
        return _restore(db, now)
    if is_idle(st.session_state.get(LAST_SEEN_KEY, now), now, idle_timeout_seconds(db)):
        sign_out(idle=True, db=db)
        return None
    sid = session_id()
    if sid is not None:
        ended = sessions.check(db, sid, idle_seconds=idle_timeout_seconds(db))
        if ended is not None:
            sign_out(idle=ended == "idle", db=db)
            return None
    fresh = accounts.current_user(db, user)
    if fresh is None:
        sign_out(db=db, why="account disabled")
        return None
    st.session_state[USER_KEY] = fresh
    st.session_state[LAST_SEEN_KEY] = now
    if sid is not None and now - st.session_state.get(SESSION_TOUCHED_KEY, 0) >= sessions.TOUCH_EVERY_SECONDS:
        sessions.touch(db, sid)
        st.session_state[SESSION_TOUCHED_KEY] = now
    return fresh


_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,128}$")


def cookie_script(db: Database) -> str | None:
    """The script that keeps this browser's cookie in step with the session (set, renewed, or deleted), or None.

    The body changes once a minute while someone is active, so the cookie's Max-Age (the idle limit) is renewed by
    use; the server's last_seen is the real clock. Secure is added when the page is served over https.
    """
    token = st.session_state.get(SESSION_TOKEN_KEY)
    if isinstance(token, str) and _TOKEN_SHAPE.match(token) and current_user() is not None:
        max_age = int(idle_timeout_seconds(db))
        value = f"{token}; Max-Age={max_age}"
        minute = int(time.time() // 60)
    elif st.session_state.get(FORGET_COOKIE_KEY) and _cookie_token():
        value, minute = "; Max-Age=0", 0
    else:
        return None
    return ("<script>(function(){var s=location.protocol==='https:'?'; Secure':'';"
            f"document.cookie='{sessions.COOKIE_NAME}={value}; Path=/; SameSite=Strict'+s;"
            "if(document.currentScript){document.currentScript.remove();}})();</script>"
            f"<!-- {minute} -->")


def sync_cookie(db: Database) -> None:
    """Emit cookie_script, in a container that takes no room on screen. While nobody is signed in, the text boxes
    this tab kept (ui.tablet.commit_on_leave) are forgotten too: the tablet may pass to someone else."""
    if current_user() is None:
        from ui import tablet  # ui.tablet imports this module

        tablet.forget_boxes()
    script = cookie_script(db)
    if script is None:
        return
    st.html("<style>.st-key-auth_cookie { display: none; }</style>")
    with st.container(key="auth_cookie"):
        st.html(script, unsafe_allow_javascript=True)


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
