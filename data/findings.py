"""Queries behind Findings and the exports: answers, codings, codebook and pinned quotes as plain frames.

Every reader needs "findings" (or "export"); texts are the redacted ones unless an admin asks for originals.
An answer under an unreleased safeguarding flag is loaded with `withheld` set and its text (original too) replaced
by data.flags.WITHHELD_TEXT, for every user: findings and exports are for publishing, and the flagged words are
read only in the safeguarding queue. Counts still include it.
With `approved_only`, only the answers whose review state is "approved" are loaded (data/review.py: the answer or
its respondent approved, and neither marked "has issues"), with their codings and pins; counts are then of those.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlite_utils import Database

import config
from data import audit
from data.db import now_utc, transaction
from data.flags import WITHHELD_TEXT, withheld_sql
from data.users import User, require

#: The question order of the bundled set; other question ids follow alphabetically.
QUESTION_ORDER = ("thrive_helps", "thrive_stops", "neglect_is", "thrive_local")

ANSWER_COLUMNS = ["response_id", "respondent_id", "event_id", "question_id", "position", "group_id", "created_at",
                  "day", "event_name", "event_date"]
CODING_COLUMNS = ["coding_id", "response_id", "code_id", "coder", "source", "created_at"]
CODE_COLUMNS = ["code_id", "name", "label", "definition", "parent_id", "colour", "keywords", "archived", "merged_into",
                "guid"]


class FindingsError(ValueError):
    """A findings action that cannot be done, with a message for the person."""


@dataclass(frozen=True)
class Frames:
    """Everything the findings computations read, as pandas frames (no SQL beyond this module).

    `answers` has one row per answer (with `text` = redacted text when `with_text`, WITHHELD_TEXT where
    `withheld`: the answer is under an unreleased safeguarding flag), `codings` one row per coding, `codes` the
    codebook, `pins` the pinned quotes, `questions`/`groups` id -> label.
    """

    answers: pd.DataFrame
    codings: pd.DataFrame
    codes: pd.DataFrame
    pins: pd.DataFrame
    questions: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    events: pd.DataFrame | None = None


def data_version(db: Database) -> tuple[Any, ...]:
    """A cheap fingerprint of everything findings read: changes whenever answers, respondents, codings, codes, pins,
    events or safeguarding flags do (a flag raised or released withholds or releases an answer's text).

    Used as the st.cache_data key so a filter change reuses loaded frames and an edit invalidates them. Inserts
    move a table's largest rowid; in-place edits of the columns findings read and deletions move the counter kept
    by the 0021_findings_speed triggers (a re-redaction, a merge moving codings to another code, a group changed,
    an erasure), so the key is a few index look-ups whatever the size of the data.
    """
    try:
        edits = db.execute("SELECT n FROM findings_edits WHERE id = 1").fetchone()
    except sqlite3.OperationalError:  # a database opened without the migration (never through data.open_db)
        edits = None
    if edits is None:
        return _data_version_by_scan(db)
    row = db.execute(
        "SELECT (SELECT MAX(rowid) FROM responses), (SELECT MAX(rowid) FROM respondents), "
        "(SELECT MAX(id) FROM codings), "
        "(SELECT COUNT(*) FROM codes), (SELECT MAX(updated_at) FROM codes), "
        "(SELECT COUNT(*) FROM pinned_quotes), (SELECT MAX(at) FROM pinned_quotes), "
        "(SELECT COUNT(*) FROM events), (SELECT MAX(created_at) FROM events), "
        # flags: raised (count), released or unreleased (updated_at moves with both; the released set itself)
        "(SELECT COUNT(*) FROM flags), (SELECT MAX(updated_at) FROM flags), "
        "(SELECT COUNT(released_at) FROM flags), (SELECT TOTAL(rowid) FROM flags WHERE released_at IS NOT NULL)"
    ).fetchone()
    from data.review import version as review_version  # a review changes what "approved only" shows

    return ("edits", edits[0], *row, *review_version(db))


def _data_version_by_scan(db: Database) -> tuple[Any, ...]:
    """data_version without the edit counter: counts, largest ids and sums over every answer and coding."""
    row = db.execute(
        "SELECT (SELECT COUNT(*) FROM responses), (SELECT MAX(rowid) FROM responses), "
        "(SELECT COUNT(*) FROM codings), (SELECT MAX(id) FROM codings), "
        "(SELECT COUNT(*) FROM codes), (SELECT MAX(updated_at) FROM codes), "
        "(SELECT COUNT(*) FROM pinned_quotes), (SELECT MAX(at) FROM pinned_quotes), "
        "(SELECT COUNT(*) FROM events), (SELECT MAX(created_at) FROM events), (SELECT COUNT(*) FROM respondents), "
        "(SELECT TOTAL(length(redacted_text)) FROM responses), (SELECT TOTAL(code_id) FROM codings), "
        "(SELECT COUNT(*) FROM flags), (SELECT MAX(updated_at) FROM flags), "
        "(SELECT COUNT(released_at) FROM flags), (SELECT TOTAL(rowid) FROM flags WHERE released_at IS NOT NULL)"
    ).fetchone()
    from data.review import version as review_version

    return tuple(row) + review_version(db)


def withheld_ids(db: Database) -> set[str]:
    """Ids of the answers withheld for safeguarding (data.flags.withheld_sql), read through the flags' indexes."""
    return {rid for (rid,) in db.execute(
        "SELECT r.id FROM responses r WHERE (r.id IN (SELECT response_id FROM flags) "  # noqa: S608 - fixed SQL
        "OR r.respondent_id IN (SELECT respondent_id FROM flags WHERE response_id IS NULL)) AND "
        + withheld_sql("r")).fetchall()}


#: Rows fetched at a time: only one chunk's Python tuples are alive at once (each frame holds compact columns).
FETCH_ROWS = 100_000


def _frame(db: Database, sql: str, columns: list[str], params: list[Any] | None = None) -> pd.DataFrame:
    cursor = db.execute(sql, params or [])
    parts = []
    while rows := cursor.fetchmany(FETCH_ROWS):
        parts.append(pd.DataFrame.from_records(rows, columns=columns))
        del rows
    if len(parts) <= 1:
        return parts[0] if parts else pd.DataFrame.from_records([], columns=columns)
    return pd.concat(parts, ignore_index=True)


#: Separators of the one-string-per-column fetch (_columns): unit separator between values, record separator
#: standing for NULL in a nullable column. A value holding either is detected (a count differs) and the rows are
#: then fetched one by one.
_SEP, _NULL = "\x1f", "\x1e"


def _columns(db: Database, table: str, key: str, exprs: list[str], names: list[str], ints: tuple[str, ...] = (),
             nullable: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """`SELECT <exprs> FROM <table> ORDER BY <key>` as columns (name -> pyarrow large_string array, or an int64
    numpy array for `ints`), each fetched as ONE group_concat BLOB split by pyarrow: no Python object per value
    (at 550,000 answers the row-by-row fetch and the frames built from it cost seconds).

    Every column is aggregated in the same pass over the table, so the values stay aligned; they are then put in
    `key` order (an integer), whatever order SQLite scanned in. Only `nullable` expressions may be NULL (written as
    _NULL and counted, so a real value equal to _NULL is told apart); a NULL elsewhere, or a value holding a
    separator, changes a column's count. Returns None (the caller fetches the rows one by one) then, and when the
    table is empty, an int column holds something else, or SQLite cannot build the string (too big)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    aggregates = ["COUNT(*)", f"CAST(group_concat({key}, ',') AS BLOB)"]  # as BLOBs: bytes, not decoded to str
    for expr, name in zip(exprs, names, strict=True):
        value = f"COALESCE({expr}, char(30))" if name in nullable else expr
        aggregates.append(f"CAST(group_concat({value}, char(31)) AS BLOB)")
    aggregates += [f"TOTAL(({expr}) IS NULL)" for expr, name in zip(exprs, names, strict=True) if name in nullable]
    try:
        row = db.execute(f"SELECT {', '.join(aggregates)} FROM {table}").fetchone()  # noqa: S608 - fixed SQL
    except (sqlite3.OperationalError, sqlite3.DataError, MemoryError, OverflowError):
        return None
    count = int(row[0])
    if not count:
        return None
    try:
        keys = pc.cast(pc.cast(_split(row[1] or b"", b","), pa.large_string()), pa.int64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if keys.size != count:
        return None
    order = None if count < 2 or bool(np.all(keys[1:] > keys[:-1])) else pa.array(np.argsort(keys, kind="stable"))
    nulls = iter(row[2 + len(names):])
    out: dict[str, Any] = {}
    for i, name in enumerate(names):
        try:
            parts = pc.cast(_split(row[2 + i] or b"", _SEP.encode()), pa.large_string())  # checks the UTF-8
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        if len(parts) != count:
            return None
        if name in nullable:
            is_null = pc.equal(parts, _NULL)
            if int(pc.sum(is_null).as_py() or 0) != int(next(nulls)):
                return None
            if is_null.true_count:
                parts = pc.if_else(is_null, pa.scalar(None, pa.large_string()), parts)
        if order is not None:
            parts = parts.take(order)
        if name in ints:
            try:
                out[name] = pc.cast(parts, pa.int64()).to_numpy()
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return None
        else:
            out[name] = parts
    return out


def _as_frame(columns: dict[str, Any], names: list[str]) -> pd.DataFrame:
    """Columns from _columns as a frame: text as pandas' str dtype (zero-copy over the Arrow arrays)."""
    return pd.DataFrame({name: columns[name] if isinstance(columns[name], np.ndarray)
                         else pd.array(columns[name], dtype="str") for name in names}, columns=names)


def _split(blob: bytes, sep: bytes) -> Any:
    """One BLOB split at every `sep`, as a pyarrow binary array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.split_pattern(pa.array([blob], type=pa.large_binary()), sep).flatten()


def _answers(db: Database, with_text: bool, originals: bool) -> pd.DataFrame:
    """Every answer with its respondent's group and its event's name and date, in the order stored (ANSWER_COLUMNS,
    then `text` and `original_text` when asked). The answers table is read alone (_columns) and the group, event
    name and date are looked up from the respondents and events (an answer without either is left out, as the
    join does); row by row through the join when that fast path cannot be used."""
    import pyarrow.compute as pc

    columns = list(ANSWER_COLUMNS) + (["text"] if with_text else []) + (["original_text"] if originals else [])
    own = ["response_id", "respondent_id", "event_id", "question_id", "position", "created_at"]
    exprs = ["id", "respondent_id", "event_id", "question_id", "position", "created_at"]
    if with_text:
        own.append("text")
        exprs.append("COALESCE(redacted_text, '')")
    if originals:
        own.append("original_text")
        exprs.append("text")
    got = _columns(db, "responses", "rowid", exprs, own, ints=("position",), nullable=("original_text",))
    people = _columns(db, "respondents", "rowid", ["id", "group_id"], ["id", "group_id"]) if got else None
    events = _columns(db, "events", "rowid", ["id", "name", "date"], ["id", "name", "date"],
                      nullable=("name", "date")) if people else None
    if got is None or people is None or events is None:
        return _frame(
            db,
            "SELECT r.id, r.respondent_id, r.event_id, r.question_id, r.position, p.group_id, r.created_at, "
            "substr(r.created_at, 1, 10), e.name, e.date" + (", COALESCE(r.redacted_text, '')" if with_text else "")
            + (", r.text" if originals else "") + " FROM responses r JOIN respondents p ON p.id = r.respondent_id "
            "JOIN events e ON e.id = r.event_id ORDER BY r.rowid",
            columns,
        )
    person = pc.index_in(got["respondent_id"], value_set=people["id"])
    event = pc.index_in(got["event_id"], value_set=events["id"])
    joined = pc.and_(pc.is_valid(person), pc.is_valid(event))
    if joined.false_count:  # as the inner join: an answer whose respondent or event is missing is not loaded
        got = {k: (v[joined.to_numpy(zero_copy_only=False)] if isinstance(v, np.ndarray) else v.filter(joined))
               for k, v in got.items()}
        person, event = person.filter(joined), event.filter(joined)
    got["group_id"] = people["group_id"].take(person)
    got["event_name"], got["event_date"] = events["name"].take(event), events["date"].take(event)
    got["day"] = pc.utf8_slice_codeunits(got["created_at"], 0, 10)  # as substr(created_at, 1, 10)
    return _as_frame(got, columns)


def _codings(db: Database, details: bool) -> pd.DataFrame:
    """Every coding in id order (CODING_COLUMNS); without `details` the coder, source and time are ''."""
    names = ["coding_id", "response_id", "code_id"] + (["coder", "source", "created_at"] if details else [])
    got = _columns(db, "codings", "id", ["id", "response_id", "code_id", "coder", "source", "created_at"][:len(names)],
                   names, ints=("coding_id", "code_id"))
    if got is None:
        cols = "coder, source, created_at" if details else "'', '', ''"
        return _frame(db, f"SELECT id, response_id, code_id, {cols} FROM codings ORDER BY id",  # noqa: S608
                      CODING_COLUMNS)
    import pyarrow as pa

    for name in CODING_COLUMNS[len(names):]:
        got[name] = pa.repeat(pa.scalar("", pa.large_string()), len(got["coding_id"]))
    return _as_frame(got, CODING_COLUMNS)


def _labels(db: Database) -> tuple[dict[str, str], dict[str, str]]:
    """Question and group labels from every question set version used by an event (newest wins), with {area}
    filled in from the partnership's area setting (an event's own area may differ; findings span events)."""
    from data import settings
    from data.events import _parse_frozen

    try:
        area = settings.get(db, "area_name")
    except KeyError:
        area = config.AREA_NAME
    questions: dict[str, str] = {}
    groups: dict[str, str] = {}
    for (definition,) in db.execute(
        "SELECT definition FROM question_sets WHERE id IN (SELECT DISTINCT question_set_id FROM events) "
        "ORDER BY created_at"
    ).fetchall():
        try:
            qs = _parse_frozen(definition)
        except Exception:  # noqa: BLE001 - an unreadable old set only costs its labels
            continue
        for q in qs.questions:
            questions[q.id] = qs.text(q.label, area=area)
        for g in qs.groups:
            groups[g.id] = qs.text(g.label)
    return questions, groups


def load_frames(db: Database, user: User, *, with_text: bool = False, originals: bool = False,
                coding_details: bool = True, approved_only: bool = False, round_id: int | None = None) -> Frames:
    """Load answers, codings, codebook and pins for the findings computations.

    `with_text` adds the answer text (always the redacted text); `originals` (admins only, audited by the
    caller's export) adds the text exactly as entered in `original_text`. A withheld answer (`withheld` True) has
    both texts replaced by WITHHELD_TEXT, originals included: only the safeguarding lead reads flagged words, in
    the queue. Without `coding_details` the codings' coder, source and time are left empty (the Findings page
    does not need them; loading is faster). With `approved_only`, only approved answers (data.review) are loaded,
    with only their codings and pins. With `round_id`, only the answers of that engagement round's events
    (data/rounds.py), with their codings and pins, and only those events.
    Answers come in event-date order, then in the order they were stored.
    """
    require(user, "findings")
    if originals:
        require(user, "export_original")
    answers = _answers(db, with_text, originals)
    # a stable sort on one column is much cheaper than ORDER BY over the join
    answers = answers.sort_values("event_date", kind="stable", ignore_index=True)
    codings, codes, pins = _coding_side(db, coding_details)
    events = _frame(db, "SELECT id, name, venue, date, area, status FROM events ORDER BY date, name",
                    ["event_id", "name", "venue", "date", "area", "status"])
    questions, groups = _labels(db)
    if approved_only:
        from data.review import approved_answer_ids

        approved = approved_answer_ids(db)
        answers = answers[answers["response_id"].isin(approved)].reset_index(drop=True)
        codings = codings[codings["response_id"].isin(approved)].reset_index(drop=True)
        pins = pins[pins["response_id"].isin(approved)].reset_index(drop=True)
    if round_id is not None:
        from data.rounds import event_ids as round_event_ids

        in_round = set(round_event_ids(db, round_id))
        answers = answers[answers["event_id"].isin(in_round)].reset_index(drop=True)
        kept = set(answers["response_id"])
        codings = codings[codings["response_id"].isin(kept)].reset_index(drop=True)
        pins = pins[pins["response_id"].isin(kept)].reset_index(drop=True)
        events = events[events["event_id"].isin(in_round)].reset_index(drop=True)
    answers["position"] = answers["position"].astype("int64")
    withheld = withheld_ids(db)
    answers["withheld"] = answers["response_id"].isin(withheld) if withheld else False
    answers["withheld"] = answers["withheld"].astype(bool)
    if withheld:
        for col in ("text", "original_text"):
            if col in answers:
                answers[col] = answers[col].where(~answers["withheld"], WITHHELD_TEXT)
    # a transcribed flipchart post-it is stored as its own respondent row, but it is an anonymous answer, not a person
    postits = {rid for (rid,) in db.execute("SELECT id FROM respondents WHERE source = 'transcribed'").fetchall()}
    answers["flipchart"] = (answers["respondent_id"].isin(postits) if postits else False)
    answers["flipchart"] = answers["flipchart"].astype(bool)
    return Frames(answers, codings, codes, pins, questions, groups, events)


def _coding_side(db: Database, coding_details: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(codings, codes, pins) as load_frames gives them, before any approved-only or round filter."""
    codings = _codings(db, coding_details)
    codes = _frame(db, "SELECT id, name, label, definition, parent_id, colour, keywords, archived, merged_into, guid FROM codes "
                       "ORDER BY COALESCE(parent_id, id), parent_id IS NOT NULL, id", CODE_COLUMNS)
    pins = _frame(db, "SELECT code_id, response_id, pinned_by, at, COALESCE(translation, '') FROM pinned_quotes "
                      "ORDER BY at", ["code_id", "response_id", "pinned_by", "at", "translation"])
    codings["code_id"] = codings["code_id"].astype("int64")
    pins["code_id"] = pins["code_id"].astype("int64")
    if len(pins) and (pins["translation"] != "").any():
        # a translation is published beside its quote: personal details typed into it (an officer translating the
        # original words, not the redacted ones) are taken out as they are from every answer; stored as typed
        from analysis.privacy import redact

        pins["translation"] = [redact(t) if t else "" for t in pins["translation"]]
    for col in ("parent_id", "merged_into"):
        codes[col] = codes[col].astype("Int64")
    return codings, codes, pins


# --- the Findings page's prepared data: answers and codings each reloaded only when they change ---------------

def answers_version(db: Database) -> tuple[Any, ...]:
    """The part of data_version that the answers side of the findings reads (answers, respondents, events, flags,
    reviews) and the edit counter (shared by every table: an in-place edit or a deletion anywhere moves it)."""
    try:
        edits = db.execute("SELECT n FROM findings_edits WHERE id = 1").fetchone()
    except sqlite3.OperationalError:  # without the 0021 counter: every change reloads both halves
        return data_version(db)
    row = db.execute(
        "SELECT (SELECT MAX(rowid) FROM responses), (SELECT MAX(rowid) FROM respondents), "
        "(SELECT COUNT(*) FROM events), (SELECT MAX(created_at) FROM events), "
        "(SELECT COUNT(*) FROM flags), (SELECT MAX(updated_at) FROM flags), "
        "(SELECT COUNT(released_at) FROM flags), (SELECT TOTAL(rowid) FROM flags WHERE released_at IS NOT NULL)"
    ).fetchone()
    from data.review import version as review_version

    return ("edits", None if edits is None else edits[0], *row, *review_version(db))


def codings_version(db: Database) -> tuple[Any, ...]:
    """What the codings side reads: codings (largest id; the edit counter of answers_version covers deletions
    and in-place edits), the codebook and the pins."""
    return tuple(db.execute(
        "SELECT (SELECT MAX(id) FROM codings), (SELECT COUNT(*) FROM codes), (SELECT MAX(updated_at) FROM codes), "
        "(SELECT COUNT(*) FROM pinned_quotes), (SELECT MAX(at) FROM pinned_quotes)").fetchone())


@dataclass
class _Loaded:
    answers_key: tuple[Any, ...]
    codings_key: tuple[Any, ...]
    prep: Any


_PREPARED: dict[tuple[str, bool], _Loaded] = {}
_PREPARED_LOCK = threading.Lock()


def load_prepared(db: Database, user: User, *, approved_only: bool = False) -> Any:
    """The Findings page's analysis.findings.Prepared (texts, no coding details), loaded in two halves: the answers
    (with respondents, events, their tokens and word indexes) are kept while answers_version stays the same, and a
    change of codings, codebook or pins (codings_version) reloads only those (analysis.findings.recode); the result
    equals a full load. One entry per database file and "approved only" toggle, shared by every session."""
    require(user, "findings")
    from analysis import findings as af

    answers_key = answers_version(db)
    codings_key = codings_version(db)  # both read before loading: a write meanwhile only costs another load
    slot = (str(db.conn.execute("PRAGMA database_list").fetchone()[2]), bool(approved_only))
    with _PREPARED_LOCK:
        cached = _PREPARED.get(slot)
    if cached is not None and cached.answers_key == answers_key:
        if cached.codings_key == codings_key:
            return cached.prep
        codings, codes, pins = _coding_side(db, coding_details=False)
        if approved_only:  # as load_frames: only the codings and pins of the (approved) answers loaded
            kept = pd.Index(cached.prep.answers["response_id"])
            codings = codings[kept.get_indexer(codings["response_id"]) >= 0].reset_index(drop=True)
            pins = pins[kept.get_indexer(pins["response_id"]) >= 0].reset_index(drop=True)
        prep = af.recode(cached.prep, codings, codes, pins)
    else:
        frames = load_frames(db, user, with_text=True, coding_details=False, approved_only=approved_only)
        prep = af.prepare(frames.answers, frames.codings, frames.codes, frames.pins, frames.questions, frames.groups)
        prep.events = frames.events
    with _PREPARED_LOCK:
        _PREPARED[slot] = _Loaded(answers_key, codings_key, prep)
    return prep


def ordered_questions(question_ids: Any) -> list[str]:
    """Question ids in the questionnaire's order, unknown ones after it, alphabetically."""
    present = set(question_ids)
    return [q for q in QUESTION_ORDER if q in present] + sorted(present - set(QUESTION_ORDER))


# --- pinned quotes ----------------------------------------------------------------------------------------------

def pin_quote(db: Database, user: User, code_id: int, response_id: str) -> None:
    """Pin an answer as a representative quote for a code (officers choose the quotes leads see)."""
    require(user, "code")
    coded = db.execute("SELECT 1 FROM codings WHERE response_id = ? AND code_id IN "
                       "(SELECT id FROM codes WHERE id = ? OR parent_id = ?) LIMIT 1",
                       [response_id, code_id, code_id]).fetchone()
    if coded is None:
        raise FindingsError("Only an answer coded with this theme (or one of its sub-codes) can be pinned to it.")
    if db.execute(f"SELECT 1 FROM responses r WHERE r.id = ? AND {withheld_sql('r')}",  # noqa: S608 - fixed SQL
                  [response_id]).fetchone():
        raise FindingsError("This answer is withheld for safeguarding: it cannot be quoted unless the safeguarding "
                            "lead releases it.")
    with transaction(db):
        db.execute("INSERT OR IGNORE INTO pinned_quotes (code_id, response_id, pinned_by, at) VALUES (?, ?, ?, ?)",
                   [int(code_id), response_id, user.username, now_utc()])
        audit.record(db, user, "pin_quote", "response", response_id, code_id=int(code_id))


def unpin_quote(db: Database, user: User, code_id: int, response_id: str) -> None:
    """Remove a pinned quote (the default choice of quotes takes its place)."""
    require(user, "code")
    with transaction(db):
        db.execute("DELETE FROM pinned_quotes WHERE code_id = ? AND response_id = ?", [int(code_id), response_id])
        audit.record(db, user, "unpin_quote", "response", response_id, code_id=int(code_id))


#: Longest translation of a quote, in characters (a translation may run longer than the answer it renders).
MAX_TRANSLATION_CHARS = 2 * config.MAX_ANSWER_CHARS


def set_quote_translation(db: Database, user: User, code_id: int, response_id: str, text: str) -> None:
    """Give a pinned quote its translation (shown under it in the report and the quotes table), stored exactly as
    typed; an empty (or blank) text clears it. Who may pin may translate; the audit row names the quote, never
    the text. A quote that is not pinned, or whose answer is withheld for safeguarding, is refused."""
    require(user, "code")
    if not isinstance(text, str):
        raise FindingsError("A translation must be text.")
    if len(text) > MAX_TRANSLATION_CHARS:
        raise FindingsError(f"This translation is {len(text):,} characters; the limit is {MAX_TRANSLATION_CHARS:,}. "
                            "Shorten it.")
    value = text if text.strip() else None
    with transaction(db):
        if db.execute("SELECT 1 FROM pinned_quotes WHERE code_id = ? AND response_id = ?",
                      [int(code_id), response_id]).fetchone() is None:
            raise FindingsError("Only a pinned quote can carry a translation: pin the answer first.")
        if value is not None and db.execute(
                f"SELECT 1 FROM responses r WHERE r.id = ? AND {withheld_sql('r')}",  # noqa: S608 - fixed SQL
                [response_id]).fetchone():
            raise FindingsError("This answer is withheld for safeguarding: it cannot be quoted or translated unless "
                                "the safeguarding lead releases it.")
        db.execute("UPDATE pinned_quotes SET translation = ? WHERE code_id = ? AND response_id = ? "
                   "AND translation IS NOT ?", [value, int(code_id), response_id, value])
        audit.record(db, user, "translate_quote", "response", response_id, code_id=int(code_id),
                     cleared=value is None)


def record_export(db: Database, user: User, kind: str, *, originals: bool = False, rows: int = 0,
                  filters: dict[str, Any] | None = None, filename: str | None = None) -> None:
    """Audit an export (who took what out of the system, and whether it held original texts) through the
    audit module's one export record, which also checks the permissions."""
    audit.record_export(db, user, kind, with_originals=originals, filename=filename, rows=rows, filters=filters or {})


# --- codebook import from REFI-QDA .qdc ------------------------------------------------------------------------

def code_names(db: Database) -> list[str]:
    """Every code name in the codebook (for recognising our own GUIDs in a re-imported .qdc)."""
    return [row[0] for row in db.execute("SELECT name FROM codes").fetchall()]


def import_qdc(db: Database, user: User, fileobj: Any) -> Any:
    """Import a REFI-QDA codebook (.qdc) through the codebook's own import (data.codebook.import_codes)."""
    require(user, "codebook")
    from data.codebook import import_codes
    from exports.refi import parse_qdc

    specs = parse_qdc(fileobj, known_names=code_names(db))
    return import_codes(db, user, specs)
