"""Coding answers: the queue, applying and removing codes, suggestions accepted or dismissed, bulk coding,
memos, undo (each coder's action log in `coding_actions`), counts, and codings CSV import/export.

Every coding is stored with its coder, so each coder's work stays separate; every action is audited.
An answer under an unreleased safeguarding flag is withheld: its text is WITHHELD_TEXT for everyone but the
safeguarding lead, it still counts and can still be coded, and a text search never finds it (see `_where`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlite_utils import Database

from data import audit, settings
from data.codebook import Code, CodebookError, get_code, list_codes
from data.db import now_utc, transaction
from data.events import question_set
from data.flags import WITHHELD_TEXT, withheld_sql
from data.importer import InvalidFile, RowProblem, _cell_text, _timestamp, read_table
from data.paths import csv_export
from data.users import User, require

STATES = ("all", "uncoded", "coded")
SOURCES = ("human", "suggestion", "bulk", "import", "merge")
MIN_BULK_SEARCH = 2
EXPORT_COLUMNS = ("response_id", "code", "coder", "source", "created_at")


class CodingError(ValueError):
    """A coding action was refused; the message says why in plain words. Nothing was written."""


@dataclass(frozen=True)
class Answer:
    """One answer in the queue: the redacted text with its question, group and event, and this coder's codes."""

    id: str
    text: str
    question_id: str
    question: str
    group_id: str
    group: str
    event_id: str
    event: str
    external_id: str | None
    codes: tuple[str, ...] = ()
    #: under an unreleased safeguarding flag; then `text` is WITHHELD_TEXT unless the user is the safeguarding lead
    withheld: bool = False


def sees_withheld(user: User) -> bool:
    """Only the safeguarding lead reads a withheld answer's words outside the safeguarding queue."""
    return user.can("safeguarding")


@dataclass(frozen=True)
class QueuePage:
    answers: list[Answer]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class Counts:
    total: int
    coded: int  # answers with at least one code from this coder

    @property
    def remaining(self) -> int:
        return self.total - self.coded


@dataclass(frozen=True)
class Filters:
    """Which answers: by question, respondent group, event, this coder's coded state, a text search, a sample."""

    question: str | None = None
    group: str | None = None
    event: str | None = None
    state: str = "all"
    search: str = ""
    sample_id: int | None = None


@dataclass(frozen=True)
class BulkPreview:
    code: str
    matching: int        # answers matching the search and filters
    to_code: int         # of those, answers this coder has not yet coded with the code
    sample: list[Answer] = field(default_factory=list)


@dataclass(frozen=True)
class Action:
    id: int
    kind: str
    summary: str
    at: str
    changes: int


@dataclass
class CodingsImported:
    added: int = 0
    already_present: int = 0

    def summary(self) -> str:
        return f"{self.added} coding(s) added, {self.already_present} already present."


# --- reading ------------------------------------------------------------------------------------------------------

def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(filters: Filters, user: User) -> tuple[str, list[Any]]:
    coder = user.username
    clauses: list[str] = []
    params: list[Any] = []
    if filters.question:
        clauses.append("r.question_id = ?")
        params.append(filters.question)
    if filters.group:
        clauses.append("r.respondent_id IN (SELECT id FROM respondents WHERE group_id = ?)")
        params.append(filters.group)
    if filters.event:
        clauses.append("r.event_id = ?")
        params.append(filters.event)
    if filters.sample_id is not None:
        clauses.append("r.id IN (SELECT response_id FROM agreement_sample_items WHERE sample_id = ?)")
        params.append(int(filters.sample_id))
    if filters.search.strip():
        clauses.append("coalesce(r.redacted_text, '') LIKE ? ESCAPE '\\'")
        params.append(_like(filters.search.strip()))
        if not sees_withheld(user):
            # A search reads the text: matching a withheld answer would reveal its words (a count of 1 for
            # "hits me" says what it holds), and bulk coding would code words nobody may read. So a search
            # never finds one; it stays in the unsearched queue and its counts, to be coded from its banner.
            clauses.append("NOT " + withheld_sql("r"))
    if filters.state not in STATES:
        raise CodingError(f"Unknown state {filters.state!r}; use one of {', '.join(STATES)}.")
    if filters.state != "all":
        negate = "NOT " if filters.state == "uncoded" else ""
        clauses.append(f"{negate}EXISTS (SELECT 1 FROM codings c WHERE c.coder = ? AND c.response_id = r.id)")
        params.append(coder)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


# Filters refer only to `r`, so counting and finding ids need no joins (_BARE); showing answers does (_FROM).
_BARE = " FROM responses r"
_FROM = " FROM responses r JOIN respondents p ON p.id = r.respondent_id JOIN events e ON e.id = r.event_id"


class _Labels:
    """Question and group labels from each event's frozen question set (cached for one call)."""

    def __init__(self, db: Database):
        self.db = db
        self.sets: dict[str, Any] = {}
        self._default_area: str | None = None

    def area(self, event_area: str | None) -> str:
        """The area named in question 4: the event's own, else the partnership's setting."""
        if event_area:
            return event_area
        if self._default_area is None:
            try:
                self._default_area = settings.get(self.db, "area_name")
            except Exception:  # noqa: BLE001 - only a label
                self._default_area = "our area"
        return self._default_area

    def _qs(self, qs_id: str):
        if qs_id not in self.sets:
            try:
                self.sets[qs_id] = question_set(self.db, qs_id)
            except Exception:  # noqa: BLE001 - a missing set only costs the label
                self.sets[qs_id] = None
        return self.sets[qs_id]

    def question(self, qs_id: str, question_id: str, event_area: str | None = None) -> str:
        qs = self._qs(qs_id)
        q = qs.question(question_id) if qs else None
        return qs.text(q.label, area=self.area(event_area)) if q else question_id

    def group(self, qs_id: str, group_id: str) -> str:
        qs = self._qs(qs_id)
        g = qs.group(group_id) if qs else None
        return qs.text(g.label) if g else group_id


def _shown(text: str | None, withheld: bool, user: User) -> str:
    return WITHHELD_TEXT if withheld and not sees_withheld(user) else (text or "")


def _answers(db: Database, rows: list[Any], user: User) -> list[Answer]:
    labels = _Labels(db)
    ids = [row[0] for row in rows]
    mine = coder_codes(db, ids, user.username)
    return [Answer(id=rid, text=_shown(text, bool(held), user), question_id=qid,
                   question=labels.question(qs_id, qid, area), group_id=gid, group=labels.group(qs_id, gid),
                   event_id=eid, event=ename, external_id=ext, codes=tuple(mine.get(rid, ())), withheld=bool(held))
            for rid, text, qid, gid, eid, ename, qs_id, ext, area, held in rows]


_COLUMNS = ("SELECT r.id, r.redacted_text, r.question_id, p.group_id, r.event_id, e.name, e.question_set_id, "
            f"r.external_id, e.area, {withheld_sql('r')}")


def queue(db: Database, user: User, filters: Filters = Filters(), *, page: int = 0, page_size: int = 20) -> QueuePage:
    """One page of answers (redacted text; WITHHELD_TEXT for a withheld one) matching the filters, oldest first,
    with this coder's codes."""
    require(user, "code")
    where, params = _where(filters, user)
    total = db.execute("SELECT count(*)" + _BARE + where, params).fetchone()[0]
    page_size = max(1, int(page_size))
    page = max(0, min(int(page), max(0, -(-total // page_size) - 1)))
    ids = [row[0] for row in db.execute("SELECT r.id" + _BARE + where + " ORDER BY r.created_at, r.id LIMIT ? OFFSET ?",
                                        params + [page_size, page * page_size])]
    return QueuePage(_answers_by_id(db, ids, user), total, page, page_size)


def _answers_by_id(db: Database, ids: list[str], user: User) -> list[Answer]:
    """The answers with these ids, in the order given (the ids were found without joins, which is faster)."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = {row[0]: row for row in db.execute(_COLUMNS + _FROM + f" WHERE r.id IN ({marks})", ids)}
    return _answers(db, [rows[i] for i in ids if i in rows], user)


def neighbour(db: Database, user: User, filters: Filters, response_id: str | None, *, forward: bool = True,
              ) -> str | None:
    """The id of the answer after (or before) `response_id` in queue order among those matching the filters;
    with no `response_id`, the first (or last). The current answer need not match the filters any more (it may
    just have been coded while the queue shows uncoded answers)."""
    require(user, "code")
    where, params = _where(filters, user)
    order = "ASC" if forward else "DESC"
    if response_id:
        row = db.execute("SELECT created_at, id FROM responses WHERE id = ?", [response_id]).fetchone()
        if row is not None:
            where += (" AND " if where else " WHERE ") + f"(r.created_at, r.id) {'>' if forward else '<'} (?, ?)"
            params = params + [row[0], row[1]]
    found = db.execute("SELECT r.id" + _BARE + where + f" ORDER BY r.created_at {order}, r.id {order} LIMIT 1",
                       params).fetchone()
    return found[0] if found else None


def position(db: Database, user: User, filters: Filters, response_id: str) -> int:
    """How many answers matching the filters come before `response_id` in queue order (0 for the first)."""
    require(user, "code")
    row = db.execute("SELECT created_at, id FROM responses WHERE id = ?", [response_id]).fetchone()
    if row is None:
        return 0
    where, params = _where(filters, user)
    where += (" AND " if where else " WHERE ") + "(r.created_at, r.id) < (?, ?)"
    return db.execute("SELECT count(*)" + _BARE + where, params + [row[0], row[1]]).fetchone()[0]


def matches(db: Database, user: User, filters: Filters, response_id: str) -> bool:
    """Whether the answer is (still) in the queue these filters select."""
    require(user, "code")
    where, params = _where(filters, user)
    where += (" AND " if where else " WHERE ") + "r.id = ?"
    return db.execute("SELECT 1" + _BARE + where, params + [response_id]).fetchone() is not None


def get_answer(db: Database, user: User, response_id: str) -> Answer:
    """One answer with this coder's codes; a withheld one carries WITHHELD_TEXT (for all but the safeguarding
    lead) and `withheld=True`, so the page can say why."""
    require(user, "code")
    rows = db.execute(_COLUMNS + _FROM + " WHERE r.id = ?", [response_id]).fetchall()
    if not rows:
        raise CodingError("That answer no longer exists.")
    return _answers(db, rows, user)[0]


def counts(db: Database, user: User, filters: Filters = Filters()) -> Counts:
    """Answers in scope (question, group, event, sample; not state or search) and how many this coder has coded."""
    require(user, "code")
    scope = Filters(question=filters.question, group=filters.group, event=filters.event, sample_id=filters.sample_id)
    where, params = _where(scope, user)
    total = db.execute("SELECT count(*)" + _BARE + where, params).fetchone()[0]
    where_coded, params_coded = _where(Filters(**{**scope.__dict__, "state": "coded"}), user)
    coded = db.execute("SELECT count(*)" + _BARE + where_coded, params_coded).fetchone()[0]
    return Counts(total, coded)


def coder_codes(db: Database, response_ids: list[str], coder: str) -> dict[str, list[str]]:
    """For each answer, the names of the codes `coder` applied (codebook order by name)."""
    result: dict[str, list[str]] = {}
    for start in range(0, len(response_ids), 500):
        chunk = response_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for rid, name in db.execute(
            f"SELECT c.response_id, k.name FROM codings c JOIN codes k ON k.id = c.code_id "
            f"WHERE c.coder = ? AND c.response_id IN ({marks}) ORDER BY k.name", [coder, *chunk]):
            result.setdefault(rid, []).append(name)
    return result


def answers_with_code(db: Database, user: User, code: str | int | Code, *, limit: int = 500) -> list[tuple[str, str, str]]:
    """Answers coded with `code` by anyone: (answer id, redacted text or WITHHELD_TEXT, coders comma-separated),
    oldest first."""
    require(user, "code")
    try:
        found = get_code(db, code)
    except CodebookError as exc:
        raise CodingError(str(exc)) from None
    return [(rid, _shown(text, bool(held), user), coders_) for rid, text, coders_, held in db.execute(
        f"SELECT r.id, r.redacted_text, group_concat(DISTINCT c.coder), {withheld_sql('r')} FROM codings c "
        "JOIN responses r "
        "ON r.id = c.response_id WHERE c.code_id = ? GROUP BY r.id ORDER BY r.created_at, r.id LIMIT ?",
        [found.id, int(limit)])]


def withheld_version(db: Database, user: User) -> tuple[Any, ...]:
    """Changes whenever an answer becomes withheld or is released (a flag raised or released): what anything
    holding answer texts between reruns (the page's suggestion model) must be rebuilt on."""
    require(user, "code")
    # a release or un-release also stamps updated_at; a status change without one costs a needless rebuild only
    return tuple(db.execute("SELECT count(*), max(created_at), count(released_at), max(released_at), max(updated_at) "
                            "FROM flags").fetchone())


@dataclass(frozen=True)
class DataVersion:
    """O(1) markers that move whenever answers or codings change (every change is audited; deletions leave a
    tombstone): what a page may cache counts and filter choices on between reruns (issue 14: a tap at 550,000)."""

    audit: int
    codings: int
    responses: int
    tombstones: int
    events: int


def data_version(db: Database) -> DataVersion:
    row = db.execute("SELECT (SELECT coalesce(max(id), 0) FROM audit), (SELECT coalesce(max(id), 0) FROM codings), "
                     "(SELECT coalesce(max(rowid), 0) FROM responses), (SELECT coalesce(max(id), 0) FROM tombstones), "
                     "(SELECT count(*) FROM events)").fetchone()
    return DataVersion(*(int(v) for v in row))


def coders(db: Database, user: User) -> list[str]:
    """Everyone who has coded at least one answer, by name."""
    require(user, "code")
    return [row[0] for row in db.execute("SELECT DISTINCT coder FROM codings ORDER BY coder")]


def filter_choices(db: Database, user: User) -> dict[str, list[tuple[str, str]]]:
    """(id, label) choices for the queue's question, group and event filters, from the data present."""
    require(user, "code")
    labels = _Labels(db)
    # Each query reads one small index or table; the labels come from the events' question sets.
    sets = [labels._qs(row[0]) for row in db.execute("SELECT DISTINCT question_set_id FROM events")]
    sets = [qs for qs in sets if qs is not None]

    def label(kind: str, item_id: str) -> str:
        for qs in sets:
            found = qs.question(item_id) if kind == "question" else qs.group(item_id)
            if found is not None:
                return qs.text(found.label, area=labels.area(None)) if kind == "question" else qs.text(found.label)
        return item_id

    questions = {qid: label("question", qid) for (qid,) in db.execute("SELECT DISTINCT question_id FROM responses")}
    groups = {gid: label("group", gid) for (gid,) in db.execute("SELECT DISTINCT group_id FROM respondents")}
    events = [(eid, f"{name} ({date})") for eid, name, date in
              db.execute("SELECT id, name, date FROM events ORDER BY date DESC, name")]
    return {"questions": sorted(questions.items()), "groups": sorted(groups.items(), key=lambda x: x[1]),
            "events": events}


def dismissed(db: Database, user: User, response_id: str) -> set[str]:
    """Names of the codes this coder dismissed as suggestions for this answer."""
    require(user, "code")
    return {row[0] for row in db.execute(
        "SELECT k.name FROM suggestion_dismissals d JOIN codes k ON k.id = d.code_id "
        "WHERE d.response_id = ? AND d.coder = ?", [response_id, user.username])}


# --- writing ------------------------------------------------------------------------------------------------------

def _usable_code(db: Database, code: str | int | Code) -> Code:
    try:
        found = get_code(db, code)
    except CodebookError as exc:
        raise CodingError(str(exc)) from None
    if found.archived:
        raise CodingError(f"The code {found.name!r} is archived; unarchive it in the codebook to use it again.")
    return found


def _require_answer(db: Database, response_id: str) -> None:
    if not db.execute("SELECT 1 FROM responses WHERE id = ?", [response_id]).fetchone():
        raise CodingError("That answer no longer exists.")


def _log(db: Database, user: User, kind: str, changes: list[dict[str, Any]], summary: str) -> int:
    cursor = db.execute("INSERT INTO coding_actions (coder, kind, changes, summary, at) VALUES (?, ?, ?, ?, ?)",
                        [user.username, kind, json.dumps(changes), summary, now_utc()])
    return cursor.lastrowid


def apply_code(db: Database, user: User, response_id: str, code: str | int | Code, *, source: str = "human",
               score: float | None = None) -> bool:
    """This coder applies `code` to the answer. Returns False (and records nothing) if they already had."""
    require(user, "code")
    if source not in ("human", "suggestion"):
        raise CodingError(f"Unknown source {source!r}.")
    with transaction(db):
        _require_answer(db, response_id)
        found = _usable_code(db, code)
        now = now_utc()
        cursor = db.execute("INSERT OR IGNORE INTO codings (response_id, code_id, coder, source, created_at) "
                            "VALUES (?, ?, ?, ?, ?)", [response_id, found.id, user.username, source, now])
        if cursor.rowcount == 0:
            return False
        kind = "suggestion" if source == "suggestion" else "apply"
        verb = "Accepted suggestion" if kind == "suggestion" else "Applied"
        _log(db, user, kind, [{"op": "add", "response_id": response_id, "code_id": found.id, "source": source,
                               "created_at": now}], f"{verb} {found.label}")
        detail: dict[str, Any] = {"code": found.name, "source": source}
        if score is not None:
            detail["score"] = round(float(score), 4)
        audit.record(db, user, "suggestion_accepted" if kind == "suggestion" else "code_applied", "response",
                     response_id, **detail)
    return True


def accept_suggestion(db: Database, user: User, response_id: str, code: str | int | Code,
                      score: float | None = None) -> bool:
    """Apply a suggested code (source 'suggestion', so findings can tell accepted suggestions apart)."""
    return apply_code(db, user, response_id, code, source="suggestion", score=score)


def remove_code(db: Database, user: User, response_id: str, code: str | int | Code) -> bool:
    """This coder removes their `code` from the answer (other coders' codings are untouched)."""
    require(user, "code")
    with transaction(db):
        try:
            found = get_code(db, code)
        except CodebookError as exc:
            raise CodingError(str(exc)) from None
        row = db.execute("SELECT source, created_at FROM codings WHERE response_id = ? AND code_id = ? AND coder = ?",
                         [response_id, found.id, user.username]).fetchone()
        if row is None:
            return False
        db.execute("DELETE FROM codings WHERE response_id = ? AND code_id = ? AND coder = ?",
                   [response_id, found.id, user.username])
        _log(db, user, "remove", [{"op": "del", "response_id": response_id, "code_id": found.id, "source": row[0],
                                   "created_at": row[1]}], f"Removed {found.label}")
        audit.record(db, user, "code_removed", "response", response_id, code=found.name)
    return True


def dismiss_suggestion(db: Database, user: User, response_id: str, code: str | int | Code) -> bool:
    """This coder says a suggested code does not fit this answer: it is not suggested to them again."""
    require(user, "code")
    with transaction(db):
        _require_answer(db, response_id)
        try:
            found = get_code(db, code)
        except CodebookError as exc:
            raise CodingError(str(exc)) from None
        cursor = db.execute("INSERT OR IGNORE INTO suggestion_dismissals (response_id, code_id, coder, at) "
                            "VALUES (?, ?, ?, ?)", [response_id, found.id, user.username, now_utc()])
        if cursor.rowcount == 0:
            return False
        _log(db, user, "dismiss", [{"op": "dismiss", "response_id": response_id, "code_id": found.id}],
             f"Dismissed suggestion {found.label}")
        audit.record(db, user, "suggestion_dismissed", "response", response_id, code=found.name)
    return True


def _bulk_filters(filters: Filters) -> Filters:
    search = (filters.search or "").strip()
    if len(search) < MIN_BULK_SEARCH:
        raise CodingError(f"Type a search of at least {MIN_BULK_SEARCH} characters: bulk coding applies a code to "
                          "every answer matching it.")
    # "every answer matching this search": the queue's coded / uncoded view does not narrow a bulk action
    return Filters(question=filters.question, group=filters.group, event=filters.event, search=search,
                   sample_id=filters.sample_id, state="all")


def bulk_preview(db: Database, user: User, code: str | int | Code, filters: Filters, *, sample: int = 5) -> BulkPreview:
    """What `bulk_apply` would do: how many answers match, how many would gain the code, and a few of them."""
    require(user, "code")
    filters = _bulk_filters(filters)
    found = _usable_code(db, code)
    where, params = _where(filters, user)
    matching = db.execute("SELECT count(*)" + _BARE + where, params).fetchone()[0]
    fresh = " AND NOT EXISTS (SELECT 1 FROM codings c2 WHERE c2.response_id = r.id AND c2.code_id = ? AND c2.coder = ?)"
    to_code = db.execute("SELECT count(*)" + _BARE + where + fresh, params + [found.id, user.username]).fetchone()[0]
    ids = [row[0] for row in db.execute("SELECT r.id" + _BARE + where + fresh + " ORDER BY r.created_at, r.id LIMIT ?",
                                        params + [found.id, user.username, int(sample)])]
    return BulkPreview(found.name, matching, to_code, _answers_by_id(db, ids, user))


def bulk_apply(db: Database, user: User, code: str | int | Code, filters: Filters) -> int:
    """Apply `code` (source 'bulk') to every answer matching the search and filters that this coder has not
    already coded with it; one undoable action. Returns the number of answers coded."""
    require(user, "code")
    filters = _bulk_filters(filters)
    with transaction(db):
        found = _usable_code(db, code)
        where, params = _where(filters, user)
        fresh = (" AND NOT EXISTS (SELECT 1 FROM codings c2 WHERE c2.response_id = r.id AND c2.code_id = ? "
                 "AND c2.coder = ?)")
        ids = [row[0] for row in db.execute("SELECT r.id" + _BARE + where + fresh,
                                            params + [found.id, user.username])]
        if not ids:
            return 0
        now = now_utc()
        db.conn.executemany("INSERT OR IGNORE INTO codings (response_id, code_id, coder, source, created_at) "
                            "VALUES (?, ?, ?, 'bulk', ?)", [(rid, found.id, user.username, now) for rid in ids])
        _log(db, user, "bulk", [{"op": "add", "response_id": rid, "code_id": found.id, "source": "bulk",
                                 "created_at": now} for rid in ids],
             f"Bulk-applied {found.label} to {len(ids)} answer(s)")
        audit.record(db, user, "bulk_coded", "code", found.id, code=found.name, search=filters.search,
                     answers=len(ids), question=filters.question, group=filters.group, event=filters.event)
    return len(ids)


def last_action(db: Database, user: User) -> Action | None:
    """This coder's most recent action that has not been undone (what Undo would reverse)."""
    require(user, "code")
    row = db.execute("SELECT id, kind, summary, at, changes FROM coding_actions WHERE coder = ? AND undone_at IS NULL "
                     "ORDER BY id DESC LIMIT 1", [user.username]).fetchone()
    if row is None:
        return None
    return Action(row[0], row[1], row[2], row[3], len(json.loads(row[4])))


def undo(db: Database, user: User) -> Action | None:
    """Reverse this coder's last action (apply, remove, accepted or dismissed suggestion, bulk). Works across
    reruns and sessions; repeated calls walk further back. Returns the action undone, or None."""
    require(user, "code")
    with transaction(db):
        action = last_action(db, user)
        if action is None:
            return None
        changes = json.loads(db.execute("SELECT changes FROM coding_actions WHERE id = ?", [action.id]).fetchone()[0])
        reversed_count = 0
        for change in reversed(changes):
            key = [change["response_id"], change["code_id"], user.username]
            if change["op"] == "add":
                cursor = db.execute("DELETE FROM codings WHERE response_id = ? AND code_id = ? AND coder = ?", key)
            elif change["op"] == "del":
                if not db.execute("SELECT 1 FROM responses WHERE id = ?", [change["response_id"]]).fetchone():
                    continue  # the answer was erased since; nothing to restore
                cursor = db.execute("INSERT OR IGNORE INTO codings (response_id, code_id, coder, source, created_at) "
                                    "VALUES (?, ?, ?, ?, ?)", key + [change["source"], change["created_at"]])
            else:
                cursor = db.execute("DELETE FROM suggestion_dismissals WHERE response_id = ? AND code_id = ? "
                                    "AND coder = ?", key)
            reversed_count += cursor.rowcount
        db.execute("UPDATE coding_actions SET undone_at = ? WHERE id = ?", [now_utc(), action.id])
        audit.record(db, user, "coding_undone", "coding_action", action.id, kind=action.kind, summary=action.summary,
                     changes_reversed=reversed_count)
    return action


# --- memos --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Memo:
    id: int
    target_type: str
    target_id: str
    author: str
    text: str
    updated_at: str


def memos(db: Database, user: User, target_type: str, target_id: str | int) -> list[Memo]:
    """Every coder's memo on an answer or a code, oldest first."""
    require(user, "code")
    return [Memo(*row) for row in db.execute(
        "SELECT id, target_type, target_id, author, text, updated_at FROM memos WHERE target_type = ? AND target_id = ? "
        "ORDER BY created_at, id", [target_type, str(target_id)])]


def save_memo(db: Database, user: User, target_type: str, target_id: str | int, text: str) -> Memo | None:
    """Set this coder's memo on an answer ('response') or a code ('code'); empty text deletes it."""
    require(user, "code")
    if target_type not in ("response", "code"):
        raise CodingError("A memo belongs to an answer or a code.")
    target_id = str(target_id)
    with transaction(db):
        if target_type == "response":
            _require_answer(db, target_id)
        elif not db.execute("SELECT 1 FROM codes WHERE id = ?", [target_id]).fetchone():
            raise CodingError("That code no longer exists.")
        row = db.execute("SELECT id FROM memos WHERE target_type = ? AND target_id = ? AND author = ?",
                         [target_type, target_id, user.username]).fetchone()
        now = now_utc()
        if not (text or "").strip():
            if row:
                db.execute("DELETE FROM memos WHERE id = ?", [row[0]])
                audit.record(db, user, "memo_deleted", target_type, target_id)
            return None
        if row:
            db.execute("UPDATE memos SET text = ?, updated_at = ? WHERE id = ?", [text, now, row[0]])
            memo_id = row[0]
        else:
            memo_id = db.execute("INSERT INTO memos (target_type, target_id, author, text, created_at, updated_at) "
                                 "VALUES (?, ?, ?, ?, ?, ?)", [target_type, target_id, user.username, text, now, now]
                                 ).lastrowid
        audit.record(db, user, "memo_saved", target_type, target_id)
    return Memo(memo_id, target_type, target_id, user.username, text, now)


# --- import / export ----------------------------------------------------------------------------------------------

def import_codings_csv(db: Database, user: User, source: IO[bytes] | bytes, filename: str = "codings.csv") -> CodingsImported:
    """Import codings from CSV `response_id,code,coder` (optional `source,created_at`), all rows or none.

    `response_id` may be an answer's id or its external id (the id it had in an imported file); an empty coder
    means the importing user. Raises InvalidFile naming each unknown id or code with its row."""
    require(user, "code")
    header, body = read_table(source, filename)
    problems: list[RowProblem] = []
    allowed = EXPORT_COLUMNS
    for column in ("response_id", "code", "coder"):
        if column not in header:
            problems.append(RowProblem(1, column, "required column is missing (need response_id, code, coder)"))
    for column in header:
        if column not in allowed:
            problems.append(RowProblem(1, column or "(blank)", f"unknown column; allowed: {', '.join(allowed)}"))
    if problems:
        raise InvalidFile(problems)
    index = {name: header.index(name) for name in header}

    def cell(row: list[Any], name: str) -> str:
        i = index.get(name)
        return _cell_text(row[i]).strip() if i is not None and i < len(row) else ""

    codes = {c.name.lower(): c for c in list_codes(db, include_archived=True)}
    prepared: list[tuple[str, int, str, str, str]] = []
    now = now_utc()
    for number, row in body:
        ref = cell(row, "response_id")
        response_id = None
        if not ref:
            problems.append(RowProblem(number, "response_id", "is empty"))
        elif db.execute("SELECT 1 FROM responses WHERE id = ?", [ref]).fetchone():
            response_id = ref
        else:
            matches = [r[0] for r in db.execute("SELECT id FROM responses WHERE external_id = ?", [ref])]
            if len(matches) == 1:
                response_id = matches[0]
            elif not matches:
                problems.append(RowProblem(number, "response_id", f"unknown answer {ref!r}: no answer has this id or external id"))
            else:
                problems.append(RowProblem(number, "response_id", f"{ref!r} is the external id of {len(matches)} answers "
                                                                  "(in different events); use the answer's id"))
        name = cell(row, "code")
        code = codes.get(name.lower()) if name else None
        if not name:
            problems.append(RowProblem(number, "code", "is empty"))
        elif code is None:
            problems.append(RowProblem(number, "code", f"unknown code {name!r}; add it to the codebook first"))
        coder = cell(row, "coder") or user.username
        source_value = cell(row, "source") or "import"
        if source_value not in SOURCES:
            problems.append(RowProblem(number, "source", f"{source_value!r} is not one of {', '.join(SOURCES)}"))
        created = cell(row, "created_at")
        if created:
            try:
                created = _timestamp(created)
            except ValueError as exc:
                problems.append(RowProblem(number, "created_at", str(exc)))
        if response_id and code is not None:
            prepared.append((response_id, code.id, coder, source_value, created or now))
    if problems:
        raise InvalidFile(problems)
    result = CodingsImported()
    with transaction(db):
        for values in prepared:
            cursor = db.execute("INSERT OR IGNORE INTO codings (response_id, code_id, coder, source, created_at) "
                                "VALUES (?, ?, ?, ?, ?)", list(values))
            if cursor.rowcount:
                result.added += 1
            else:
                result.already_present += 1
        audit.record(db, user, "codings_imported", "file", filename or None, added=result.added,
                     already_present=result.already_present)
    return result


def export_codings_csv(db: Database, user: User, *, coder: str | None = None,
                       target: IO[bytes] | Path | None = None) -> bytes:
    """Every coding (or one coder's) as CSV response_id,code,coder,source,created_at; importable again."""
    require(user, "code")
    sql = ("SELECT c.response_id, k.name, c.coder, c.source, c.created_at FROM codings c JOIN codes k ON k.id = c.code_id")
    params: list[Any] = []
    if coder:
        sql += " WHERE c.coder = ?"
        params.append(coder)
    sql += " ORDER BY c.created_at, c.id"
    return csv_export(EXPORT_COLUMNS, db.execute(sql, params), target)


def apply_many(db: Database, user: User, pairs: Iterable[tuple[str, str]]) -> int:
    """Apply (answer id, code name) pairs as this coder in one transaction (scripts and tests); not logged
    for undo. Returns the number of new codings."""
    require(user, "code")
    added = 0
    with transaction(db):
        for response_id, code in pairs:
            found = _usable_code(db, code)
            cursor = db.execute("INSERT OR IGNORE INTO codings (response_id, code_id, coder, source, created_at) "
                                "VALUES (?, ?, ?, 'human', ?)", [response_id, found.id, user.username, now_utc()])
            added += cursor.rowcount
        audit.record(db, user, "codes_applied", "coding", None, added=added)
    return added
