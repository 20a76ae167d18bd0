"""Safeguarding flags: raised automatically (possible disclosure) or by hand ("I'm worried"), never deleted.

Raising a flag needs no special role: whoever recorded the answer must be able to raise the alarm.
Reading the queue (with the original texts) and changing a flag's status need the "safeguarding" permission.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from data import audit
from data.db import new_id, now_utc, transaction
from data.users import User, require

STATUSES = ("open", "reviewed", "referred", "no_further_action")
STATUS_LABELS = {
    "open": "Open",
    "reviewed": "Reviewed",
    "referred": "Referred",
    "no_further_action": "No further action",
}
#: Statuses that close a flag: moving to one of them needs a reason.
CLOSED = frozenset({"referred", "no_further_action"})


#: The text shown instead of a flagged answer everywhere outside the safeguarding queue, until a lead releases it.
WITHHELD_TEXT = "[withheld: safeguarding]"


def withheld_sql(response: str = "r") -> str:
    """SQL condition, true when the answer aliased `response` is withheld: a flag in any state, not released, names
    the answer itself or its respondent (a manual "I'm worried" flag covers all that respondent's answers)."""
    return (f"EXISTS (SELECT 1 FROM flags wf WHERE wf.released_at IS NULL AND "
            f"(wf.response_id = {response}.id OR (wf.response_id IS NULL AND wf.respondent_id = {response}.respondent_id)))")


class FlagError(ValueError):
    """A flag change that cannot be made; the message says why, for a person."""


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
    category: str | None = None   # disclosure category (analysis.safeguarding.CATEGORY_LABELS); None for a manual flag
    strength: str | None = None   # "strong" / "possible" (analysis.safeguarding.STRENGTHS); None for a manual flag


def raise_flag(db: Database, user: User | None, *, kind: str, reason: str, respondent_id: str | None = None,
               response_id: str | None = None, event_id: str | None = None, category: str | None = None,
               strength: str | None = None) -> Flag:
    """Open a flag for the safeguarding lead, in the caller's transaction if there is one."""
    flag = Flag(new_id(), respondent_id, response_id, event_id, kind, reason, "open",
                user.username if user else None, now_utc(), category, strength)
    with transaction(db):
        db.execute(
            "INSERT INTO flags (id, respondent_id, response_id, event_id, kind, reason, status, raised_by, created_at, "
            "updated_at, category, strength) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)",
            [flag.id, respondent_id, response_id, event_id, kind, reason, flag.raised_by, flag.created_at,
             flag.created_at, category, strength],
        )
        db.execute(
            "INSERT INTO flag_history (flag_id, status, note, by, at) VALUES (?, 'open', ?, ?, ?)",
            [flag.id, reason, flag.raised_by, flag.created_at],
        )
        audit.record(db, user, "flag_raised", "flag", flag.id, kind=kind)
    return flag


@dataclass(frozen=True)
class Answer:
    question_id: str
    text: str  # the original, exactly as typed (the safeguarding lead needs the real words)
    response_id: str
    flagged: bool  # this is the answer that raised the flag


@dataclass(frozen=True)
class QueueItem:
    """One flag as the safeguarding lead sees it: the words, where, who recorded them, when."""

    id: str
    kind: str
    reason: str
    status: str
    created_at: str
    updated_at: str
    raised_by: str | None
    recorded_by: str | None
    event_id: str | None
    event: str | None
    event_date: str | None
    response_id: str | None
    external_id: str | None
    respondent_id: str | None
    group_id: str | None
    answers: list[Answer] = field(default_factory=list)
    erased: bool = False  # the respondent was erased: the flag stays, the text has gone

    @property
    def text(self) -> str:
        """The flagged answer's original text, or all the respondent's answers for a manual flag."""
        flagged = [a.text for a in self.answers if a.flagged]
        return "\n".join(flagged or [a.text for a in self.answers])


@dataclass(frozen=True)
class HistoryEntry:
    status: str
    note: str
    by: str | None
    at: str


_QUEUE_SQL = """
SELECT f.id, f.kind, f.reason, f.status, f.created_at, f.updated_at, f.raised_by,
       COALESCE(p.recorded_by, r.recorded_by), f.event_id, e.name, e.date, f.response_id, r.external_id,
       f.respondent_id, p.group_id,
       EXISTS (SELECT 1 FROM tombstones t WHERE t.kind = 'flag' AND t.ref_id = f.id)
FROM flags f
LEFT JOIN responses r ON r.id = f.response_id
LEFT JOIN respondents p ON p.id = f.respondent_id
LEFT JOIN events e ON e.id = f.event_id
"""


def queue(db: Database, user: User, *, statuses: tuple[str, ...] | list[str] | None = None,
          limit: int = 500) -> list[QueueItem]:
    """Flags newest first, with the original texts, event, researcher and time (safeguarding leads only)."""
    require(user, "safeguarding")
    sql, params = _QUEUE_SQL, []
    if statuses:
        unknown = set(statuses) - set(STATUSES)
        if unknown:
            raise FlagError(f"Unknown flag status {', '.join(sorted(unknown))}.")
        sql += f" WHERE f.status IN ({', '.join('?' for _ in statuses)})"
        params.extend(statuses)
    sql += " ORDER BY f.created_at DESC, f.rowid DESC LIMIT ?"
    params.append(int(limit))
    items = []
    for row in db.execute(sql, params).fetchall():
        answers = _answers(db, respondent_id=row[13], response_id=row[11])
        items.append(QueueItem(*row[:15], answers=answers, erased=bool(row[15])))
    return items


def _answers(db: Database, *, respondent_id: str | None, response_id: str | None) -> list[Answer]:
    if respondent_id:
        rows = db.execute("SELECT question_id, text, id FROM responses WHERE respondent_id = ? "
                          "ORDER BY question_id, position", [respondent_id]).fetchall()
    elif response_id:
        rows = db.execute("SELECT question_id, text, id FROM responses WHERE id = ?", [response_id]).fetchall()
    else:
        rows = []
    return [Answer(q, text, rid, rid == response_id) for q, text, rid in rows]


def get(db: Database, user: User, flag_id: str) -> QueueItem:
    """One flag with its texts (safeguarding leads only)."""
    require(user, "safeguarding")
    row = db.execute(_QUEUE_SQL + " WHERE f.id = ?", [flag_id]).fetchone()
    if row is None:
        raise FlagError("That flag does not exist.")
    return QueueItem(*row[:15], answers=_answers(db, respondent_id=row[13], response_id=row[11]),
                     erased=bool(row[15]))


def history(db: Database, user: User, flag_id: str) -> list[HistoryEntry]:
    """Every status a flag has had, oldest first, each with its note (safeguarding leads only)."""
    require(user, "safeguarding")
    return [HistoryEntry(*r) for r in db.execute(
        "SELECT status, note, by, at FROM flag_history WHERE flag_id = ? ORDER BY id", [flag_id])]


def set_status(db: Database, user: User, flag_id: str, status: str, note: str) -> QueueItem:
    """Move a flag to a new status with a note (required; for referred / no further action it is the reason).

    Flags are never deleted: every change is kept in flag_history and the audit log.
    """
    require(user, "safeguarding")
    if status not in STATUSES:
        raise FlagError(f"Unknown status {status!r}; choose one of {', '.join(STATUSES)}.")
    note = (note or "").strip()
    if not note:
        if status in CLOSED:
            raise FlagError("Give the reason for closing this flag (what was done, or why no action is needed).")
        raise FlagError("Add a note saying what you did or decided.")
    row = db.execute("SELECT status FROM flags WHERE id = ?", [flag_id]).fetchone()
    if row is None:
        raise FlagError("That flag does not exist.")
    previous = row[0]
    now = now_utc()
    with transaction(db):
        db.execute("UPDATE flags SET status = ?, updated_at = ? WHERE id = ?", [status, now, flag_id])
        db.execute("INSERT INTO flag_history (flag_id, status, note, by, at) VALUES (?, ?, ?, ?, ?)",
                   [flag_id, status, note, user.username, now])
        # the note stays in flag_history (read by safeguarding leads only); the audit log says who and what
        audit.record(db, user, "flag_status_changed", "flag", flag_id, before=previous, after=status)
    return get(db, user, flag_id)


def counts(db: Database, user: User) -> dict[str, int]:
    """Number of flags per status (safeguarding leads only)."""
    require(user, "safeguarding")
    found = dict(db.execute("SELECT status, COUNT(*) FROM flags GROUP BY status").fetchall())
    return {s: found.get(s, 0) for s in STATUSES}


def open_flags_as_dicts(db: Database, user: User) -> list[dict[str, Any]]:
    """Open flags as plain objects for `cli.py safeguarding list --json` (newest first)."""
    return [
        {"id": item.id, "response_id": item.response_id, "external_id": item.external_id, "reason": item.reason,
         "status": item.status, "kind": item.kind, "created_at": item.created_at, "event": item.event,
         "event_id": item.event_id, "respondent_id": item.respondent_id, "recorded_by": item.recorded_by}
        for item in queue(db, user, statuses=["open"], limit=1_000_000)
    ]
