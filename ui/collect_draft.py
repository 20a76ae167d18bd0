"""The Collect form's draft hooks: keep the fields server-side after every run (data/drafts.py), put them back on
the first run of a new Streamlit session (a reload, a discarded tab, a server restart), forget them when the form
is cleared. The device is the sign-in session (ui.session.session_id); without one nothing is kept.

Session keys owned here: `collect_draft_restored` (this session has looked for a draft), `collect_draft_saved`
(fingerprint of what this session stored last, or EMPTY once its draft is gone): every run compares the form with
it in memory, so an unchanged form (most runs, and every run after Save or Clear) costs no query at all, and a
changed one costs one write. `collect_draft_event_remembered`: the event the sign-in session's record remembers
(data/sessions.capture_event), so that a reload or a restart after Save reopens that event's empty form.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import streamlit as st

from data import drafts, events, sessions
from data.db import Database, describe_db_error
from data.users import User
from ui import session

log = logging.getLogger(__name__)

RESTORED = "collect_draft_restored"
SAVED = "collect_draft_saved"
#: Fixed keys of pages/collect.py kept in a draft (answers and profile fields are found by their prefixes). The
#: submission token is kept too: a Save that committed just before a restart is not stored twice.
FIELDS = ("collect_group", "collect_consent", "collect_language", "collect_worried", "collect_worry_note",
          "collect_token")
PREFIXES = ("collect_answer_", "collect_profile_")
#: Kept, but on their own do not make a draft worth keeping.
_BOOKKEEPING = ("collect_language", "collect_token")
EVENT = "collect_event_id"
#: The event this session's record is known to remember (data/sessions.capture_event): written only on a change.
REMEMBERED = "collect_draft_event_remembered"
#: `SAVED` when this session's draft for the event is known to be gone (deleted, or never written).
EMPTY = "empty"


def _wanted(key: str) -> bool:
    return key in FIELDS or key.startswith(PREFIXES)


def form_state() -> dict[str, Any]:
    state = st.session_state
    return {k: state[k] for k in sorted(str(k) for k in state) if _wanted(k)}


def _empty(fields: dict[str, Any]) -> bool:
    return not any((v.strip() if isinstance(v, str) else v) for k, v in fields.items() if k not in _BOOKKEEPING)


def _fingerprint(event_id: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps([event_id, fields], sort_keys=True, default=str).encode()).hexdigest()


def _quietly(what: str, action) -> Any:
    """A busy database must never cost the person their form: drafts are a safety net, skipped on failure."""
    try:
        return action()
    except Exception as exc:
        if describe_db_error(exc) is None:
            raise
        log.warning("draft %s skipped: %s", what, exc)
        return None


def restore(db: Database, user: User) -> None:
    """Once per Streamlit session, before any widget: reopen the event and the fields of this device's draft."""
    state = st.session_state
    device = session.session_id()
    if device is None or state.get(RESTORED):
        return
    state[RESTORED] = True
    # the event chosen in this sign-in session (kept on its record, even after Save), else the latest draft's
    remembered = None if state.get(EVENT) else _quietly(
        "lookup", lambda: sessions.capture_event(db, device, user.username))
    if remembered:
        state[REMEMBERED] = remembered
    event_id = (state.get(EVENT) or remembered
                or _quietly("lookup", lambda: drafts.latest_event(db, user, device)))
    if not event_id:
        return
    try:
        if not events.get_event(db, event_id).is_open or not user.can("collect"):
            return  # closed or deleted since, or no longer theirs to collect for: the event chooser
    except events.EventError:
        return
    state.setdefault(EVENT, event_id)
    fields = _quietly("load", lambda: drafts.load_draft(db, user, device, state[EVENT]))
    if not fields:
        return
    for key, value in fields.items():
        if _wanted(key):
            state.setdefault(key, value)  # what the browser sent back after a reconnect wins
    state[SAVED] = _fingerprint(state[EVENT], fields)


def keep(db: Database, user: User, event_id: str) -> None:
    """After the form is drawn: store it if it changed; an emptied form deletes the draft."""
    device = session.session_id()
    if device is None:
        return
    state = st.session_state
    fields = form_state()
    if _empty(fields):
        if state.get(SAVED) == _empty_mark(event_id):
            return
        _quietly("clear", lambda: drafts.clear_draft(db, user, device, event_id))
        state[SAVED] = _empty_mark(event_id)
        return
    fingerprint = _fingerprint(event_id, fields)
    if state.get(SAVED) == fingerprint:
        return
    if _quietly("save", lambda: drafts.save_draft(db, user, device, event_id, fields)) is not None:
        state[SAVED] = fingerprint  # a skipped write (busy database) is tried again on the next run


def remember_event(db: Database, user: User, event_id: str | None) -> None:
    """The event the form is open for (None: back at the event chooser), kept on the sign-in session so that a
    reload or a server restart after Save comes back to that event's empty form. A write only when it changes."""
    device = session.session_id()
    state = st.session_state
    if device is None or state.get(REMEMBERED, "unknown") == event_id:
        return
    if _quietly("remember", lambda: sessions.set_capture_event(db, device, user.username, event_id)) is not None:
        state[REMEMBERED] = event_id  # a skipped write (busy database) is tried again on the next run


def _empty_mark(event_id: str) -> str:
    return f"{EMPTY}:{event_id}"


def forget() -> None:
    """The form was saved or cleared: delete its draft now (called from the page's callbacks)."""
    device, user, event_id = session.session_id(), session.current_user(), st.session_state.get(EVENT)
    if device is None or user is None or not event_id:
        return
    db = session.db()
    try:
        if _quietly("clear", lambda: drafts.clear_draft(db, user, device, event_id)) is not None:
            st.session_state[SAVED] = _empty_mark(event_id)  # the emptied form that follows needs no query
        else:
            st.session_state.pop(SAVED, None)
    finally:
        db.conn.close()
