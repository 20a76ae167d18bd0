"""Safeguarding flags: raised automatically (possible disclosure) or by hand ("I'm worried"), never deleted.

Raising a flag needs no special role: whoever recorded the answer must be able to raise the alarm.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from data import audit
from data.db import new_id, now_utc, transaction
from data.users import User


@dataclass(frozen=True)
class Flag:
    id: str
    respondent_id: str | None
    response_id: str | None
    event_id: str | None
    kind: str
    reason: str
    status: str
    raised_by: str | None
    created_at: str


def raise_flag(db: Database, user: User | None, *, kind: str, reason: str, respondent_id: str | None = None,
               response_id: str | None = None, event_id: str | None = None) -> Flag:
    """Open a flag for the safeguarding lead, in the caller's transaction if there is one."""
    flag = Flag(new_id(), respondent_id, response_id, event_id, kind, reason, "open",
                user.username if user else None, now_utc())
    with transaction(db):
        db.execute(
            "INSERT INTO flags (id, respondent_id, response_id, event_id, kind, reason, status, raised_by, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
            [flag.id, respondent_id, response_id, event_id, kind, reason, flag.raised_by, flag.created_at, flag.created_at],
        )
        db.execute(
            "INSERT INTO flag_history (flag_id, status, note, by, at) VALUES (?, 'open', ?, ?, ?)",
            [flag.id, reason, flag.raised_by, flag.created_at],
        )
        audit.record(db, user, "flag_raised", "flag", flag.id, kind=kind)
    return flag
