"""Thrive Voices: the frame. Signs the user in, builds the navigation for their roles, runs the chosen page.

Run with `streamlit run app.py`. The database is THRIVE_DB or data/thrive.db (created on first run).
"""

from __future__ import annotations

import streamlit as st

from data import accounts
from data.users import ROLE_LABELS, PermissionDenied
from ui import session
from ui.nav import PAGES

st.set_page_config(page_title="Thrive Voices", page_icon="🌱", layout="centered")


def first_run(db) -> None:
    st.title("Welcome to Thrive Voices")
    st.write("There is no admin account yet. Create the first one: it can then add everyone else.")
    with st.form("first_admin"):
        username = st.text_input("Admin username")
        display = st.text_input("Your name (optional)")
        password = st.text_input("Password (at least 10 characters)", type="password")
        again = st.text_input("Password again", type="password")
        if st.form_submit_button("Create admin account", type="primary", width="stretch"):
            if password != again:
                st.error("The two passwords differ. Type them again.")
            else:
                try:
                    accounts.create_user(db, None, username.strip(), password, ["admin"], display_name=display.strip())
                except (accounts.AccountError, PermissionDenied) as exc:
                    st.error(session.md_escape(str(exc)))
                else:
                    st.success("Admin account created. Sign in below.")
                    st.rerun()
    st.caption("Or from a terminal: `python cli.py users add NAME --role admin`, or `python cli.py demo` for demo accounts.")


def sign_in_form(db) -> None:
    st.title("Thrive Voices")
    if st.session_state.pop(session.IDLE_NOTICE_KEY, False):
        st.info("You were signed out after a period of inactivity. Please sign in again.")
    st.write("Sign in with your name and password. Peer researchers: use the PIN you were given.")
    if db.execute("SELECT 1 FROM users WHERE is_demo = 1 LIMIT 1").fetchone():
        st.info("This is a demo database with demo accounts (see the README). Do not record real answers here.")
    with st.form("sign_in"):
        username = st.text_input("Username", autocomplete="username")
        secret = st.text_input("Password or PIN", type="password", autocomplete="current-password")
        if st.form_submit_button("Sign in", type="primary", width="stretch"):
            try:
                user = accounts.sign_in(db, username, secret)
            except accounts.SignInError as exc:
                st.error(session.md_escape(str(exc)))
            except Exception as exc:
                if not session.show_db_error(exc):  # busy, full, read-only: say so under the form
                    raise
            else:
                session.sign_in(user, db)  # a server-side session; the browser keeps its token in a cookie
                st.rerun()


def _remember(url_path: str, gate):
    """A sign-in page served at `url_path` that notes which page the person asked for."""

    def page() -> None:
        st.session_state[session.NEXT_PAGE_KEY] = url_path
        gate()

    page.__name__ = f"sign_in_for_{url_path}"
    return page


def main() -> None:
    try:
        frame()
    except Exception as exc:  # a busy, full or read-only database on any page: plain words, not a traceback
        if not session.show_db_error(exc):
            raise


def frame() -> None:
    db = session.db()
    # idle sign-out, and roles re-read from the database on every run (a disabled account is signed out at once)
    # a reload, a new tab or a server restart: the session cookie signs the person back in (data/sessions.py)
    user = session.refresh_user(db)
    session.sync_cookie(db)
    if user is None:
        # Always hand st.navigation a page list: without it Streamlit would list every file in pages/.
        gate = first_run if not accounts.has_admin(db) else sign_in_form
        # Every page's URL shows the sign-in form while signed out (not "page not found"); the page asked for is
        # remembered and opened after sign-in, where it still guards itself.
        pages = [st.Page(lambda: gate(db), title="Sign in", url_path="signin", default=True)]
        pages += [st.Page(_remember(spec.url_path, lambda: gate(db)), title="Sign in", url_path=spec.url_path)
                  for spec in PAGES if spec.url_path != "home"]
        st.navigation(pages, position="hidden").run()
        return

    sections: dict[str, list] = {}
    by_path = {}
    for spec in PAGES:
        allowed = spec.permission is None or user.can(spec.permission)
        page = st.Page(spec.file, title=spec.title, icon=spec.icon, url_path=spec.url_path,
                       default=spec.url_path == "home", visibility="visible" if allowed else "hidden")
        sections.setdefault(spec.section, []).append(page)
        by_path[spec.url_path] = page
    chosen = st.navigation(sections)
    wanted = st.session_state.pop(session.NEXT_PAGE_KEY, None)
    if wanted in by_path and wanted != chosen.url_path:
        st.switch_page(by_path[wanted])
    with st.sidebar:
        st.caption("Signed in as " + session.md_escape(user.name) + (" (demo account)" if user.is_demo else ""))
        st.caption(", ".join(ROLE_LABELS[r] for r in sorted(user.roles)))
        if st.button("Sign out", width="stretch"):
            session.sign_out(db=db)
            st.rerun()
        session.idle_watch()
    try:
        chosen.run()
    except PermissionDenied as exc:  # the core refused an action the page offered: say so, show nothing more
        st.error(f"You don't have access to this. {session.md_escape(str(exc))}")


main()
