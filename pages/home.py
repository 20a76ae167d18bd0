"""Home: what this app is for, the pages this user may open, and changing their own password or PIN."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from data import accounts, flags
from ui import session
from ui.nav import PAGES

session.ensure_frame()
user = session.current_user()
st.title("Thrive Voices")
st.write(
    "What helps children and young people thrive, what stops them, what neglect is, and what would help here: "
    "answers gathered by peer researchers at community events, coded into themes, turned into a strategy."
)
if user is not None:
    if user.is_demo:
        st.info("You are using a demo account on demo data. Nothing here is real.")
    if user.can("safeguarding"):
        waiting = flags.counts(session.db(), user)["open"]
        overdue = flags.overdue_count(session.db(), user) if waiting else 0
        if waiting:
            st.warning(f"{waiting} safeguarding flag(s) are open and waiting for you"
                       + (f", {overdue} of them overdue." if overdue else "."), icon=":material/shield_person:")
    st.subheader("Your pages")
    for spec in PAGES:
        if spec.url_path != "home" and (spec.permission is None or user.can(spec.permission)):
            try:
                st.page_link(spec.file, label=spec.title, icon=spec.icon, width="stretch")
            except StreamlitAPIException:  # run on its own (a test), outside app.py's navigation
                st.text(f"{spec.title}: /{spec.url_path}")

    with st.expander("Change your password or PIN"):
        with st.form("home_change_secret", clear_on_submit=True):
            current = st.text_input("Current password or PIN", type="password", key="home_current_secret")
            new = st.text_input(f"New password (10+ characters) or PIN ({accounts.PIN_RULE})", type="password",
                                key="home_new_secret")
            again = st.text_input("New one again", type="password", key="home_new_again")
            if st.form_submit_button("Change"):
                if new != again:
                    st.error("The two new entries differ. Type them again.")
                else:
                    try:
                        accounts.change_own_secret(session.db(), user, current, new)
                    except accounts.AccountError as exc:
                        st.error(session.md_escape(str(exc)))
                    else:
                        st.success("Changed. Use the new one next time you sign in.")
