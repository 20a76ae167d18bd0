"""Safeguarding flags: raised automatically (possible disclosure) or by hand ("I'm worried"), never deleted.

Raising a flag needs the "raise_flag" permission, which every role that records or imports answers holds (so a
disclosure can never block a save), plus the safeguarding lead and admins; a caller with no user is refused like
everywhere else: system paths (the CLI, the demo loader) act as a named User (`data.users.cli_user()`).
Reading the queue (with the original texts), changing a flag's status and releasing a flagged answer need the
"safeguarding" permission.

The queue is ordered for triage (see `queue`): unresolved before closed; within them immediate-risk categories
(`analysis.safeguarding.URGENT_CATEGORIES`) and flags a person raised first, strong evidence before possible; then
oldest first, so that a less urgent flag still rises to the top of its tier the longer it waits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from analysis.safeguarding import CATEGORY_LABELS, STRENGTHS, URGENT_CATEGORIES
from data import audit, settings
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

#: The category filter's value for flags raised by hand ("I'm worried"), which have no disclosure category.
MANUAL = "manual"

#: Urgency tiers, most urgent first (QueueItem.urgency). Manual flags are tier 0: a person judged it. So are automatic
#: flags whose category is unknown or could not be checked ("unchecked"): nothing tells us they can wait.
URGENCY_LABELS = {
    0: "Immediate risk",
    1: "Possible immediate risk",
    2: "Strong concern",
    3: "Possible concern",
}

#: The setting (data/settings.py) after which an open flag counts as overdue.
OVERDUE_SETTING = "flag_overdue_hours"

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
    """Open a flag for the safeguarding lead, in the caller's transaction if there is one ("raise_flag" permission)."""
    require(user, "raise_flag")
    if kind not in ("auto", MANUAL):
        raise FlagError(f"Unknown flag kind {kind!r}.")
    if strength is not None and strength not in STRENGTHS:
        raise FlagError(f"Unknown strength {strength!r}; choose one of {', '.join(STRENGTHS)}.")
    flag = Flag(new_id(), respondent_id, response_id, event_id, kind, reason, "open", user.username, now_utc(),
                category, strength)
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
    withheld: bool = False  # an unreleased flag (this one or another) keeps it out of quotes and exports


@dataclass(frozen=True)
class QueueItem:
    """One flag as the safeguarding lead sees it: the words, where, who recorded them, when, and how urgent."""

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
    category: str | None = None  # stored, or read back from the reason of a flag raised before categories were kept
    strength: str | None = None  # "strong" / "possible"; None for a manual flag (or an old one: not recorded)
    urgency: int = 0             # URGENCY_LABELS key, 0 = most urgent
    released_at: str | None = None
    released_by: str | None = None
    overdue: bool = False        # open for longer than the flag_overdue_hours setting
    new: bool = False            # raised after this lead last looked at the queue (see `queue(seen_before=...)`)
    answers: list[Answer] = field(default_factory=list)
    erased: bool = False  # the respondent was erased: the flag stays, the text has gone
    #: other unreleased flags that still withhold this flag's answer(s) (ids), so releasing this one is not enough
    withheld_by: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The flagged answer's original text, or all the respondent's answers for a manual flag."""
        flagged = [a.text for a in self.answers if a.flagged]
        return "\n".join(flagged or [a.text for a in self.answers])

    @property
    def closed(self) -> bool:
        return self.status in CLOSED

    @property
    def released(self) -> bool:
        return self.released_at is not None

    @property
    def category_label(self) -> str:
        if self.kind == MANUAL:
            return "raised by hand (a person is worried)"
        return CATEGORY_LABELS.get(self.category or "", self.category or "category not recorded")

    @property
    def strength_label(self) -> str:
        if self.kind == MANUAL:
            return "judged by a person"
        return {"strong": "strong evidence", "possible": "possible"}.get(self.strength or "", "strength not recorded")

    @property
    def urgency_label(self) -> str:
        return URGENCY_LABELS[self.urgency]


@dataclass(frozen=True)
class HistoryEntry:
    status: str
    note: str
    by: str | None
    at: str


# Flags raised before migration 0008 kept their category only inside the reason ("possible disclosure (being hit or
# hurt): ..." or "... (being hit or hurt, in Polish): ..."): read it back so the old queue can be triaged too.
_LEGACY_CATEGORY = "CASE " + " ".join(
    "WHEN flags.reason LIKE ? ESCAPE '\\' OR flags.reason LIKE ? ESCAPE '\\' THEN ?" for _ in CATEGORY_LABELS) + " END"


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_LEGACY_PARAMS: list[str] = [
    p for key, label in CATEGORY_LABELS.items()
    for p in (f"possible disclosure ({_like(label)})%", f"possible disclosure ({_like(label)}, in %", key)
]

_URGENT = sorted(URGENT_CATEGORIES)
# g.cat is the category (stored or read back); "possible" evidence is a stored "possible" or the low-confidence
# "personal" category. An unknown or unchecked category cannot be judged by the rules: treated like a manual flag.
_URGENCY_SQL = f"""CASE
    WHEN g.kind = 'manual' OR g.cat IS NULL OR g.cat = 'unchecked' THEN 0
    WHEN g.cat IN ({', '.join('?' for _ in _URGENT)}) THEN
        CASE WHEN g.strength = 'possible' OR g.cat = 'personal' THEN 1 ELSE 0 END
    WHEN g.strength = 'possible' OR g.cat = 'personal' THEN 3
    ELSE 2 END"""

_QUEUE_SQL = f"""
SELECT f.id, f.kind, f.reason, f.status, f.created_at, f.updated_at, f.raised_by,
       COALESCE(p.recorded_by, r.recorded_by), f.event_id, e.name, e.date, f.response_id, r.external_id,
       f.respondent_id, p.group_id, f.cat, f.strength, f.urgency, f.released_at, f.released_by,
       EXISTS (SELECT 1 FROM tombstones t WHERE t.kind = 'flag' AND t.ref_id = f.id)
FROM (SELECT g.*, {_URGENCY_SQL} AS urgency
      FROM (SELECT flags.rowid AS seq, flags.*,
                   COALESCE(flags.category, CASE WHEN flags.kind = 'auto' THEN {_LEGACY_CATEGORY} END) AS cat
            FROM flags) g) f
LEFT JOIN responses r ON r.id = f.response_id
LEFT JOIN respondents p ON p.id = f.respondent_id
LEFT JOIN events e ON e.id = f.event_id
"""
_QUEUE_PARAMS = [*_URGENT, *_LEGACY_PARAMS]  # in the order their placeholders appear in _QUEUE_SQL

# Open, then reviewed, then closed. Unresolved flags by urgency tier, then oldest first: within a tier the longest
# wait is seen first, so a steady stream of new flags cannot bury an old one. Closed flags are for reference: the most
# recently decided first.
_ORDER_SQL = """ ORDER BY CASE f.status WHEN 'open' THEN 0 WHEN 'reviewed' THEN 1 ELSE 2 END,
    CASE WHEN f.status IN ('open', 'reviewed') THEN f.urgency ELSE 0 END,
    CASE WHEN f.status IN ('open', 'reviewed') THEN f.created_at END ASC,
    CASE WHEN f.status NOT IN ('open', 'reviewed') THEN f.updated_at END DESC,
    f.seq"""


def _as_list(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def queue(db: Database, user: User, *, statuses: tuple[str, ...] | list[str] | None = None,
          event_id: str | None = None, categories: str | tuple[str, ...] | list[str] | None = None,
          strengths: str | tuple[str, ...] | list[str] | None = None, seen_before: str | None = None,
          limit: int = 500) -> list[QueueItem]:
    """Flags in triage order, with the original texts, event, researcher and time (safeguarding leads only).

    Order: open, then reviewed, then closed flags. Open and reviewed ones by urgency tier (URGENCY_LABELS: an
    immediate-risk category with strong evidence or a flag a person raised; an immediate-risk category with possible
    evidence; any other strong; any other possible), oldest first within a tier so the longest wait is seen first.
    Closed flags: most recently changed first.
    Filters (each optional; several values mean any of them): `statuses`, `event_id`, `categories` (keys of
    CATEGORY_LABELS, or MANUAL for flags raised by hand), `strengths` ("strong", "possible"; a manual flag has none).
    `seen_before`: the time this lead last looked (see `mark_seen`); flags raised after it are `new` (all of them are
    when it is None). Open flags older than the `flag_overdue_hours` setting are `overdue`.
    """
    require(user, "safeguarding")
    statuses, categories, strengths = _as_list(statuses), _as_list(categories), _as_list(strengths)
    unknown = set(statuses) - set(STATUSES)
    if unknown:
        raise FlagError(f"Unknown flag status {', '.join(sorted(unknown))}.")
    unknown = set(categories) - set(CATEGORY_LABELS) - {MANUAL}
    if unknown:
        raise FlagError(f"Unknown flag category {', '.join(sorted(unknown))}.")
    unknown = set(strengths) - set(STRENGTHS)
    if unknown:
        raise FlagError(f"Unknown flag strength {', '.join(sorted(unknown))}.")
    where, params = [], list(_QUEUE_PARAMS)
    if statuses:
        where.append(f"f.status IN ({', '.join('?' for _ in statuses)})")
        params.extend(statuses)
    if event_id:
        where.append("f.event_id = ?")
        params.append(event_id)
    if categories:
        named = [c for c in categories if c != MANUAL]
        either = [f"f.cat IN ({', '.join('?' for _ in named)})"] if named else []
        if MANUAL in categories:
            either.append("f.kind = 'manual'")
        where.append("(" + " OR ".join(either) + ")")
        params.extend(named)
    if strengths:
        # a flag raised before strengths were kept has none; its "personal" category was always low confidence
        where.append(f"(f.strength IN ({', '.join('?' for _ in strengths)})"
                     + (" OR (f.strength IS NULL AND f.kind = 'auto' AND f.cat = 'personal'))"
                        if "possible" in strengths else ")"))
        params.extend(strengths)
    sql = _QUEUE_SQL + (" WHERE " + " AND ".join(where) if where else "") + _ORDER_SQL + " LIMIT ?"
    params.append(int(limit))
    cutoff = _overdue_cutoff(db)
    return [_item(db, row, cutoff, seen_before) for row in db.execute(sql, params).fetchall()]


def _overdue_cutoff(db: Database, now: dt.datetime | None = None) -> str:
    hours = settings.get_int(db, OVERDUE_SETTING)
    return ((now or dt.datetime.now(dt.UTC)) - dt.timedelta(hours=hours)).isoformat(timespec="microseconds")


def _item(db: Database, row: tuple[Any, ...], overdue_cutoff: str, seen_before: str | None) -> QueueItem:
    flag_id, status, created_at, response_id, respondent_id = row[0], row[3], row[4], row[11], row[13]
    answers = _answers(db, respondent_id=respondent_id, response_id=response_id)
    return QueueItem(
        *row[:20], overdue=status == "open" and created_at < overdue_cutoff,
        new=seen_before is None or created_at > seen_before, answers=answers, erased=bool(row[20]),
        withheld_by=_withheld_by(db, flag_id, answers),
    )


def _answers(db: Database, *, respondent_id: str | None, response_id: str | None) -> list[Answer]:
    withheld = withheld_sql("r")
    if respondent_id:
        rows = db.execute(f"SELECT r.question_id, r.text, r.id, {withheld} FROM responses r WHERE r.respondent_id = ? "
                          "ORDER BY r.question_id, r.position", [respondent_id]).fetchall()
    elif response_id:
        rows = db.execute(f"SELECT r.question_id, r.text, r.id, {withheld} FROM responses r WHERE r.id = ?",
                          [response_id]).fetchall()
    else:
        rows = []
    return [Answer(q, text, rid, rid == response_id, bool(held)) for q, text, rid, held in rows]


def _withheld_by(db: Database, flag_id: str, answers: list[Answer]) -> list[str]:
    """Other unreleased flags naming this flag's answer(s): the flagged one, or all of them for a manual flag."""
    covered = [a for a in answers if a.flagged] or answers
    ids = sorted({a.response_id for a in covered})
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    return [r[0] for r in db.execute(
        f"SELECT DISTINCT wf.id FROM flags wf JOIN responses r ON r.id IN ({marks}) "
        "WHERE wf.id != ? AND wf.released_at IS NULL AND "
        "(wf.response_id = r.id OR (wf.response_id IS NULL AND wf.respondent_id = r.respondent_id)) "
        "ORDER BY wf.created_at", [*ids, flag_id]).fetchall()]


def get(db: Database, user: User, flag_id: str, *, seen_before: str | None = None) -> QueueItem:
    """One flag with its texts (safeguarding leads only)."""
    require(user, "safeguarding")
    row = db.execute(_QUEUE_SQL + " WHERE f.id = ?", [*_QUEUE_PARAMS, flag_id]).fetchone()
    if row is None:
        raise FlagError("That flag does not exist.")
    return _item(db, row, _overdue_cutoff(db), seen_before)


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


#: How a release and its reversal read in flag_history (the lead's note follows).
RELEASED_NOTE = "Released: no further action, may be quoted. "
UNRELEASED_NOTE = "Withheld again: may not be quoted. "


def release(db: Database, user: User, flag_id: str, note: str) -> QueueItem:
    """The safeguarding lead's decision "no further action, may be quoted", with a note (required).

    Closes the flag as no further action unless it is already closed (a referred flag stays referred) and marks it
    released, so that it no longer withholds its answer(s) from quotes and exports. Another unreleased flag on the
    same answer or respondent still withholds them (see QueueItem.withheld_by). Kept in flag_history and audited.
    """
    require(user, "safeguarding")
    note = (note or "").strip()
    if not note:
        raise FlagError("Give the reason this answer may be quoted (what you checked or decided).")
    row = db.execute("SELECT status, released_at FROM flags WHERE id = ?", [flag_id]).fetchone()
    if row is None:
        raise FlagError("That flag does not exist.")
    previous, released_at = row
    if released_at is not None:
        raise FlagError("This flag is already released.")
    status = previous if previous in CLOSED else "no_further_action"
    now = now_utc()
    with transaction(db):
        db.execute("UPDATE flags SET status = ?, updated_at = ?, released_at = ?, released_by = ? WHERE id = ?",
                   [status, now, now, user.username, flag_id])
        db.execute("INSERT INTO flag_history (flag_id, status, note, by, at) VALUES (?, ?, ?, ?, ?)",
                   [flag_id, status, RELEASED_NOTE + note, user.username, now])
        audit.record(db, user, "flag_released", "flag", flag_id, before=previous, after=status)
    return get(db, user, flag_id)


def unrelease(db: Database, user: User, flag_id: str, note: str) -> QueueItem:
    """Undo a release (the answer is withheld again), with a note (required); the status is kept. Audited."""
    require(user, "safeguarding")
    note = (note or "").strip()
    if not note:
        raise FlagError("Give the reason this answer must be withheld again.")
    row = db.execute("SELECT status, released_at FROM flags WHERE id = ?", [flag_id]).fetchone()
    if row is None:
        raise FlagError("That flag does not exist.")
    status, released_at = row
    if released_at is None:
        raise FlagError("This flag is not released: its answer is already withheld.")
    now = now_utc()
    with transaction(db):
        db.execute("UPDATE flags SET updated_at = ?, released_at = NULL, released_by = NULL WHERE id = ?",
                   [now, flag_id])
        db.execute("INSERT INTO flag_history (flag_id, status, note, by, at) VALUES (?, ?, ?, ?, ?)",
                   [flag_id, status, UNRELEASED_NOTE + note, user.username, now])
        audit.record(db, user, "flag_unreleased", "flag", flag_id, status=status)
    return get(db, user, flag_id)


def counts(db: Database, user: User) -> dict[str, int]:
    """Number of flags per status (safeguarding leads only)."""
    require(user, "safeguarding")
    found = dict(db.execute("SELECT status, COUNT(*) FROM flags GROUP BY status").fetchall())
    return {s: found.get(s, 0) for s in STATUSES}


def overdue_count(db: Database, user: User) -> int:
    """Open flags older than the flag_overdue_hours setting (safeguarding leads only)."""
    require(user, "safeguarding")
    return db.execute("SELECT COUNT(*) FROM flags WHERE status = 'open' AND created_at < ?",
                      [_overdue_cutoff(db)]).fetchone()[0]


def flagged_events(db: Database, user: User) -> list[tuple[str, str, str | None]]:
    """(event id, name, date) of every event with at least one flag, newest date first, for the queue's filter."""
    require(user, "safeguarding")
    return [tuple(r) for r in db.execute(
        "SELECT e.id, e.name, e.date FROM events e WHERE EXISTS (SELECT 1 FROM flags f WHERE f.event_id = e.id) "
        "ORDER BY e.date DESC, e.name").fetchall()]


def last_seen(db: Database, user: User) -> str | None:
    """When this safeguarding lead last looked at the queue (UTC ISO), or None if never."""
    require(user, "safeguarding")
    row = db.execute("SELECT seen_at FROM flag_queue_seen WHERE username = ?", [user.username]).fetchone()
    return row[0] if row else None


def mark_seen(db: Database, user: User, at: str | None = None) -> str | None:
    """Record that this lead looked at the queue now; returns the previous time (None if never), which is what
    "new since you last looked" compares with."""
    previous = last_seen(db, user)
    with transaction(db):
        db.execute("INSERT INTO flag_queue_seen (username, seen_at) VALUES (?, ?) "
                   "ON CONFLICT(username) DO UPDATE SET seen_at = excluded.seen_at", [user.username, at or now_utc()])
    return previous


def open_flags_as_dicts(db: Database, user: User) -> list[dict[str, Any]]:
    """Open flags as plain objects for `cli.py safeguarding list --json`, in triage order (see `queue`)."""
    return [
        {"id": item.id, "response_id": item.response_id, "external_id": item.external_id, "reason": item.reason,
         "status": item.status, "kind": item.kind, "category": item.category, "strength": item.strength,
         "urgency": item.urgency_label, "overdue": item.overdue, "created_at": item.created_at, "event": item.event,
         "event_id": item.event_id, "respondent_id": item.respondent_id, "recorded_by": item.recorded_by}
        for item in queue(db, user, statuses=["open"], limit=1_000_000)
    ]
