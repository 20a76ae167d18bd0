"""Engagement rounds: named groups of events ("Neglect strategy 2019", "2026 refresh"), and snapshots of the counts.

An event is in at most one round. Engagement officers and admins manage rounds ("manage_rounds"); strategy leads
read them ("findings"). A snapshot stores the counts of a round (or of every event) at a moment, for an impact
framework reported quarterly: answers, people, post-its, coded answers, and the theme shares per question.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlite_utils import Database

from data import audit
from data.db import now_utc, transaction
from data.users import User, require

NAME_MAX = 120


class RoundError(ValueError):
    """A round action that cannot be done as asked, with a message for the person."""


@dataclass(frozen=True)
class Round:
    id: int
    name: str
    created_at: str
    events: int  # how many events it groups
    first_date: str | None = None
    last_date: str | None = None

    @property
    def title(self) -> str:
        if self.first_date:
            span = self.first_date if self.first_date == self.last_date else f"{self.first_date} to {self.last_date}"
            return f"{self.name} ({span})"
        return self.name


_ROUND_SQL = ("SELECT r.id, r.name, r.created_at, COUNT(e.id), MIN(e.date), MAX(e.date) FROM rounds r "
              "LEFT JOIN round_events re ON re.round_id = r.id LEFT JOIN events e ON e.id = re.event_id ")


def _clean_name(db: Database, name: str, other_than: int | None = None) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise RoundError("Give the round a name, e.g. “2026 refresh”.")
    if len(name) > NAME_MAX:
        raise RoundError(f"A round name is at most {NAME_MAX} characters.")
    row = db.execute("SELECT id FROM rounds WHERE name = ? COLLATE NOCASE AND id IS NOT ?",
                     [name, other_than]).fetchone()
    if row is not None:
        raise RoundError(f"There is already a round called “{name}”; choose another name.")
    return name


def create_round(db: Database, user: User, name: str) -> Round:
    """A new, empty round."""
    require(user, "manage_rounds")
    name = _clean_name(db, name)
    now = now_utc()
    with transaction(db):
        cur = db.execute("INSERT INTO rounds (name, created_by, created_at, updated_at) VALUES (?, ?, ?, ?)",
                         [name, user.username, now, now])
        round_id = int(cur.lastrowid)
        audit.record(db, user, "round_created", "round", round_id, name=name)
    return _get(db, round_id)


def rename_round(db: Database, user: User, round_id: int, name: str) -> Round:
    require(user, "manage_rounds")
    old = _get(db, round_id)
    name = _clean_name(db, name, other_than=old.id)
    with transaction(db):
        db.execute("UPDATE rounds SET name = ?, updated_at = ? WHERE id = ?", [name, now_utc(), old.id])
        audit.record(db, user, "round_renamed", "round", old.id, old=old.name, new=name)
    return _get(db, round_id)


def _get(db: Database, round_id: int) -> Round:
    row = db.execute(_ROUND_SQL + "WHERE r.id = ? GROUP BY r.id", [int(round_id)]).fetchone()
    if row is None:
        raise RoundError("That round no longer exists; choose another.")
    return Round(*row)


def get_round(db: Database, user: User, ref: int | str) -> Round:
    """A round by id or by name (case-insensitive)."""
    require(user, "findings")
    text = str(ref).strip()
    row = db.execute("SELECT id FROM rounds WHERE name = ? COLLATE NOCASE", [text]).fetchone()
    if row is None and text.isdigit():
        row = db.execute("SELECT id FROM rounds WHERE id = ?", [int(text)]).fetchone()
    if row is None:
        raise RoundError(f"No round is called “{text}”. See: python cli.py rounds list")
    return _get(db, row[0])


def list_rounds(db: Database, user: User) -> list[Round]:
    """Every round, the one with the earliest events first (rounds without events last)."""
    require(user, "findings")
    rows = db.execute(_ROUND_SQL + "GROUP BY r.id ORDER BY MIN(e.date) IS NULL, MIN(e.date), r.created_at").fetchall()
    return [Round(*row) for row in rows]


def assign_events(db: Database, user: User, round_id: int, event_ids: list[str], *, move: bool = False) -> int:
    """Put events into a round. An event already in another round is refused (naming it) unless `move`.
    Returns how many events changed round."""
    require(user, "manage_rounds")
    target = _get(db, round_id)
    event_ids = list(dict.fromkeys(event_ids))
    known = {r[0] for r in db.execute(
        f"SELECT id FROM events WHERE id IN ({','.join('?' * len(event_ids))})", event_ids)} if event_ids else set()  # noqa: S608
    missing = [e for e in event_ids if e not in known]
    if missing:
        raise RoundError(f"{len(missing)} of these events no longer exist; reload and choose again.")
    current = dict(db.execute(
        f"SELECT re.event_id, r.name FROM round_events re JOIN rounds r ON r.id = re.round_id "  # noqa: S608
        f"WHERE re.event_id IN ({','.join('?' * len(event_ids))}) AND re.round_id != ?",
        [*event_ids, target.id]).fetchall()) if event_ids else {}
    if current and not move:
        names = ", ".join(sorted(set(current.values())))
        raise RoundError(f"{len(current)} of these events are already in another round ({names}); an event belongs "
                         "to one round at most. Move them explicitly if that is meant.")
    changed = 0
    now = now_utc()
    with transaction(db):
        for event_id in event_ids:
            cur = db.execute(
                "INSERT INTO round_events (event_id, round_id, assigned_by, assigned_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(event_id) DO UPDATE SET round_id = excluded.round_id, assigned_by = excluded.assigned_by,"
                " assigned_at = excluded.assigned_at WHERE round_events.round_id != excluded.round_id",
                [event_id, target.id, user.username, now])
            changed += cur.rowcount
        db.execute("UPDATE rounds SET updated_at = ? WHERE id = ?", [now, target.id])
        audit.record(db, user, "round_events_assigned", "round", target.id, events=event_ids,
                     moved_from=sorted(set(current.values())))
    return changed


def unassign_events(db: Database, user: User, round_id: int, event_ids: list[str]) -> int:
    """Take events out of a round (they stay, in no round)."""
    require(user, "manage_rounds")
    target = _get(db, round_id)
    removed = 0
    with transaction(db):
        for event_id in event_ids:
            removed += db.execute("DELETE FROM round_events WHERE event_id = ? AND round_id = ?",
                                  [event_id, target.id]).rowcount
        audit.record(db, user, "round_events_removed", "round", target.id, events=list(event_ids))
    return removed


def event_ids(db: Database, round_id: int) -> list[str]:
    """Ids of the events in a round (no permission: ids only; callers check theirs)."""
    return [r[0] for r in db.execute("SELECT event_id FROM round_events WHERE round_id = ? ORDER BY event_id",
                                     [int(round_id)]).fetchall()]


def round_of_events(db: Database, user: User) -> dict[str, int]:
    """event id -> round id, for every event in a round."""
    require(user, "findings")
    return dict(db.execute("SELECT event_id, round_id FROM round_events").fetchall())


def round_events(db: Database, user: User, round_id: int) -> list[Any]:
    """The events in a round (data.events.Event), earliest first."""
    require(user, "findings")
    from data.events import Event

    rows = db.execute("SELECT e.id, e.name, e.venue, e.date, e.area, e.question_set_id, e.status, e.created_at "
                      "FROM events e JOIN round_events re ON re.event_id = e.id WHERE re.round_id = ? "
                      "ORDER BY e.date, e.name", [int(round_id)]).fetchall()
    return [Event(*row) for row in rows]


def round_languages(db: Database, user: User, round_id: int) -> list[tuple[str, Any]]:
    """The languages the round used: every language of its events' question sets, as (code, QuestionSet) with the
    question set declaring it (the newest set wins), the default language first."""
    from data.events import question_set

    out: dict[str, Any] = {}
    defaults: list[str] = []
    for set_id in dict.fromkeys(e.question_set_id for e in round_events(db, user, round_id)):
        qs = question_set(db, set_id)
        defaults.append(qs.default_language)
        for lang in qs.languages:
            out[lang.code] = qs
    order = sorted(out, key=lambda c: (c not in defaults, c))
    return [(code, out[code]) for code in order]


def question_labels(db: Database) -> dict[str, str]:
    """Question id -> label, as Findings shows them (for the snapshot charts)."""
    from data.findings import _labels

    return _labels(db)[0]


# --- snapshots --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    id: int
    round_id: int | None
    label: str
    taken_at: str
    answers: int
    people: int
    postits: int
    coded_answers: int
    shares: list[dict[str, Any]]


def take_snapshot(db: Database, user: User, round_id: int | None = None, label: str = "") -> Snapshot:
    """Store the counts now (of one round, or of every event): answers, people, post-its, coded answers and the
    theme shares per question (top-level themes; raw counts, as the small-number rule applies when shown)."""
    require(user, "manage_rounds")
    from analysis import findings as af
    from data.findings import load_frames

    if round_id is not None:
        round_id = _get(db, round_id).id
    frames = load_frames(db, user, coding_details=False, round_id=round_id)
    prep = af.prepare(frames.answers, frames.codings, frames.codes, frames.pins, frames.questions, frames.groups)
    sel = af.select(prep, af.Filter())
    head = af.headline(sel)
    table = af.theme_shares(sel, "theme")
    shares = [{"question_id": r.question_id, "code": r.code, "label": r.label, "respondents": int(r.respondents),
               "base": int(r.base_respondents), "share": float(r.share)} for r in table.itertuples()]
    now = now_utc()
    label = " ".join(str(label or "").split())[:NAME_MAX]
    with transaction(db):
        cur = db.execute(
            "INSERT INTO snapshots (round_id, label, taken_at, taken_by, answers, people, postits, coded_answers, "
            "shares) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [round_id, label, now, user.username, head["answers"], head["respondents"], head["postits"],
             head["coded_answers"], json.dumps(shares, ensure_ascii=False)])
        snapshot_id = int(cur.lastrowid)
        audit.record(db, user, "snapshot_taken", "snapshot", snapshot_id, round_id=round_id, label=label)
    return Snapshot(snapshot_id, round_id, label, now, head["answers"], head["respondents"], head["postits"],
                    head["coded_answers"], shares)


def list_snapshots(db: Database, user: User, round_id: int | None = None, *, every: bool = False) -> list[Snapshot]:
    """Snapshots oldest first: of one round, of every event (round_id None), or all of them (`every`)."""
    require(user, "findings")
    sql = ("SELECT id, round_id, label, taken_at, answers, people, postits, coded_answers, shares FROM snapshots")
    params: list[Any] = []
    if not every:
        sql += " WHERE round_id IS ?"
        params.append(round_id)
    rows = db.execute(sql + " ORDER BY taken_at, id", params).fetchall()
    return [Snapshot(*row[:8], json.loads(row[8] or "[]")) for row in rows]


def snapshot_frame(snapshots: list[Snapshot], questions: dict[str, str] | None = None,
                   threshold: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chart data: (counts, shares). counts: taken_at, label, measure (Answers/People/Post-its/Coded answers),
    value; shares: taken_at, label, question_id, question, theme, share, respondents, base. A share whose count is
    under the small-number threshold is left out (as everywhere it is shown)."""
    import config

    t = config.SMALL_CELL_THRESHOLD if threshold is None else threshold
    counts = pd.DataFrame(
        [{"taken_at": s.taken_at, "label": s.label or s.taken_at[:10], "measure": m, "value": v}
         for s in snapshots for m, v in (("Answers", s.answers), ("People", s.people), ("Post-its", s.postits),
                                          ("Coded answers", s.coded_answers))],
        columns=["taken_at", "label", "measure", "value"])
    shares = pd.DataFrame(
        [{"taken_at": s.taken_at, "label": s.label or s.taken_at[:10], "question_id": x["question_id"],
          "question": (questions or {}).get(x["question_id"], x["question_id"]), "theme": x["label"],
          "share": x["share"], "respondents": x["respondents"], "base": x["base"]}
         for s in snapshots for x in s.shares if x["respondents"] >= t and x["base"] >= t],
        columns=["taken_at", "label", "question_id", "question", "theme", "share", "respondents", "base"])
    for frame in (counts, shares):
        frame["taken_at"] = pd.to_datetime(frame["taken_at"], utc=True, format="ISO8601")
    return counts, shares
