"""The per-run database connection, the signed-in user, and the guard every page starts with.

Session keys owned here: `auth_user` (a data.users.User) and `auth_last_seen` (epoch seconds).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

import config
from data import open_db
from data.db import Database
from data.users import User

USER_KEY = "auth_user"
LAST_SEEN_KEY = "auth_last_seen"


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


def current_user() -> User | None:
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, User) else None


def guard(permission: str) -> User:
    """Return the signed-in user if they may use this page; otherwise show a refusal, no data, and stop."""
    user = current_user()
    if user is None:
        st.warning("Please sign in to use this page.")
        st.stop()
    if not user.can(permission):
        st.error("You don't have access to this page. If you need it, ask an admin to give you the right role.")
        st.stop()
    return user
