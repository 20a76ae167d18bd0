"""Review before analysis (issue 13, item 4): an engagement officer marks a respondent, or one answer, "approved" or
"has issues" (with a comment), as ODK Central's review states; findings and exports can then be limited to approved
answers (data.findings.load_frames(approved_only=True), `cli.py export ... --approved-only`).

States: "received" (the default: no review row), "approved", "has_issues" (a comment is required, saying what is
wrong). The table `reviews` is append-only (migration 0015_review): every review is a new row with a UUID, and a
target's current state is its newest row (by `at`, then `id`); the older rows are its history. A row with the state
"received" puts a target back to unreviewed. Rows go only with their target (erasure), through foreign keys.

An answer's effective state combines its own state and its respondent's:
- "has_issues" when the answer or its respondent has issues (an issue anywhere keeps the answer out);
- otherwise "approved" when the answer or its respondent is approved;
- otherwise "received".
So approving a respondent approves all their answers, an issue on one answer keeps only that answer out, and an
issue on a respondent keeps all their answers out whatever their own state.

Bundles (data/bundle.py) carry the rows of the chosen events; they merge by id (a union), so the same rows in any
order give the same history, and the newest review anywhere is the current state everywhere. Two officers on two
laptops reviewing the same target differently is not a conflict: both rows are kept in the history and the later one
counts. Every change is audited (the state, never the comment text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from data import audit
from data.db import new_id, now_utc, transaction
from data.users import User, require

RECEIVED, APPROVED, HAS_ISSUES = "received", "approved", "has_issues"
STATES = (RECEIVED, APPROVED, HAS_ISSUES)
LABELS = {RECEIVED: "Received (not reviewed)", APPROVED: "Approved", HAS_ISSUES: "Has issues"}
MAX_COMMENT = 2000

#: the newest review row of every target (respondent or answer)
CURRENT_SQL = ("SELECT respondent_id, response_id, state FROM (SELECT respondent_id, response_id, state, "
               "ROW_NUMBER() OVER (PARTITION BY respondent_id, response_id ORDER BY at DESC, id DESC) AS n "
               "FROM reviews) WHERE n = 1")

#: every answer with its event and effective state (see the module docstring)
EFFECTIVE_SQL = (
    f"WITH cur AS ({CURRENT_SQL}) "
    "SELECT r.id, r.event_id, CASE WHEN a.state = 'has_issues' OR p.state = 'has_issues' THEN 'has_issues' "
    "WHEN a.state = 'approved' OR p.state = 'approved' THEN 'approved' ELSE 'received' END AS state "
    "FROM responses r LEFT JOIN cur a ON a.response_id = r.id LEFT JOIN cur p ON p.respondent_id = r.respondent_id"
)


class ReviewError(ValueError):
    """A review that cannot be recorded, with a message for the person."""


@dataclass(frozen=True)
class Review:
    id: str
    event_id: str
    respondent_id: str | None
    response_id: str | None
    state: str
    comment: str
    by: str
    at: str


@dataclass(frozen=True)
class AnswerReview:
    """One answer's review as the Code page shows it: its own state, its respondent's, and the effective state."""

    response_id: str
    respondent_id: str
    answer: Review | None
    respondent: Review | None
    state: str  # effective


_COLUMNS = "id, event_id, respondent_id, response_id, state, comment, by, at"


def _target(respondent_id: str | None, response_id: str | None) -> tuple[str, str]:
    if (respondent_id is None) == (response_id is None):
        raise ReviewError("Review either one respondent or one answer.")
    return ("respondent", respondent_id) if respondent_id is not None else ("response", response_id)  # type: ignore[return-value]


def _current(db: Database, kind: str, target_id: str) -> Review | None:
    column = "respondent_id" if kind == "respondent" else "response_id"
    row = db.execute(f"SELECT {_COLUMNS} FROM reviews WHERE {column} = ? "  # noqa: S608 - fixed column names
                     "ORDER BY at DESC, id DESC LIMIT 1", [target_id]).fetchone()
    return Review(*row) if row else None


def _event_of(db: Database, kind: str, target_id: str) -> str:
    table = "respondents" if kind == "respondent" else "responses"
    row = db.execute(f"SELECT event_id FROM {table} WHERE id = ?", [target_id]).fetchone()  # noqa: S608
    if row is None:
        raise ReviewError(f"No {'respondent' if kind == 'respondent' else 'answer'} with id {target_id} "
                          "(it may have been erased).")
    return row[0]


def set_review(db: Database, user: User, *, respondent_id: str | None = None, response_id: str | None = None,
               state: str, comment: str = "") -> Review:
    """Record a review of one respondent or one answer; returns the target's current review. A comment is required
    for "has_issues" (stored exactly as typed). The same state and comment again (a double tap) writes nothing."""
    require(user, "review")
    kind, target_id = _target(respondent_id, response_id)
    if state not in STATES:
        raise ReviewError(f"Unknown review state {state!r}: use one of {', '.join(STATES)}.")
    comment = comment or ""
    if state == HAS_ISSUES and not comment.strip():
        raise ReviewError("Say what the issue is: a comment is required to mark “has issues”.")
    if len(comment) > MAX_COMMENT:
        raise ReviewError(f"The comment is too long ({len(comment):,} characters; at most {MAX_COMMENT:,}).")
    with transaction(db):
        event_id = _event_of(db, kind, target_id)
        current = _current(db, kind, target_id)
        if current is not None and current.state == state and current.comment == comment:
            return current
        if current is None and state == RECEIVED:
            raise ReviewError("Nothing to undo: this has not been reviewed.")
        row = Review(new_id(), event_id, respondent_id, response_id, state, comment, user.username, now_utc())
        db.execute(f"INSERT INTO reviews ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                   [row.id, row.event_id, row.respondent_id, row.response_id, row.state, row.comment, row.by, row.at])
        audit.record(db, user, "review_set", kind, target_id, state=state, event_id=event_id,
                     previous=current.state if current else RECEIVED, with_comment=bool(comment.strip()))
    return row


def review_state(db: Database, user: User, *, respondent_id: str | None = None,
                 response_id: str | None = None) -> str:
    """The target's own current state ("received" when never reviewed); for an answer's effective state, which
    counts its respondent's review too, see answer_review."""
    require(user, "review")
    kind, target_id = _target(respondent_id, response_id)
    current = _current(db, kind, target_id)
    return current.state if current else RECEIVED


def history(db: Database, user: User, *, respondent_id: str | None = None,
            response_id: str | None = None) -> list[Review]:
    """Every review of the target, newest first."""
    require(user, "review")
    kind, target_id = _target(respondent_id, response_id)
    column = "respondent_id" if kind == "respondent" else "response_id"
    return [Review(*r) for r in db.execute(
        f"SELECT {_COLUMNS} FROM reviews WHERE {column} = ? ORDER BY at DESC, id DESC",  # noqa: S608
        [target_id]).fetchall()]


def _effective(own: str | None, theirs: str | None) -> str:
    states = {own, theirs}
    return HAS_ISSUES if HAS_ISSUES in states else APPROVED if APPROVED in states else RECEIVED


def answer_review(db: Database, user: User, response_id: str) -> AnswerReview:
    """An answer's own review, its respondent's review and its effective state."""
    require(user, "review")
    row = db.execute("SELECT respondent_id FROM responses WHERE id = ?", [response_id]).fetchone()
    if row is None:
        raise ReviewError(f"No answer with id {response_id} (it may have been erased).")
    own, theirs = _current(db, "response", response_id), _current(db, "respondent", row[0])
    return AnswerReview(response_id, row[0], own, theirs,
                        _effective(own.state if own else None, theirs.state if theirs else None))


def bulk_approve(db: Database, user: User, *, event_id: str, comment: str = "") -> int:
    """Approve every answer of the event that is still "received" (answers with issues, on themselves or their
    respondent, and answers already approved are left as they are), after the officer has looked through them.
    One review row per answer, one audit row; returns how many answers were approved."""
    require(user, "review")
    with transaction(db):
        if db.execute("SELECT 1 FROM events WHERE id = ?", [event_id]).fetchone() is None:
            raise ReviewError(f"No event with id {event_id}.")
        ids = [r[0] for r in db.execute(
            f"SELECT id FROM ({EFFECTIVE_SQL}) WHERE event_id = ? AND state = 'received' ORDER BY id",  # noqa: S608
            [event_id]).fetchall()]
        at = now_utc()
        db.conn.executemany(
            f"INSERT INTO reviews ({_COLUMNS}) VALUES (?, ?, NULL, ?, 'approved', ?, ?, ?)",  # noqa: S608
            [(new_id(), event_id, rid, comment or "", user.username, at) for rid in ids])
        if ids:
            audit.record(db, user, "review_bulk_approve", "event", event_id, answers=len(ids))
    return len(ids)


def counts(db: Database, user: User, event_id: str | None = None) -> dict[str, dict[str, int]]:
    """Answers per effective state per event: {event_id: {"received": n, "approved": n, "has_issues": n}} (every
    event with answers; with `event_id`, that event only, zeros included)."""
    require(user, "review")
    sql = f"SELECT event_id, state, COUNT(*) FROM ({EFFECTIVE_SQL})"  # noqa: S608 - fixed SQL
    params: list[Any] = []
    if event_id is not None:
        sql += " WHERE event_id = ?"
        params.append(event_id)
    out: dict[str, dict[str, int]] = {}
    if event_id is not None:
        out[event_id] = dict.fromkeys(STATES, 0)
    for ev, state, n in db.execute(sql + " GROUP BY event_id, state", params).fetchall():
        out.setdefault(ev, dict.fromkeys(STATES, 0))[state] = n
    return out


def approved_answer_ids(db: Database) -> set[str]:
    """Ids of the answers whose effective state is "approved" (no permission check: data.findings reads it for a
    user it has already checked)."""
    return {r[0] for r in db.execute(f"SELECT id FROM ({EFFECTIVE_SQL}) WHERE state = 'approved'").fetchall()}  # noqa: S608


def version(db: Database) -> tuple[Any, ...]:
    """Changes whenever a review is added (the table is append-only) or removed with its target."""
    return tuple(db.execute("SELECT COUNT(*), MAX(at), MAX(rowid) FROM reviews").fetchone())


#: how an export limited to approved answers says so (README sheet, report, audit row)
REVIEW_FILTER = {"Review": "approved answers only"}
