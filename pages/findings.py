"""Findings (being built: see the open issue for this page)."""

from __future__ import annotations

import streamlit as st

from ui import session

user = session.guard("findings")
st.title("Findings")
st.info("This page is being built.")
