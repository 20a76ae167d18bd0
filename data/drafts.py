"""Drafts: the Collect form as it is being typed, kept per user, device (the sign-in session) and event, so that a
reload, a discarded tab or a server restart loses nothing. Cleared by Save or Clear; purged by age and by erasure.

A draft is readable only by the user who typed it, on the device it was typed on: no role reads another's draft.
It is not a record: nothing in a draft is screened or flagged until it is saved (an abandoned draft flags nothing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from typing import Any

from sqlite_utils import Database

from data import audit
from data.db import now_utc, transaction
from data.users import User, require

#: Drafts untouched for longer than this are deleted by `retention apply` (a form is typed in minutes, not days).
DRAFT_MAX_HOURS = int(os.environ.get("THRIVE_DRAFT_MAX_HOURS", "24"))


def _blob(state: dict[str, Any]) -> tuple[str, str]:
    text = json.dumps(state, ensure_ascii=False, sort_keys=True, default=str)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_draft(db: Database, user: User, device: str, event_id: str, state: dict[str, Any]) -> bool:
    """Keep the form's fields; returns False (and changes nothing) when they are what is already stored. One
    statement: the stored fingerprint is compared by the upsert itself, not read first."""
    text, fingerprint = _blob(state)
    with transaction(db):
        cur = db.execute("INSERT INTO drafts (username, device, event_id, state, fingerprint, updated_at) "
                         "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (username, device, event_id) DO UPDATE SET "
                         "state = excluded.state, fingerprint = excluded.fingerprint, updated_at = excluded.updated_at "
                         "WHERE drafts.fingerprint IS NOT excluded.fingerprint",
                         [user.username, device, event_id, text, fingerprint, now_utc()])
    return cur.rowcount > 0


def load_draft(db: Database, user: User, device: str, event_id: str) -> dict[str, Any] | None:
    """This user's draft for this event on this device, or None."""
    row = db.execute("SELECT state FROM drafts WHERE username = ? AND device = ? AND event_id = ?",
                     [user.username, device, event_id]).fetchone()
    return json.loads(row[0]) if row else None


def latest_event(db: Database, user: User, device: str) -> str | None:
    """The event of this user's most recent draft on this device (to reopen the form after a reload)."""
    row = db.execute("SELECT event_id FROM drafts WHERE username = ? AND device = ? ORDER BY updated_at DESC LIMIT 1",
                     [user.username, device]).fetchone()
    return row[0] if row else None


def clear_draft(db: Database, user: User, device: str, event_id: str) -> bool:
    """Forget the draft (after Save or Clear); returns whether there was one."""
    with transaction(db):
        cur = db.execute("DELETE FROM drafts WHERE username = ? AND device = ? AND event_id = ?",
                         [user.username, device, event_id])
    return cur.rowcount > 0


def purge(db: Database, actor: User, *, username: str | None = None, event_id: str | None = None,
          reason: str = "") -> int:
    """Erasure of drafts (they have no respondent yet): every draft of a user and/or an event (admins). Audited."""
    require(actor, "erase")
    if username is None and event_id is None:
        raise ValueError("name a user or an event whose drafts to delete")
    where, params = [], []
    if username is not None:
        where.append("username = ?")
        params.append(username)
    if event_id is not None:
        where.append("event_id = ?")
        params.append(event_id)
    with transaction(db):
        count = db.execute("DELETE FROM drafts WHERE " + " AND ".join(where), params).rowcount
        audit.record(db, actor, "drafts_erased", "drafts", None, username=username, event_id=event_id,
                     count=count, reason=reason)
    return count


def purge_older_than(db: Database, hours: float = DRAFT_MAX_HOURS, *, now: dt.datetime | None = None) -> int:
    """Delete drafts not touched for `hours` (retention). Returns how many; the caller audits."""
    moment = now or dt.datetime.now(dt.UTC)
    cutoff = (moment - dt.timedelta(hours=hours)).isoformat(timespec="microseconds")
    with transaction(db):
        return db.execute("DELETE FROM drafts WHERE updated_at < ?", [cutoff]).rowcount
