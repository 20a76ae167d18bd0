"""Home: what this app is for and where each kind of user starts."""

from __future__ import annotations

import streamlit as st

from ui import session
from ui.nav import PAGES

user = session.current_user()
st.title("Thrive Voices")
st.write(
    "What helps children and young people thrive, what stops them, what neglect is, and what would help here: "
    "answers gathered by peer researchers at community events, coded into themes, turned into a strategy."
)
if user is not None:
    if user.is_demo:
        st.info("You are using a demo account on demo data. Nothing here is real.")
    st.subheader("Your pages")
    for spec in PAGES:
        if spec.url_path != "home" and (spec.permission is None or user.can(spec.permission)):
            st.page_link(spec.file, label=spec.title, icon=spec.icon, use_container_width=True)
