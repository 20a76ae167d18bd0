"""Shared fixtures: a fresh database per test, a user per role, an event, and cache clearing.

AppTest tests set `auth_user` in session_state instead of clicking through sign-in.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The suite's own settings, inherited by every app server a browser test starts: vectors are computed only where a
# test asks (THRIVE_EMBED_BACKGROUND=1), and a missing translation raises instead of falling back to English.
os.environ.setdefault("THRIVE_EMBED_BACKGROUND", "0")
os.environ.setdefault("THRIVE_I18N_STRICT", "1")

from data import open_db  # noqa: E402
from data.users import ROLES, User  # noqa: E402


@pytest.fixture
def db_path(tmp_path, monkeypatch) -> Path:
    """A fresh database file in tmp_path, also exported as THRIVE_DB for pages and subprocesses."""
    path = tmp_path / "thrive.db"
    monkeypatch.setenv("THRIVE_DB", str(path))
    return path


@pytest.fixture
def db(db_path):
    database = open_db(db_path)
    yield database
    database.conn.close()


def make_user(*roles: str, name: str | None = None) -> User:
    return User(name or "_".join(roles) or "nobody", frozenset(roles), (name or roles[0]).replace("_", " ").title())


@pytest.fixture
def admin() -> User:
    return make_user("admin", name="ada_admin")


@pytest.fixture
def officer() -> User:
    return make_user("engagement_officer", name="olu_officer")


@pytest.fixture
def researcher() -> User:
    return make_user("peer_researcher", name="pia_researcher")


@pytest.fixture
def lead() -> User:
    return make_user("strategy_lead", name="sam_lead")


@pytest.fixture
def safeguarding_lead() -> User:
    return make_user("safeguarding_lead", name="sue_safeguarding")


@pytest.fixture(params=ROLES)
def any_role_user(request) -> User:
    return make_user(request.param)


@pytest.fixture
def event(db, admin):
    from data.events import create_event

    return create_event(db, admin, name="Family centre drop-in", date="2026-11-20", venue="Brierley Hill family centre")


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    """st.cache_data / st.cache_resource outlive a test otherwise (and would leak one test's database)."""
    yield
    try:
        import streamlit as st

        st.cache_data.clear()
        st.cache_resource.clear()
    except Exception:  # noqa: BLE001 - streamlit not imported by this test
        pass
