"""Thrive Voices: the frame. Signs the user in, builds the navigation for their roles, runs the chosen page.

Run with `streamlit run app.py`. The database is THRIVE_DB or data/thrive.db (created on first run).
"""

from __future__ import annotations

import streamlit as st

from data import accounts
from data.users import PermissionDenied
from surveys.languages import LANGUAGES, direction
from ui import i18n, run_timing, session, tablet
from ui.i18n import t
from ui.nav import PAGES, section_title

# The sidebar starts collapsed: on a tablet the form gets the full width; the top bar's Menu reaches every page.
st.set_page_config(page_title="Thrive Voices", page_icon="🌱", layout="centered", initial_sidebar_state="collapsed")


#: A right-to-left interface language lays every staff page out right to left (the top bar, the page, the sidebar)
RTL_CSS = ("<style>.st-key-topbar, [data-testid='stMainBlockContainer'], [data-testid='stSidebarContent']"
           " { direction: rtl; text-align: right; }"
           " [data-testid='stHeadingWithActionElements'] { justify-content: flex-start; text-align: right; }"
           " [data-testid='stHeadingWithActionElements'] :is(h1, h2, h3, h4) { text-align: right; }</style>")


def first_run(db) -> None:
    st.title(session.md_escape(t("first_run.title")))
    st.write(t("first_run.intro"))
    with st.form("first_admin"):
        username = st.text_input(t("first_run.username"))
        display = st.text_input(session.md_escape(t("first_run.display_name")))
        password = st.text_input(t("first_run.password"), type="password")
        again = st.text_input(t("first_run.again"), type="password")
        if st.form_submit_button(t("first_run.create"), type="primary", width="stretch"):
            if password != again:
                st.error(t("first_run.differ"))
            else:
                try:
                    accounts.create_user(db, None, username.strip(), password, ["admin"], display_name=display.strip())
                except (accounts.AccountError, PermissionDenied) as exc:
                    st.error(session.md_escape(str(exc)))
                else:
                    st.success(t("first_run.created"))
                    st.rerun()
    st.caption(t("first_run.terminal"))  # markdown on purpose: the commands are code


def sign_in_form(db) -> None:
    tablet.base_css()
    # the language of this page (every shipped catalogue; the person may not read English)
    codes = i18n.languages()
    label = " / ".join(dict.fromkeys(t("signin.language", code) for code in codes))  # readable in every one
    lang = st.segmented_control(session.md_escape(label), codes, key="signin_language", required=True,
                                format_func=lambda code: session.md_escape(_language_name(code)),
                                default=i18n.BASE) or i18n.BASE
    if direction(lang) == "rtl":
        st.html("<style>.st-key-signin_box { direction: rtl; text-align: right; }</style>")
    with st.container(key="signin_box"):
        _sign_in_box(db, lang)


def _language_name(code: str) -> str:
    info = LANGUAGES.get(code)
    name = info.native_name if info else code
    return name + (" " + t("collect.draft", code) if i18n.meta(code).get("status") == "draft" else "")


def _sign_in_box(db, lang: str) -> None:
    st.title(session.md_escape(t("signin.title", lang)))
    if st.session_state.pop(session.IDLE_NOTICE_KEY, False):
        st.info(t("signin.idle", lang))
    st.write(t("signin.intro", lang))
    if db.execute("SELECT 1 FROM users WHERE is_demo = 1 LIMIT 1").fetchone():
        st.info(t("signin.demo", lang))
    # A peer researcher's PIN: the numeric keypad (Streamlit has no inputmode parameter; a static script sets it)
    letters = st.toggle(t("signin.letters", lang), key="signin_letters")
    tablet.input_mode("signin_secret", None if letters else "numeric")
    with st.form("sign_in"):
        username = st.text_input(t("signin.username", lang), autocomplete="username", key="signin_username")
        secret = st.text_input(t("signin.secret", lang), type="password", autocomplete="current-password",
                               key="signin_secret")
        if st.form_submit_button(t("signin.button", lang), type="primary", width="stretch"):
            try:
                user = accounts.sign_in(db, username, secret)
            except accounts.SignInError as exc:
                st.error(session.md_escape(session.sign_in_refusal(exc, lang)))
            except Exception as exc:
                if not session.show_db_error(exc):  # busy, full, read-only: say so under the form
                    raise
            else:
                # a server-side session; the browser keeps its token in a cookie; every page in the chosen language
                session.sign_in(user, db, language=lang)
                st.rerun()


def _remember(url_path: str, gate):
    """A sign-in page served at `url_path` that notes which page the person asked for."""

    def page() -> None:
        st.session_state[session.NEXT_PAGE_KEY] = url_path
        gate()

    page.__name__ = f"sign_in_for_{url_path}"
    return page


def top_bar(db, user, pages, lang: str | None = None, current: str = "") -> None:
    """Who is signed in, a labelled Menu (every page this user may open: the sidebar is not needed on a tablet; the
    interface language) and Sign out, on every page."""
    tablet.base_css()
    with st.container(key="topbar", horizontal=True, vertical_alignment="center"):
        st.caption(session.md_escape(t("menu.signed_in_as", lang, name=user.name)
                                     + (" " + t("menu.demo", lang) if user.is_demo else "")), width="stretch")
        with st.popover(session.md_escape(t("menu.label", lang)), icon=":material/menu:",
                        key=f"topbar_menu_{current}"):  # one per page: it is closed when the new page opens
            for page in pages:
                st.page_link(page, width="stretch")
            language_choice(db, current)
        if st.button(session.md_escape(t("menu.sign_out", lang)), key="topbar_sign_out", icon=":material/logout:"):
            session.sign_out(db=db)
            st.rerun()


def language_choice(db, current: str) -> None:
    """The interface language of every page for this sign-in (kept across reloads: data/sessions.set_language).
    The Collect page's own choice is the respondent's language, per person; this one is the researcher's."""
    codes = i18n.languages()
    if len(codes) < 2:
        return
    key = f"topbar_language_{current}"
    st.segmented_control(session.md_escape(t("menu.language", session.ui_language())), codes, key=key,
                         required=True, default=session.ui_language(),
                         format_func=lambda code: session.md_escape(_language_name(code)),
                         on_change=lambda: session.set_ui_language(db, st.session_state.get(key) or i18n.BASE))


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
        title = t("nav.sign_in")
        pages = [st.Page(lambda: gate(db), title=title, url_path="signin", default=True)]
        pages += [st.Page(_remember(spec.url_path, lambda: gate(db)), title=title, url_path=spec.url_path)
                  for spec in PAGES if spec.url_path != "home"]
        st.navigation(pages, position="hidden").run()
        return

    ui_lang = session.ui_language()
    sections: dict[str, list] = {}
    by_path = {}
    for spec in PAGES:
        allowed = spec.permission is None or user.can(spec.permission)
        page = st.Page(spec.file, title=spec.title_in(ui_lang), icon=spec.icon, url_path=spec.url_path,
                       default=spec.url_path == "home", visibility="visible" if allowed else "hidden")
        sections.setdefault(section_title(spec.section, ui_lang), []).append(page)
        by_path[spec.url_path] = page
    chosen = st.navigation(sections)
    wanted = st.session_state.pop(session.NEXT_PAGE_KEY, None)
    if wanted in by_path and wanted != chosen.url_path:
        st.switch_page(by_path[wanted])
    # the Collect page's chosen language (read before the page runs: the widget's value is already in state)
    lang = st.session_state.get("collect_language") if chosen.url_path == "collect" else ui_lang
    top_bar(db, user, [page for spec in PAGES for page in [by_path[spec.url_path]]
                       if spec.permission is None or user.can(spec.permission)], lang, chosen.url_path)
    if direction(ui_lang) == "rtl" and chosen.url_path != "collect":  # Collect lays out the respondent's language
        st.html(RTL_CSS)
    with st.sidebar:
        st.caption(session.md_escape(", ".join(t(f"role.{r}", ui_lang) for r in sorted(user.roles))))
        if st.button(session.md_escape(t("menu.sign_out", ui_lang)), width="stretch"):
            session.sign_out(db=db)
            st.rerun()
        session.idle_watch()
    try:
        chosen.run()
    except PermissionDenied as exc:  # the core refused an action the page offered: say so, show nothing more
        st.error(session.md_escape(t("frame.no_access_action", ui_lang, detail=str(exc))))


run_timing.install()  # THRIVE_RUN_TIMING=<file>: one JSON line per script run (bench); off: nothing
main()
