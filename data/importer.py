"""Importing answers from CSV or XLSX files: parse, check every row, then write all rows or none.

Columns: id, question, group, text (required); respondent, event, created_at (optional). Row 1 is the header.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from sqlite_utils import Database

import config
from analysis.screening import BackgroundScreening, screen
from data import audit, flags
from data.db import new_ids, now_utc, transaction
from data.events import Event, create_event, events_named, question_set
from data.users import User, require
from surveys import QuestionSet

REQUIRED_COLUMNS = ("id", "question", "group", "text")
OPTIONAL_COLUMNS = ("respondent", "event", "created_at")
DEFAULT_EVENT_NAME = "Imported responses"
MAX_PROBLEMS_IN_MESSAGE = 50


@dataclass(frozen=True)
class RowProblem:
    """One fault in an import file: the spreadsheet row (header = 1), the column, and the rule broken."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return f"{where}, column '{self.column}': {self.message}" if self.column else f"{where}: {self.message}"


class InvalidFile(ValueError):
    """The file was rejected and nothing was written; `problems` holds every fault found."""

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:MAX_PROBLEMS_IN_MESSAGE])
        more = len(problems) - MAX_PROBLEMS_IN_MESSAGE
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"The file was not imported ({len(problems)} problem(s)); nothing was written:\n{shown}{tail}")


@dataclass
class ImportResult:
    rows: int
    added: int
    already_present: int
    respondents_added: int
    events_created: list[str] = field(default_factory=list)
    flags_raised: int = 0
    #: rows whose id was already stored with a different text: left as stored, listed so nobody is surprised
    changed_rows_not_updated: list[int] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.added:,} answers added from {self.rows:,} rows"]
        if self.already_present:
            parts.append(f"{self.already_present:,} already imported (skipped)")
        if self.respondents_added:
            parts.append(f"{self.respondents_added:,} new respondents")
        if self.events_created:
            parts.append("created event(s): " + ", ".join(self.events_created))
        if self.flags_raised:
            parts.append(f"{self.flags_raised} possible safeguarding disclosure(s) flagged")
        if self.changed_rows_not_updated:
            rows = ", ".join(str(r) for r in self.changed_rows_not_updated[:20])
            parts.append(f"rows stored earlier with a different text were left unchanged: {rows}")
        return "; ".join(parts) + "."


def read_table(source: IO[bytes] | bytes, filename: str = "") -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """The header (lower-cased, trimmed) and the non-blank data rows with their spreadsheet row numbers."""
    data = source if isinstance(source, bytes) else source.read()
    is_xlsx = filename.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK"
    rows = _read_xlsx(data) if is_xlsx else _read_csv(data)
    if not rows:
        raise InvalidFile([RowProblem(0, "", "the file is empty: expected a header row id,question,group,text")])
    header = ["" if h is None else str(h).strip().lower() for h in rows[0]]
    while header and header[-1] == "":
        header.pop()
    body = []
    for number, row in enumerate(rows[1:], start=2):
        # any(row) is the fast path; the slow test only runs for rows whose every cell is falsy (0, False)
        if any(row) or any(cell is not None and cell != "" for cell in row):
            body.append((number, list(row)))
    return header, body


def _read_csv(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidFile([RowProblem(line, "", "the file is not UTF-8 text; in Excel use “Save as: CSV UTF-8”")]) from exc
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InvalidFile([RowProblem(0, "", f"not a readable CSV file: {exc}")]) from exc


def _read_xlsx(data: bytes) -> list[list[Any]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidFile([RowProblem(0, "", f"not a readable .xlsx workbook ({exc.__class__.__name__})")]) from exc
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value.__class__ is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def _timestamp(value: Any) -> str:
    """A UTC ISO-8601 timestamp from an ISO string, a UK dd/mm/yyyy date or a spreadsheet date."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        moment = None
        for parse in (dt.datetime.fromisoformat,
                      lambda t: dt.datetime.strptime(t, "%d/%m/%Y %H:%M"),
                      lambda t: dt.datetime.strptime(t, "%d/%m/%Y")):
            try:
                moment = parse(text.replace("Z", "+00:00") if parse is dt.datetime.fromisoformat else text)
                break
            except ValueError:
                continue
        if moment is None:
            raise ValueError(f"{text!r} is not a date and time like 2026-11-23T14:05:00Z or 23/11/2026 14:05")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # a file's naive times are taken as UTC (README)
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


class _Lookup:
    """Maps the question and group cells of one question set to ids (ids or English labels, any case)."""

    def __init__(self, qs: QuestionSet):
        self.qs = qs
        self.questions = {}
        for q in qs.questions:
            self.questions[q.id.lower()] = q
            for text in q.label.values():
                self.questions[text.strip().lower()] = q
        self.groups = {}
        for g in qs.groups:
            self.groups[g.id.lower()] = g.id
            for text in g.label.values():
                self.groups[text.strip().lower()] = g.id


def import_responses(db: Database, user: User, source: IO[bytes] | bytes, filename: str = "",
                     *, event: str | None = None) -> ImportResult:
    """Import a CSV/XLSX file of answers, all rows or none; re-importing the same file adds nothing.

    `event` names (or ids) the event for rows whose own `event` cell is empty; an event named but not yet
    in the database is created with the bundled 'thrive' question set. Raises InvalidFile naming every
    offending row and column.
    """
    require(user, "import")
    header, body = read_table(source, filename)
    problems: list[RowProblem] = []
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    for column in REQUIRED_COLUMNS:
        if column not in header:
            problems.append(RowProblem(1, column, "required column is missing (need id, question, group, text)"))
    seen_columns: set[str] = set()
    for column in header:
        if column in seen_columns:
            problems.append(RowProblem(1, column, "column appears twice"))
        seen_columns.add(column)
        if column not in known:
            problems.append(RowProblem(1, column or "(blank)", f"unknown column; allowed: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}"))
    if problems:
        raise InvalidFile(problems)
    index = {name: header.index(name) for name in header}
    width = len(header)
    # a missing optional column reads as a blank cell: point it at a padding cell past the header's end
    blank = width
    i_id, i_question, i_group, i_text, i_respondent, i_event, i_created = (
        index.get(name, blank) for name in ("id", "question", "group", "text", "respondent", "event", "created_at"))

    def pick(row: list[Any]) -> list[Any]:
        if len(row) == width:  # the common case
            row = row + [None]
        elif len(row) < width:
            row = row + [None] * (width + 1 - len(row))
        else:
            row = row[:width] + [None]
        return [row[i_id], row[i_question], row[i_group], row[i_text], row[i_respondent], row[i_event], row[i_created]]

    # Screening (redaction, disclosure check) starts first, on a helper process, and runs while rows are checked
    # and written; it sees the text cells exactly as they will be stored.
    text_column = index["text"]
    screening = BackgroundScreening([_cell_text(row[text_column]) if text_column < len(row) else "" for _, row in body])
    try:
        # rows as [id, question, group, text, respondent, event, created_at] cells, the text ones as str
        rows = []
        stray: list[int] = []  # rows with values under no header: refused rather than silently dropped
        for number, row in body:
            if len(row) > width and any(cell not in (None, "") for cell in row[width:]):
                stray.append(number)
            values = pick(row)
            for i in range(6):
                value = values[i]
                if value.__class__ is not str:
                    values[i] = _cell_text(value)
            rows.append((number, values))
        return _check_and_write(db, user, filename, event, rows, screening, stray)
    finally:
        screening.close()


def _check_and_write(db: Database, user: User, filename: str, event: str | None,
                     rows: list[tuple[int, list[Any]]], screening: BackgroundScreening,
                     stray: list[int]) -> ImportResult:
    problems = [RowProblem(number, "", "has a value to the right of the last column, under no header; "
                                       "add a header or remove the value") for number in stray]
    # Resolve events by name: existing ones are used, new names are created inside the transaction.
    default_event = (event or "").strip() or DEFAULT_EVENT_NAME
    event_rows: dict[str, list[int]] = {}
    for number, values in rows:
        name = values[5].strip() or default_event
        event_rows.setdefault(name, []).append(number)
    resolved: dict[str, Event | None] = {}
    for name, numbers in event_rows.items():
        matches = events_named(db, name)
        if len(matches) > 1:
            problems.append(RowProblem(numbers[0], "event", f"{len(matches)} events are called {name!r}; use the event's id instead (rows {_rows(numbers)})"))
        elif matches and not matches[0].is_open:
            problems.append(RowProblem(numbers[0], "event", f"event {name!r} is closed; reopen it to import into it (rows {_rows(numbers)})"))
        resolved[name] = matches[0] if len(matches) == 1 else None
    if any(ev is None for ev in resolved.values()):
        require(user, "manage_events")
    from surveys import bundled

    lookups: dict[str, _Lookup] = {}
    default_lookup = _Lookup(bundled("thrive"))
    for name, ev in resolved.items():
        lookups[name] = _Lookup(question_set(db, ev.question_set_id)) if ev else default_lookup

    prepared = []
    seen_ids: dict[tuple[str, str], int] = {}
    respondent_groups: dict[tuple[str, str], tuple[str, int]] = {}
    for position, (number, values) in enumerate(rows):
        ext_cell, question_cell, group_cell, text, respondent_cell, event_cell, created_raw = values
        event_name = event_cell.strip() or default_event
        lookup = lookups[event_name]
        ext_id = ext_cell.strip()
        screened_at = position
        if not ext_id:
            problems.append(RowProblem(number, "id", "is empty; every row needs an id that is unique in the file"))
        elif (event_name, ext_id) in seen_ids:
            problems.append(RowProblem(number, "id", f"{ext_id!r} is used again (first on row {seen_ids[(event_name, ext_id)]})"))
        else:
            seen_ids[(event_name, ext_id)] = number
        question_cell = question_cell.strip()
        question = lookup.questions.get(question_cell.lower())
        if question is None:
            ids = ", ".join(q.id for q in lookup.qs.questions)
            problems.append(RowProblem(number, "question", f"unknown question {question_cell!r}; use one of {ids}"))
        group_cell = group_cell.strip()
        group_id = lookup.groups.get(group_cell.lower())
        if group_id is None:
            ids = ", ".join(g.id for g in lookup.qs.groups)
            problems.append(RowProblem(number, "group", f"unknown group {group_cell!r}; use one of {ids}"))
        if not text.strip():
            problems.append(RowProblem(number, "text", "is empty"))
        elif len(text) > config.MAX_ANSWER_CHARS:
            problems.append(RowProblem(number, "text", f"is {len(text):,} characters; the limit is {config.MAX_ANSWER_CHARS:,}"))
        elif question is not None and question.type != "free_text":
            option = question.option(text.strip()) or next(
                (o for o in question.options if any(v.lower() == text.strip().lower() for v in o.label.values())), None)
            if option is None:
                problems.append(RowProblem(number, "text", f"{text!r} is not an option of {question.id}"))
            elif option.id != text:
                text, screened_at = option.id, -1
        created_at = None
        if created_raw not in (None, ""):
            try:
                created_at = _timestamp(created_raw)
            except ValueError as exc:
                problems.append(RowProblem(number, "created_at", str(exc)))
        respondent_ref = respondent_cell.strip() or None
        if respondent_ref and group_id:
            first = respondent_groups.setdefault((event_name, respondent_ref), (group_id, number))
            if first[0] != group_id:
                problems.append(RowProblem(number, "group", f"respondent {respondent_ref!r} is in group {first[0]!r} on row {first[1]}; one respondent has one group"))
        if question is not None and group_id is not None:
            prepared.append((number, screened_at, event_name, ext_id, question.id, group_id, text, created_at,
                             respondent_ref))
    if problems:
        raise InvalidFile(problems)
    return _write(db, user, filename, resolved, prepared, screening)


def _rows(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10])
    return shown + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")


WRITE_BATCH = 2_500


def _insert_responses(db: Database, rows: list[tuple[Any, ...]]) -> None:
    db.conn.executemany(
        "INSERT INTO responses (id, respondent_id, event_id, question_id, position, text, redacted_text, "
        "external_id, source, recorded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'import', ?, ?)",
        rows,
    )


def _write(db: Database, user: User, filename: str, resolved: dict[str, Event | None],
           prepared: Iterable[tuple[int, int, str, str, str, str, str, str | None, str | None]],
           screening: BackgroundScreening) -> ImportResult:
    now = now_utc()
    result = ImportResult(rows=0, added=0, already_present=0, respondents_added=0)
    with transaction(db):
        event_ids: dict[str, str] = {}
        for name, ev in resolved.items():
            if ev is None:
                ev = create_event(db, user, name=name, date=dt.date.today())
                result.events_created.append(name)
            event_ids[name] = ev.id
        existing: dict[tuple[str, str], str] = {}
        existing_refs: dict[tuple[str, str], str] = {}
        for event_id in set(event_ids.values()):
            for ext_id, text in db.execute(
                "SELECT external_id, text FROM responses WHERE event_id = ? AND external_id IS NOT NULL", [event_id]
            ):
                existing[(event_id, ext_id)] = text
            for ref, respondent_id in db.execute(
                "SELECT external_ref, id FROM respondents WHERE event_id = ? AND external_ref IS NOT NULL", [event_id]
            ):
                existing_refs[(event_id, ref)] = respondent_id
        respondents: list[tuple[Any, ...]] = []
        responses: list[tuple[Any, ...]] = []
        disclosures: list[tuple[str, str, str, str]] = []
        positions: dict[tuple[str, str], int] = {}
        # at most two ids per row (an answer, maybe a respondent), made in one go
        fresh_ids = iter(new_ids(2 * len(prepared)))
        for number, screened_at, event_name, ext_id, question_id, group_id, text, created_at, respondent_ref \
                in prepared:
            result.rows += 1
            event_id = event_ids[event_name]
            stored = existing.get((event_id, ext_id))
            if stored is not None:
                result.already_present += 1
                if stored != text:
                    result.changed_rows_not_updated.append(number)
                continue
            when = created_at or now
            if respondent_ref is None:
                respondent_id = next(fresh_ids)
                respondents.append((respondent_id, event_id, group_id, None, when))
            else:
                key = (event_id, respondent_ref)
                respondent_id = existing_refs.get(key)
                if respondent_id is None:
                    respondent_id = next(fresh_ids)
                    existing_refs[key] = respondent_id
                    respondents.append((respondent_id, event_id, group_id, respondent_ref, when))
            slot = (respondent_id, question_id)
            position = positions.get(slot, 0)
            positions[slot] = position + 1
            response_id = next(fresh_ids)
            responses.append((screened_at, response_id, respondent_id, event_id, question_id, position, text,
                              ext_id, when))
        db.conn.executemany(
            "INSERT INTO respondents (id, event_id, group_id, profile, language, consent, consent_method, source, "
            "external_ref, recorded_by, created_at) VALUES (?, ?, ?, '{}', 'en', 1, 'import', 'import', ?, ?, ?)",
            [(rid, eid, gid, ref, user.username, when) for rid, eid, gid, ref, when in respondents],
        )
        # Rows go in by batches in file order, each as soon as its screening is ready: the helper process screens
        # later rows while this one writes earlier ones.
        batch: list[tuple[Any, ...]] = []
        for screened_at, response_id, respondent_id, event_id, question_id, position, text, ext_id, when \
                in responses:
            # a choice answer is stored as its option id, not the cell that was screened: screen what is stored
            redacted, disclosure = screening.get(screened_at) if screened_at >= 0 else screen(text, question_id)
            batch.append((response_id, respondent_id, event_id, question_id, position, text, redacted, ext_id,
                          user.username, when))
            if disclosure:
                disclosures.append((response_id, respondent_id, event_id, disclosure))
            if len(batch) >= WRITE_BATCH:
                _insert_responses(db, batch)
                batch = []
        _insert_responses(db, batch)
        for response_id, respondent_id, event_id, disclosure in disclosures:
            flags.raise_flag(db, user, kind="auto", reason=disclosure.reason, respondent_id=respondent_id,
                             response_id=response_id, event_id=event_id, category=disclosure.category,
                             strength=disclosure.strength)
        result.added = len(responses)
        result.respondents_added = len(respondents)
        result.flags_raised = len(disclosures)
        audit.record(db, user, "responses_imported", "file", filename or None, added=result.added,
                     already_present=result.already_present, events=json.dumps(sorted(event_ids)))
    return result
