"""Retention: after a configurable number of days, original answer texts are purged, leaving only the redacted text.

The period is the admin setting "retention_days" (default env THRIVE_RETENTION_DAYS); 0 keeps originals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlite_utils import Database

from analysis import privacy
from data import audit, drafts, settings
from data.db import now_utc, transaction
from data.users import User, require

#: Answers tied to a flag in one of these statuses keep their original text until the flag is dealt with.
HELD_FOR_FLAGS = ("open", "reviewed")

_DUE_WHERE = """
    r.text_purged_at IS NULL AND r.created_at < :cutoff
    AND NOT EXISTS (SELECT 1 FROM flags f WHERE f.status IN ('open', 'reviewed')
                    AND (f.response_id = r.id OR (f.response_id IS NULL AND f.respondent_id = r.respondent_id)))
"""


@dataclass(frozen=True)
class RetentionStatus:
    days: int  # 0: originals are kept
    cutoff: str | None  # answers recorded before this (UTC ISO) are due
    due: int  # originals that the next run would purge
    held: int  # originals past the cutoff kept because a flag on them is still open or under review
    purged: int  # originals purged so far


def _cutoff(days: int, now: dt.datetime | None) -> str | None:
    if days <= 0:
        return None
    now = now or dt.datetime.now(dt.UTC)
    return (now - dt.timedelta(days=days)).isoformat(timespec="microseconds")


def status(db: Database, user: User, *, now: dt.datetime | None = None) -> RetentionStatus:
    """What the retention rule would do now (admins)."""
    require(user, "erase")
    days = settings.get_int(db, "retention_days")
    cutoff = _cutoff(days, now)
    purged = db.execute("SELECT COUNT(*) FROM responses WHERE text_purged_at IS NOT NULL").fetchone()[0]
    if cutoff is None:
        return RetentionStatus(days, None, 0, 0, purged)
    due = db.execute(f"SELECT COUNT(*) FROM responses r WHERE {_DUE_WHERE}", {"cutoff": cutoff}).fetchone()[0]
    past = db.execute("SELECT COUNT(*) FROM responses WHERE text_purged_at IS NULL AND created_at < ?",
                      [cutoff]).fetchone()[0]
    return RetentionStatus(days, cutoff, due, past - due, purged)


def apply(db: Database, user: User, *, now: dt.datetime | None = None) -> int:
    """Replace the original text of every answer older than the retention period by its redacted text.

    Returns how many answers were purged; audited. Answers under an open or reviewed safeguarding flag wait.
    Drafts (data/drafts.py) untouched for DRAFT_MAX_HOURS are deleted first, whatever the period.
    """
    require(user, "erase")
    expired = drafts.purge_older_than(db, now=now)  # half-typed forms never kept long, whatever the period
    if expired:
        audit.record(db, user, "drafts_expired", "drafts", None, deleted=expired, hours=drafts.DRAFT_MAX_HOURS)
    days = settings.get_int(db, "retention_days")
    cutoff = _cutoff(days, now)
    if cutoff is None:
        return 0
    stamp = now_utc()
    with transaction(db):
        rows = db.execute(f"SELECT r.id, r.text, r.redacted_text FROM responses r WHERE {_DUE_WHERE}",
                          {"cutoff": cutoff}).fetchall()
        updates = []
        for response_id, text, redacted in rows:
            clean = redacted if redacted is not None else privacy.redact(text)
            updates.append((clean, clean, stamp, response_id))
        db.conn.executemany("UPDATE responses SET text = ?, redacted_text = ?, text_purged_at = ? WHERE id = ?",
                            updates)
        audit.record(db, user, "retention_applied", "responses", None, purged=len(updates), days=days, cutoff=cutoff)
    return len(updates)
