"""Home: what this app is for, the pages this user may open, and changing their own password or PIN.

Every interface word comes from ui/i18n (home.yaml; the page titles are the frame's nav.* texts)."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from data import accounts, flags
from ui import session
from ui.i18n import t
from ui.nav import PAGES

session.ensure_frame()
user = session.current_user()
lang = session.ui_language()
st.title(session.md_escape(t("home.title", lang)))
st.write(t("home.intro", lang))
if user is not None:
    if user.is_demo:
        st.info(t("home.demo", lang))
    if user.can("safeguarding"):
        waiting = flags.counts(session.db(), user)["open"]
        overdue = flags.overdue_count(session.db(), user) if waiting else 0
        if waiting:
            st.warning(t("home.flags_overdue" if overdue else "home.flags_open", lang, count=waiting, overdue=overdue),
                       icon=":material/shield_person:")
    st.subheader(t("home.your_pages", lang))
    for spec in PAGES:
        if spec.url_path != "home" and (spec.permission is None or user.can(spec.permission)):
            try:
                st.page_link(spec.file, label=session.md_escape(spec.title_in(lang)), icon=spec.icon, width="stretch")
            except StreamlitAPIException:  # run on its own (a test), outside app.py's navigation
                st.text(f"{spec.title_in(lang)}: /{spec.url_path}")

    pin_rule = t("home.pin_rule", lang, low=accounts.PIN_MIN_DIGITS, high=accounts.PIN_MAX_DIGITS)
    with st.expander(t("home.change.expander", lang)):
        with st.form("home_change_secret", clear_on_submit=True):
            current = st.text_input(t("home.change.current", lang), type="password", key="home_current_secret")
            new = st.text_input(t("home.change.new", lang, rule=pin_rule), type="password", key="home_new_secret")
            again = st.text_input(t("home.change.again", lang), type="password", key="home_new_again")
            if st.form_submit_button(t("home.change.button", lang)):
                if new != again:
                    st.error(t("home.change.differ", lang))
                else:
                    try:
                        accounts.change_own_secret(session.db(), user, current, new)
                    except accounts.AccountError as exc:
                        st.error(session.md_escape(str(exc)))
                    else:
                        st.success(t("home.change.done", lang))
