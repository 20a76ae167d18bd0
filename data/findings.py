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
from dataclasses import dataclass, field
from typing import Any

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
    text_cols = ", COALESCE(r.redacted_text, '')" if with_text else ""
    text_cols += ", r.text" if originals else ""
    columns = list(ANSWER_COLUMNS) + (["text"] if with_text else []) + (["original_text"] if originals else [])
    answers = _frame(
        db,
        "SELECT r.id, r.respondent_id, r.event_id, r.question_id, r.position, p.group_id, r.created_at, "
        "substr(r.created_at, 1, 10), e.name, e.date" + text_cols + " "
        "FROM responses r JOIN respondents p ON p.id = r.respondent_id JOIN events e ON e.id = r.event_id "
        "ORDER BY r.rowid",
        columns,
    )
    # a stable sort on one column is much cheaper than ORDER BY over the join
    answers = answers.sort_values("event_date", kind="stable", ignore_index=True)
    details = "coder, source, created_at" if coding_details else "'', '', ''"
    codings = _frame(db, f"SELECT id, response_id, code_id, {details} FROM codings ORDER BY id",  # noqa: S608
                     CODING_COLUMNS)
    codes = _frame(db, "SELECT id, name, label, definition, parent_id, colour, keywords, archived, merged_into, guid FROM codes "
                       "ORDER BY COALESCE(parent_id, id), parent_id IS NOT NULL, id", CODE_COLUMNS)
    pins = _frame(db, "SELECT code_id, response_id, pinned_by, at FROM pinned_quotes ORDER BY at",
                  ["code_id", "response_id", "pinned_by", "at"])
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
    codings["code_id"] = codings["code_id"].astype("int64")
    pins["code_id"] = pins["code_id"].astype("int64")
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
    for col in ("parent_id", "merged_into"):
        codes[col] = codes[col].astype("Int64")
    return Frames(answers, codings, codes, pins, questions, groups, events)


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
