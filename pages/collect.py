"""Collect answers (being built: see the open issue for this page)."""

from __future__ import annotations

import streamlit as st

from ui import session

user = session.guard("collect")
st.title("Collect answers")
st.info("This page is being built.")
