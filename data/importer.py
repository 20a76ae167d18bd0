"""Importing answers from CSV or XLSX files: parse, check every row, then write all rows or none.

Columns: id, question, group, text (required); respondent, event, created_at (optional). Row 1 is the header.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import itertools
import json
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sqlite_utils import Database

import config
from analysis.screening import BackgroundScreening, screen
from data import audit, flags, import_mapping
from data.db import new_id, new_ids, now_utc, transaction
from data.events import Event, create_event, events_named, question_set
from data.schema import COUNT_INSERT_TRIGGERS, COUNT_UPSERT
from data.users import User, require
from surveys import QuestionSet

REQUIRED_COLUMNS = ("id", "question", "group", "text")
OPTIONAL_COLUMNS = ("respondent", "event", "created_at")
DEFAULT_EVENT_NAME = "Imported responses"
#: Problems kept on a rejected file (the rest are only counted: a file with a million bad rows must not hold a
#: million messages) and how many of those the exception's message lists.
MAX_PROBLEMS = 200
MAX_PROBLEMS_IN_MESSAGE = 50

# Guards against hostile or broken files, on top of the stated limits in config (IMPORT_MAX_ROWS, IMPORT_MAX_MB).
#: Longest CSV line, in characters (a row of a few answers of at most MAX_ANSWER_CHARS is far shorter).
MAX_LINE_CHARS = 1_000_000
#: .xlsx: most entries in the zip, the compression ratio beyond which an entry is a "zip bomb" (Apache POI's default
#: minimum inflate ratio is 0.01, i.e. 100:1), and the size under which the ratio is not checked.
XLSX_MAX_ENTRIES = 10_000
XLSX_MAX_RATIO = 100
XLSX_RATIO_GRACE = 1 << 20
#: .xlsx: largest part read whole (the package list, the workbook, its links, the styles), most cells in one row
#: (Excel's own column limit), and the longest text of one cell or shared string in the XML.
XLSX_MAX_SMALL_PART = 20 << 20
XLSX_MAX_CELLS_PER_ROW = 16_384
XLSX_MAX_TEXT_BYTES = 1 << 20
_SCAN_CHUNK = 1 << 20


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
    """The file was rejected and nothing was written.

    `problems` holds the first MAX_PROBLEMS faults found; `more` counts those found after them.
    """

    def __init__(self, problems: Iterable[RowProblem], more: int = 0):
        problems = list(problems)
        self.problems = problems[:MAX_PROBLEMS]
        self.more = more + len(problems) - len(self.problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:MAX_PROBLEMS_IN_MESSAGE])
        hidden = self.total - min(len(self.problems), MAX_PROBLEMS_IN_MESSAGE)
        tail = f"\n  ... and {hidden:,} more" if hidden > 0 else ""
        super().__init__(f"The file was not imported ({self.total:,} problem(s)); nothing was written:\n{shown}{tail}")

    @property
    def total(self) -> int:
        """Every problem found, listed or not."""
        return len(self.problems) + self.more


class Problems:
    """Collects a file's problems: keeps the first MAX_PROBLEMS, counts the rest."""

    def __init__(self) -> None:
        self.kept: list[RowProblem] = []
        self.more = 0

    def add(self, row: int, column: str, message: str) -> None:
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append(RowProblem(row, column, message))
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.kept)

    def raise_if_any(self) -> None:
        if self.kept:
            raise InvalidFile(self.kept, self.more)


def _refuse(row: int, message: str) -> InvalidFile:
    return InvalidFile([RowProblem(row, "", message)])


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
    #: blank answer cells, skipped (not errors)
    blank_skipped: int = 0
    #: how the file was read (data.import_mapping.Mapping)
    mapping: Any = None
    #: a dry run: everything was checked and counted, nothing was written
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would be added" if self.dry_run else "added"
        parts = [f"{self.added:,} answers {verb} from {self.rows:,} rows"]
        if self.blank_skipped:
            parts.append(f"{self.blank_skipped:,} blank answers skipped")
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
        if self.mapping is not None and self.mapping.personal:
            parts.append("personal data dropped, never stored: " + ", ".join(self.mapping.personal))
        if self.dry_run:
            parts.append("dry run: nothing was written (answers are screened for disclosures when imported)")
        return "; ".join(parts) + "."


# --- reading files: a row source yields (spreadsheet row number, cells), streaming, within the limits -------------

Row = tuple[int, list[Any]]


def _blank(cells: list[Any]) -> bool:
    # any() is the fast path; the slow test only runs for rows whose every cell is falsy (0, False)
    return not any(cells) and all(cell is None or cell == "" for cell in cells)


def _limits() -> tuple[int, int]:
    """(most answer rows after the header, most bytes) from config, read at call time."""
    return config.IMPORT_MAX_ROWS, config.IMPORT_MAX_MB * 1_000_000


def _too_many_rows(max_rows: int, found: str = "") -> InvalidFile:
    return _refuse(max_rows + 2, f"the file has more than {max_rows:,} rows of answers after the header{found}; "
                                 f"that is the most one import takes. Split it into smaller files and import each")


def _too_big(what: str, size: int, max_bytes: int) -> InvalidFile:
    return _refuse(0, f"{what} {size / 1e6:,.0f} MB; the most one import takes is {max_bytes / 1e6:,.0f} MB. "
                      "Split it into smaller files and import each")


def iter_rows(source: IO[bytes] | bytes, filename: str = "") -> Iterator[Row]:
    """Every non-blank row of a CSV file or of an .xlsx workbook's first sheet, header row included, as
    (spreadsheet row number, cells), read as a stream.

    Raises InvalidFile, naming the row where it can, for a file over the limits in config (checked before the file is
    read whole: an .xlsx's zip directory and sheet sizes first), a CSV quote that is never closed, text that is not
    UTF-8, or a workbook that cannot be read. Rows past a problem are not read.
    """
    if isinstance(source, bytes):
        data = source
    else:  # a file: never read more than the limit, however big it is
        max_bytes = _limits()[1]
        data = source.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise _refuse(0, f"the file is bigger than {max_bytes / 1e6:,.0f} MB, the most one import takes. Split "
                             "it into smaller files and import each")
    is_xlsx = filename.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK"
    return _xlsx_rows(data) if is_xlsx else _csv_rows(data)


def read_table(source: IO[bytes] | bytes, filename: str = "") -> tuple[list[str], list[Row]]:
    """The header (lower-cased, trimmed) and the non-blank data rows with their spreadsheet row numbers."""
    rows = iter_rows(source, filename)
    header = _header(next(rows, None))
    width = len(header) + 1  # one cell past the header is enough to see a value under no header
    return header, [(number, cells[:width]) for number, cells in rows]


def _header(first: Row | None) -> list[str]:
    if first is None:
        raise _refuse(0, "the file is empty: expected a header row id,question,group,text")
    number, cells = first
    if number != 1:  # row 1 is blank: there is no header
        return []
    header = ["" if h is None else str(h).strip().lower() for h in cells]
    while header and header[-1] == "":
        header.pop()
    return header


class _LongLine(Exception):
    def __init__(self, line: int):
        self.line = line


def _bounded_lines(stream: IO[str]) -> Iterator[str]:
    """The stream's lines, refusing one longer than MAX_LINE_CHARS before it is read whole."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE_CHARS)
        if not line:
            return
        number += 1
        if len(line) >= MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            raise _LongLine(number)
        yield line


def _text_stream(data: bytes) -> IO[str]:
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def _csv_rows(data: bytes) -> Iterator[Row]:
    max_rows, max_bytes = _limits()
    if len(data) > max_bytes:
        raise _too_big("the file is", len(data), max_bytes)
    # More line breaks than the limit allows rows: count the rows (quoted values may hold line breaks) before
    # keeping any, so that a huge file is refused in a second.
    delimiter = sniff_delimiter(data)
    if max(data.count(b"\n"), data.count(b"\r")) > max_rows + 1 and _csv_rows_exceed(data, max_rows + 1, delimiter):
        raise _too_many_rows(max_rows)
    return _csv_stream(data, max_rows, delimiter)


#: Separators a CSV file may use: KoBoToolbox exports with ';' by default, some tools and Excel locales with tabs.
DELIMITERS = ",;\t"
_SNIFF_BYTES = 64 * 1024


def sniff_delimiter(data: bytes) -> str:
    """',' ';' or tab: csv.Sniffer on the file's first lines, restricted to those three, checked against the header
    line (the separator must split it; otherwise the one that splits the header most is used)."""
    sample = data[:_SNIFF_BYTES].decode("utf-8-sig", errors="replace")
    if len(data) > _SNIFF_BYTES:  # whole lines only
        sample = sample[:max(sample.rfind("\n"), 0)] or sample
    header = sample.splitlines()[0] if sample else ""
    counts = {d: _unquoted_count(header, d) for d in DELIMITERS}
    try:
        found = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        found = ","
    if counts.get(found, 0) == 0 and max(counts.values()) > 0:
        found = max(DELIMITERS, key=lambda d: counts[d])
    return found


def _unquoted_count(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def _csv_rows_exceed(data: bytes, most: int, delimiter: str = ",") -> bool:
    try:
        for number, _ in enumerate(csv.reader(_bounded_lines(_text_stream(data)), strict=True, delimiter=delimiter),
                                   start=1):
            if number > most:
                return True
    except (csv.Error, UnicodeDecodeError, _LongLine):
        pass  # the reading pass names the problem and its row
    return False


def _csv_stream(data: bytes, max_rows: int, delimiter: str = ",") -> Iterator[Row]:
    # strict: a quote that is never closed is an error, not a value that swallows the rest of the file
    reader = csv.reader(_bounded_lines(_text_stream(data)), strict=True, delimiter=delimiter)
    number, starts_on = 0, 1
    try:
        for row in reader:
            number += 1
            if number > max_rows + 1:
                raise _too_many_rows(max_rows)
            if not _blank(row):
                yield number, row
            starts_on = reader.line_num + 1
    except csv.Error as exc:
        raise _refuse(number + 1, _csv_error(str(exc), starts_on)) from exc
    except _LongLine as exc:
        raise _refuse(number + 1, f"line {exc.line:,} is longer than {MAX_LINE_CHARS:,} characters; this is not "
                                  "a file of answers (or a quote is never closed)") from exc
    except UnicodeDecodeError as exc:
        raise _refuse(_utf8_error_line(data), "the file is not UTF-8 text; in Excel use “Save as: CSV UTF-8”") \
            from exc


def _csv_error(detail: str, line: int) -> str:
    where = f"(it starts on line {line:,})"
    if "unexpected end of data" in detail:
        return (f"a value starting with a quote (\") {where} has no closing quote, so every row after it would be "
                "read into one answer; add the closing quote")
    if "field larger than field limit" in detail:
        return (f"a value {where} is longer than {csv.field_size_limit():,} characters: most likely a quote (\") "
                "that is never closed; add the closing quote")
    if "expected after" in detail:
        return (f"a quoted value {where} is followed by more text before the next comma; put the whole value in "
                "quotes and double every quote inside it (\"\")")
    return f"not a readable CSV row {where}: {detail}"


def _utf8_error_line(data: bytes) -> int:
    """The line holding the first byte that is not UTF-8 (a line break never falls inside a UTF-8 character)."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", start + _SCAN_CHUNK)
        end = len(data) if end < 0 else end + 1
        try:
            data[start:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            return data.count(b"\n", 0, start + exc.start) + 1
        start = end
    return 0


# .xlsx: checked from the zip directory and a byte scan of the sheet before openpyxl parses anything big.

_UNREADABLE = (zipfile.BadZipFile, zlib.error, KeyError, ValueError, TypeError, AttributeError, IndexError,
               OSError, EOFError, SyntaxError)  # SyntaxError: xml.etree's ParseError
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\s[^>]*?ref\s*=\s*[\"']([^\"']*)[\"']")
_DATA_END = re.compile(rb"</(?:[\w.-]+:)?sheetData\s*>")


def _unreadable(exc: BaseException) -> InvalidFile:
    return _refuse(0, f"not a readable .xlsx workbook ({exc.__class__.__name__}); save it again from Excel as "
                      ".xlsx, or as CSV UTF-8")


def _xlsx_rows(data: bytes) -> Iterator[Row]:
    # openpyxl's reader, step by step (pinned in requirements.txt): only the first sheet is looked at, and only once
    # its size is known; the steps mirror openpyxl.reader.excel.ExcelReader.read for a read-only workbook.
    from openpyxl.packaging.relationship import get_rels_path
    from openpyxl.reader.excel import ExcelReader, _find_workbook_part
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.xml.constants import ARC_CONTENT_TYPES, ARC_STYLE, SHARED_STRINGS

    max_rows, max_bytes = _limits()
    _check_zip_directory(data, max_bytes)
    try:
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=False)
        archive = reader.archive
        _check_small_part(archive, ARC_CONTENT_TYPES)
        reader.read_manifest()
        workbook_part = _find_workbook_part(reader.package).PartName[1:]
        for name in (workbook_part, get_rels_path(workbook_part), ARC_STYLE):
            _check_small_part(archive, name)
        reader.read_workbook()
        sheet_path = next((rel.target for _, rel in reader.parser.find_sheets()
                           if rel.target in reader.valid_files and "chartsheet" not in rel.Type), None)
        if sheet_path is None:
            raise _refuse(0, "the workbook has no sheet to import")
        _scan_sheet(archive, sheet_path, max_rows)
        strings = reader.package.find(SHARED_STRINGS)
        if strings is not None and strings.PartName[1:] in reader.valid_files:
            _scan_shared_strings(archive, strings.PartName[1:], max_strings=4 * max_rows + 1_000)
        reader.read_strings()
        apply_stylesheet(archive, reader.wb)
    except InvalidFile:
        raise
    except _UNREADABLE as exc:
        raise _unreadable(exc) from exc
    return _xlsx_stream(reader, sheet_path, max_rows)


def _xlsx_stream(reader: Any, sheet_path: str, max_rows: int) -> Iterator[Row]:
    workbook = reader.wb
    try:
        with reader.archive.open(sheet_path) as source:
            parser = _sheet_parser_class()(source, reader.shared_strings, data_only=False, epoch=workbook.epoch,
                                  date_formats=workbook._date_formats,
                                  timedelta_formats=workbook._timedelta_formats)
            for number, cells in parser.parse():
                if not cells:
                    continue
                width = max(cell["column"] for cell in cells)
                values: list[Any] = [None] * width
                for cell in cells:
                    values[cell["column"] - 1] = cell["value"]
                if _blank(values):
                    continue
                if number > max_rows + 1:
                    raise _too_many_rows(max_rows)
                yield number, values
    except InvalidFile:
        raise
    except _UNREADABLE as exc:
        raise _unreadable(exc) from exc
    finally:
        reader.archive.close()


@functools.cache
def _sheet_parser_class() -> type:
    from openpyxl.worksheet._reader import WorkSheetParser

    class SheetParser(WorkSheetParser):
        """openpyxl's sheet parser, without keeping each row's attributes (height, style) for a whole sheet."""

        def parse_row(self, row: Any) -> tuple[int, list[dict[str, Any]]]:
            number = row.get("r")
            if number is None:
                self.row_counter += 1
            else:
                value = float(number)
                if not value.is_integer():
                    raise ValueError(f"{number} is not a valid row number")
                self.row_counter = int(value)
            self.col_counter = 0
            return self.row_counter, [self.parse_cell(element) for element in row]

    return SheetParser


def _check_zip_directory(data: bytes, max_bytes: int) -> None:
    """Refuse from the zip's own directory: too many entries, too much once unpacked, or a zip bomb."""
    # The end-of-directory record gives the number of entries before zipfile reads every one of them.
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end >= 0 and len(data) >= end + 22 and int.from_bytes(data[end + 10:end + 12], "little") > XLSX_MAX_ENTRIES:
        raise _refuse(0, f"the workbook holds more than {XLSX_MAX_ENTRIES:,} parts; this is not a spreadsheet of "
                         "answers")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except _UNREADABLE as exc:
        raise _unreadable(exc) from exc
    if len(entries) > XLSX_MAX_ENTRIES:
        raise _refuse(0, f"the workbook holds more than {XLSX_MAX_ENTRIES:,} parts; this is not a spreadsheet of "
                         "answers")
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > max_bytes:
        raise _too_big("unpacked, the workbook is", unpacked, max_bytes)
    for entry in entries:
        if entry.file_size > XLSX_RATIO_GRACE and entry.file_size > XLSX_MAX_RATIO * max(entry.compress_size, 1):
            raise _refuse(0, f"part {entry.filename!r} of the workbook unpacks to "
                             f"{entry.file_size // max(entry.compress_size, 1):,} times its packed size (more than "
                             f"{XLSX_MAX_RATIO}); a real spreadsheet never does (this is a 'zip bomb')")


def _check_small_part(archive: zipfile.ZipFile, name: str) -> None:
    try:
        size = archive.getinfo(name).file_size
    except KeyError:
        return  # openpyxl says what is missing
    if size > XLSX_MAX_SMALL_PART:
        raise _refuse(0, f"part {name!r} of the workbook is {size / 1e6:,.0f} MB; in a real spreadsheet it is small")


def _count(buf: bytes, tokens: tuple[bytes, ...]) -> int:
    return sum(buf.count(token) for token in tokens)


def _last(buf: bytes, tokens: tuple[bytes, ...]) -> int:
    return max(buf.rfind(token) for token in tokens)


def _first(buf: bytes, tokens: tuple[bytes, ...]) -> int:
    found = [i for i in (buf.find(token) for token in tokens) if i >= 0]
    return min(found) if found else -1


# Element starts counted in the raw XML, with or without a namespace prefix. Text never holds "<" unescaped, so
# "<row" only starts an element; ":row" may also occur in text, which only makes the count a little high.
_ROW_TOKENS = (b"<row", b":row")
_CELL_TOKENS = (b"<c", b":c")
_STRING_TOKENS = (b"<si", b":si")


def _scan_sheet(archive: zipfile.ZipFile, name: str, max_rows: int) -> None:
    """Refuse a sheet with too many rows (its <dimension>, else counted), a row of too many cells or an enormous
    cell, from one pass over its bytes (no XML parsing), stopping as soon as a limit is passed."""
    from openpyxl.utils.cell import range_boundaries

    most = max_rows + 1  # the header and max_rows answers
    rows = cells_in_row = since_token = 0
    carry = b""
    first = True
    in_data = True
    with archive.open(name) as source:
        while chunk := source.read(_SCAN_CHUNK):
            if first:
                first = False
                found = _DIMENSION.search(chunk, 0, 65_536)
                if found:
                    try:
                        last_row = range_boundaries(found.group(1).decode("ascii"))[3]
                    except (ValueError, TypeError, UnicodeDecodeError):
                        last_row = None
                    if last_row is not None and last_row > most:
                        raise _too_many_rows(max_rows, f" (the sheet says it reaches row {last_row:,})")
            buf = carry + chunk
            rows += _count(buf, _ROW_TOKENS) - _count(carry, _ROW_TOKENS)
            if rows > most:
                raise _too_many_rows(max_rows)
            if not in_data:
                carry = buf[-16:]
                continue
            first_row, last_row_at = _first(chunk, _ROW_TOKENS), _last(chunk, _ROW_TOKENS)
            if first_row < 0:
                cells_in_row += _count(chunk, _CELL_TOKENS)
            else:
                cells_in_row += sum(chunk.count(token, 0, first_row) for token in _CELL_TOKENS)
            if cells_in_row > XLSX_MAX_CELLS_PER_ROW:
                raise _refuse(rows or 1, f"a row has more than {XLSX_MAX_CELLS_PER_ROW:,} cells; a spreadsheet of "
                                         "answers has a few columns")
            if first_row >= 0:
                cells_in_row = sum(chunk.count(token, last_row_at) for token in _CELL_TOKENS)
            last_token = max(last_row_at, _last(chunk, _CELL_TOKENS))
            since_token = since_token + len(chunk) if last_token < 0 else len(chunk) - last_token
            if b"sheetData" in buf and _DATA_END.search(buf):  # the regex only where the tag is
                in_data = False
            elif since_token > XLSX_MAX_TEXT_BYTES:
                raise _refuse(rows or 1, f"a cell holds more than {XLSX_MAX_TEXT_BYTES // 1_000_000} MB of text; an "
                                         f"answer holds at most {config.IMPORT_MAX_ANSWER_CHARS:,} characters")
            carry = buf[-16:]


def _scan_shared_strings(archive: zipfile.ZipFile, name: str, max_strings: int) -> None:
    """Refuse a shared-string table (which openpyxl holds whole) of too many or too long strings."""
    count = since_token = 0
    carry = b""
    with archive.open(name) as source:
        while chunk := source.read(_SCAN_CHUNK):
            buf = carry + chunk
            count += _count(buf, _STRING_TOKENS) - _count(carry, _STRING_TOKENS)
            if count > max_strings:
                raise _refuse(0, f"the workbook holds more than {max_strings:,} different texts; that is more than "
                                 "a file of answers within the row limit can hold")
            last = _last(chunk, _STRING_TOKENS)
            since_token = since_token + len(chunk) if last < 0 else len(chunk) - last
            if since_token > XLSX_MAX_TEXT_BYTES:
                raise _refuse(0, f"the workbook holds a text of more than {XLSX_MAX_TEXT_BYTES // 1_000_000} MB; an "
                                 f"answer holds at most {config.IMPORT_MAX_ANSWER_CHARS:,} characters")
            carry = buf[-16:]


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


def _timestamp(value: Any, dates: str = "uk", time_zone: str | None = None) -> str:
    """A UTC ISO-8601 timestamp from a file's cell (data.import_mapping.timestamp: ISO, UK/US, Excel serials)."""
    return import_mapping.timestamp(value, dates, time_zone)


class _Lookup:
    """Maps the question and group cells of one question set to ids: ids or labels in any shipped language, after
    normalising case, punctuation and spacing, {area} standing for any place name; groups also as 'Parent/carer'."""

    def __init__(self, qs: QuestionSet):
        self.qs = qs
        self.matcher = import_mapping.QuestionMatcher(qs)
        self.questions = {q.id: q for q in qs.questions}
        self._groups: dict[str, str | None] = {}

    def question(self, cell: str) -> Any:
        qid = self.matcher.question(cell)
        return self.questions[qid] if qid else None

    def group(self, cell: str) -> str | None:
        found = self._groups.get(cell, "")
        if found == "":
            found = self._groups[cell] = self.matcher.group(cell)
        return found


#: How many rows are looked at to recognise a file's layout (the header rows and a sample for the group's values).
SAMPLE_ROWS = 60
LONG_NAMES = ("id", "question", "group", "text", "respondent", "event", "created_at")
_DRY_RUN = object()


class _RollBack(Exception):
    """Raised inside the import's transaction by a dry run, so that nothing it wrote is kept."""

    def __init__(self, result: ImportResult):
        super().__init__("dry run")
        self.result = result


def event_question_set(db: Database, event: str | None) -> QuestionSet:
    from surveys import bundled

    matches = events_named(db, (event or "").strip()) if (event or "").strip() else []
    return question_set(db, matches[0].question_set_id) if len(matches) == 1 else bundled("thrive")


def preview(db: Database, user: User, source: IO[bytes] | bytes, filename: str = "", *, event: str | None = None,
            mapping: import_mapping.Mapping | str | bytes | None = None, dates: str | None = None,
            rows: int = 5) -> tuple[import_mapping.Mapping, list[list[Any]]]:
    """The mapping an import of this file would use (recognised, or from a mapping file) and its first rows."""
    require(user, "import")
    source_rows = iter_rows(source, filename)
    sample = [cells for _, cells in itertools.islice(source_rows, SAMPLE_ROWS)]
    if not sample:
        raise _refuse(0, "the file is empty")
    found = _mapping_for(sample, event_question_set(db, event), mapping, dates)
    return found, sample[:found.header_rows + rows]


def _mapping_for(sample: list[list[Any]], qs: QuestionSet, mapping: import_mapping.Mapping | str | bytes | None,
                 dates: str | None) -> import_mapping.Mapping:
    if isinstance(mapping, import_mapping.Mapping):
        found = mapping
    elif mapping is not None:
        try:
            found = import_mapping.load(mapping, sample, qs)
        except import_mapping.MappingError as exc:
            raise _refuse(0, str(exc)) from exc
    else:
        found = import_mapping.detect(sample, qs, dates=dates)
    if dates and dates != found.dates:
        if dates not in import_mapping.DATE_ORDERS:
            raise _refuse(0, f"dates must be one of {', '.join(import_mapping.DATE_ORDERS)}")
        found = dataclasses.replace(found, dates=dates)
    return found


def import_responses(db: Database, user: User, source: IO[bytes] | bytes, filename: str = "",
                     *, event: str | None = None, mapping: import_mapping.Mapping | str | bytes | None = None,
                     dates: str | None = None, dry_run: bool = False) -> ImportResult:
    """Import a CSV/XLSX file of answers, all rows or none; re-importing the same file adds nothing.

    Long files (one row per answer: id, question, group, text[, respondent, event, created_at]) and wide survey-tool
    exports (one row per respondent, one column per question; data.import_mapping recognises them, or `mapping`, a
    Mapping or a mapping file's YAML, says which column is what). `event` names (or ids) the event for rows without
    an event cell; an event named but not yet in the database is created with the bundled 'thrive' question set.
    `dates` ("uk" or "us") says how to read dd/mm vs mm/dd. Blank answers are skipped and counted. `dry_run` checks
    and counts everything and writes nothing. Raises InvalidFile naming every offending row and column.
    """
    require(user, "import")
    source_rows = iter_rows(source, filename)
    sample = list(itertools.islice(source_rows, SAMPLE_ROWS))
    if not sample:
        raise _refuse(0, "the file is empty: expected a header row id,question,group,text, or a survey tool's export")
    found = _mapping_for([cells for _, cells in sample] if sample[0][0] == 1 else [[]], event_question_set(db, event),
                         mapping, dates)
    rows_in = itertools.chain(sample, source_rows)
    problems = Problems()
    if found.layout == "long":
        rows, blank = _long_rows(rows_in, problems)
    else:
        rows, blank = _wide_rows(rows_in, found, problems)
    result = _check_and_write(db, user, filename, event, rows, problems, found, _DRY_RUN if dry_run else None)
    result.blank_skipped = blank
    result.mapping = found
    return result


def _long_rows(source_rows: Iterator[Row], problems: Problems) -> tuple[list[tuple[int, list[Any]]], int]:
    header = _header(next(source_rows, None))
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    for column in REQUIRED_COLUMNS:
        if column not in header:
            problems.add(1, column, "required column is missing (need id, question, group, text)")
    seen_columns: set[str] = set()
    for column in header:
        if column in seen_columns:
            problems.add(1, column, "column appears twice")
        seen_columns.add(column)
        if column not in known:
            problems.add(1, column or "(blank)", f"unknown column; allowed: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}")
    problems.raise_if_any()
    index = {name: header.index(name) for name in header}
    width = len(header)
    # a missing optional column reads as a blank cell: point it at a padding cell past the header's end
    blank_cell = width
    i_id, i_question, i_group, i_text, i_respondent, i_event, i_created = (
        index.get(name, blank_cell) for name in LONG_NAMES)

    def pick(row: list[Any]) -> list[Any]:
        if len(row) == width:  # the common case
            row = row + [None]
        elif len(row) < width:
            row = row + [None] * (width + 1 - len(row))
        else:
            row = row[:width] + [None]
        return [row[i_id], row[i_question], row[i_group], row[i_text], row[i_respondent], row[i_event], row[i_created]]

    # rows as [id, question, group, text, respondent, event, created_at] cells, the text ones as str; each file row
    # is dropped as soon as its seven cells are taken, so a wide file costs no more memory than a narrow one
    rows = []
    blank = 0
    for number, row in source_rows:
        if len(row) > width and any(cell not in (None, "") for cell in row[width:]):
            # values under no header are refused rather than silently dropped
            problems.add(number, "", "has a value to the right of the last column, under no header; "
                                     "add a header or remove the value")
        values = pick(row)
        for i in range(6):
            value = values[i]
            if value.__class__ is not str:
                values[i] = _cell_text(value)
        if not values[3].strip():  # a blank answer: skipped and counted, not an error
            blank += 1
            continue
        rows.append((number, values))
    return rows, blank


def _wide_rows(source_rows: Iterator[Row], mapping: import_mapping.Mapping,
               problems: Problems) -> tuple[list[tuple[int, list[Any]]], int]:
    """One long row per non-blank answer cell: [answer id, question id, group, text, submission, "", time]."""
    for _ in range(mapping.header_rows):
        if next(source_rows, None) is None:
            break
    questions = [(c.index, c.question_id, c.header) for c in mapping.of("question")]
    if not questions:
        problems.add(1, "", "no column is a question of the question set; the headers must be the questions' "
                            "wording (or ids), or give the mapping with --map")
        problems.raise_if_any()
    id_col, time_col, group_col = (mapping.column(r) for r in ("id", "time", "group"))
    if group_col is None and mapping.default_group is None:
        problems.add(1, "", "no column holds the respondents' groups (their values must be the question set's group "
                            "labels or ids); name it in a mapping file, or give every respondent's group there "
                            "(group: <id>)")
        problems.raise_if_any()
    names: dict[str, tuple[str, ...]] = {}
    for _, qid, header in questions:
        names[qid or ""] = (id_col.header if id_col else "id", header, group_col.header if group_col else "group",
                            header, id_col.header if id_col else "id", "event",
                            time_col.header if time_col else "time")
    fixed = sorted(c.index for c in mapping.columns if c.role in ("question", "group", "id", "time"))
    width = (max(fixed) + 1) if fixed else 0
    rows: list[tuple[int, list[Any]]] = []
    blank = 0
    made_ids: dict[str, int] = {}
    for number, cells in source_rows:
        if len(cells) < width:
            cells = cells + [None] * (width - len(cells))
        if id_col is not None:
            raw = _cell_text(cells[id_col.index]).strip()
            submission = import_mapping.submission_uuid(raw) or raw
            if not submission:
                problems.add(number, id_col.header, "the submission id is empty")
                continue
        else:  # no id (Google Forms): the row's own contents make it, so the same file again adds nothing
            digest = hashlib.sha256("\x1f".join(_cell_text(cells[i]) for i in fixed).encode("utf-8")).hexdigest()
            occurrence = made_ids[digest] = made_ids.get(digest, 0) + 1
            submission = f"row-{digest[:20]}" + (f"-{occurrence}" if occurrence > 1 else "")
        group = mapping.default_group or "" if group_col is None else _cell_text(cells[group_col.index])
        created = "" if time_col is None else cells[time_col.index]
        created = "" if created is None else created
        for index, qid, _ in questions:
            text = cells[index]
            if text.__class__ is not str:
                text = _cell_text(text)
            if not text.strip():
                blank += 1
                continue
            rows.append((number, [f"{submission}/{qid}", qid, group, text, submission, "", created, names[qid]]))
    return rows, blank


def _check_and_write(db: Database, user: User, filename: str, event: str | None,
                     rows: list[tuple[int, list[Any]]], problems: Problems,
                     mapping: import_mapping.Mapping | None = None, dry_run: object = None) -> ImportResult:
    # Resolve events by name: existing ones are used, new names are created inside the transaction.
    default_event = (event or "").strip() or DEFAULT_EVENT_NAME
    event_rows: dict[str, list[int]] = {}
    for number, values in rows:
        name = values[5].strip() or default_event
        event_rows.setdefault(name, []).append(number)
    if not rows:
        event_rows.setdefault(default_event, [])
    resolved: dict[str, Event | None] = {}
    for name, numbers in event_rows.items():
        matches = events_named(db, name)
        first = numbers[0] if numbers else 0
        if len(matches) > 1:
            problems.add(first, "event", f"{len(matches)} events are called {name!r}; use the event's id instead (rows {_rows(numbers)})")
        elif matches and not matches[0].is_open:
            problems.add(first, "event", f"event {name!r} is closed; reopen it to import into it (rows {_rows(numbers)})")
        resolved[name] = matches[0] if len(matches) == 1 else None
    if any(ev is None for ev in resolved.values()):
        require(user, "manage_events")
    from surveys import bundled

    lookups: dict[str, _Lookup] = {}
    default_lookup = _Lookup(bundled("thrive"))
    for name, ev in resolved.items():
        lookups[name] = _Lookup(question_set(db, ev.question_set_id)) if ev else default_lookup
    # Each row's question, then screening (redaction, disclosure check, which weighs the question) starts on a helper
    # process and runs while the rows are checked and written; it sees the text cells exactly as they will be stored.
    questions = [lookups[values[5].strip() or default_event].question(values[1]) for _, values in rows]
    answers = [(values[3], question.id if question else None) for (_, values), question in zip(rows, questions, strict=True)]
    screening = _NoScreening(answers) if dry_run is _DRY_RUN else _ScreenOnce(answers)
    try:
        prepared = _check(rows, questions, lookups, default_event, problems, mapping)
        problems.raise_if_any()
        if dry_run is not _DRY_RUN:
            return _write(db, user, filename, resolved, prepared, screening)
        try:
            _write(db, user, filename, resolved, prepared, screening, dry_run=True)
        except _RollBack as done:
            done.result.dry_run = True
            return done.result
        raise AssertionError("a dry run must roll back")  # pragma: no cover
    finally:
        screening.close()


class _ScreenOnce:
    """BackgroundScreening of each distinct (text, question) once: short answers repeat a lot in real files ("family",
    "parks"), and the same answer to the same question is screened the same way. First occurrences keep file order,
    so the writer still overlaps with the helper's later chunks."""

    def __init__(self, answers: list[tuple[str, str | None]]):
        first: dict[tuple[str, str | None], int] = {}
        self._index = [first.setdefault(answer, len(first)) for answer in answers]
        self._inner = BackgroundScreening(list(first))

    def get(self, i: int) -> Any:
        return self._inner.get(self._index[i])

    def close(self) -> None:
        self._inner.close()


class _NoScreening:
    """A dry run stores nothing, so it screens nothing: every answer comes back as it is, unflagged."""

    def __init__(self, answers: list[tuple[str, str | None]]):
        self._answers = answers

    def get(self, i: int) -> tuple[str, Any]:
        return self._answers[i][0], None

    def close(self) -> None:
        pass


def _check(rows: list[tuple[int, list[Any]]], questions: list[Any], lookups: dict[str, _Lookup],
           default_event: str, problems: Problems,
           mapping: import_mapping.Mapping | None = None) -> list[tuple[Any, ...]]:
    prepared = []
    seen_ids: dict[tuple[str, str], int] = {}
    respondent_groups: dict[tuple[str, str], tuple[str, int]] = {}
    dates = mapping.dates if mapping else "uk"
    zone = mapping.time_zone if mapping else None
    limit = config.IMPORT_MAX_ANSWER_CHARS
    times: dict[Any, str] = {}
    for position, ((number, values), question) in enumerate(zip(rows, questions, strict=True)):
        ext_cell, question_cell, group_cell, text, respondent_cell, event_cell, created_raw = values[:7]
        names = values[7] if len(values) > 7 else LONG_NAMES
        event_name = event_cell.strip() or default_event
        lookup = lookups[event_name]
        ext_id = ext_cell.strip()
        screened_at = position
        if not ext_id:
            problems.add(number, names[0], "is empty; every row needs an id that is unique in the file")
        elif (event_name, ext_id) in seen_ids:
            problems.add(number, names[0], f"{ext_id!r} is used again (first on row {seen_ids[(event_name, ext_id)]})")
        else:
            seen_ids[(event_name, ext_id)] = number
        if question is None:
            ids = ", ".join(q.id for q in lookup.qs.questions)
            problems.add(number, names[1], f"unknown question {question_cell.strip()!r}; use one of {ids} or the "
                                           "question's wording")
        group_cell = group_cell.strip()
        group_id = lookup.group(group_cell)
        if group_id is None:
            ids = ", ".join(g.id for g in lookup.qs.groups)
            problems.add(number, names[2], f"unknown group {group_cell!r}; use one of {ids} or a group's label"
                         if group_cell else f"is empty; every respondent needs a group (one of {ids})")
        if len(text) > limit:
            problems.add(number, names[3], f"is {len(text):,} characters; the most an import takes is {limit:,} "
                                           "(THRIVE_IMPORT_MAX_ANSWER_CHARS)")
        elif question is not None and question.type != "free_text":
            option = question.option(text.strip()) or next(
                (o for o in question.options if any(v.lower() == text.strip().lower() for v in o.label.values())), None)
            if option is None:
                problems.add(number, names[3], f"{text!r} is not an option of {question.id}")
            elif option.id != text:
                text, screened_at = option.id, -1
        created_at = None
        if created_raw not in (None, ""):
            key = created_raw if created_raw.__class__ is str else repr(created_raw)
            created_at = times.get(key)
            if created_at is None:
                try:
                    created_at = times[key] = _timestamp(created_raw, dates, zone)
                except ValueError as exc:
                    problems.add(number, names[6], str(exc))
        respondent_ref = respondent_cell.strip() or None
        if respondent_ref and group_id:
            first = respondent_groups.setdefault((event_name, respondent_ref), (group_id, number))
            if first[0] != group_id:
                problems.add(number, names[2], f"respondent {respondent_ref!r} is in group {first[0]!r} on row {first[1]}; one respondent has one group")
        if question is not None and group_id is not None and not problems:
            prepared.append((number, screened_at, event_name, ext_id, question.id, group_id, text, created_at,
                             respondent_ref))
    return prepared


def _rows(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10])
    return shown + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")


WRITE_BATCH = 2_500

# The per-day counts (migration 0024_capture_speed) are kept by a trigger on every inserted respondent and answer;
# its date(created_at, 'localtime') and upsert are two thirds of a bulk insert's cost. A big import drops the two
# insert triggers inside its own transaction, inserts, adds the same counts with one upsert per (event, timestamp),
# and puts the triggers back from their stored text before it commits (a rollback puts them back too). Only when a
# trigger's text is exactly the one the migration wrote (data.schema.COUNT_INSERT_TRIGGERS): any other version keeps
# firing row by row.
_BULK_COUNT_MIN = 2_000


class _CountsInBulk:
    """Inside the import's transaction: the count triggers dropped (those whose text is known), to be replayed by
    finish() as one upsert per distinct (event, created_at), then recreated exactly as they were stored."""

    def __init__(self, db: Database):
        self._db = db
        stored = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?)",
                                 list(COUNT_INSERT_TRIGGERS)).fetchall())
        self.dropped = {name: sql for name, sql in stored.items() if sql == COUNT_INSERT_TRIGGERS[name]}
        for name in self.dropped:
            db.execute(f"DROP TRIGGER {name}")

    def finish(self, respondents: list[tuple[str, str]], responses: list[tuple[str, str]]) -> None:
        """Add what the dropped triggers would have added for these (event id, created_at) rows; restore them.
        Imported respondents have source 'import': each is one person, no post-it."""
        sql = COUNT_UPSERT.format(event="?", created="?", people="?", postits="0", answers="?")
        if "respondents_counted" in self.dropped:
            self._db.conn.executemany(sql, [(e, c, n, 0) for (e, c), n in Counter(respondents).items()])
        if "responses_counted" in self.dropped:
            self._db.conn.executemany(sql, [(e, c, 0, n) for (e, c), n in Counter(responses).items()])
        for sql_text in self.dropped.values():
            self._db.execute(sql_text)
#: ids looked up in one query (SQLite's default limit on bound parameters is 32,766 in 3.32+; stay well under)
_LOOKUP_BATCH = 900


def _insert_responses(db: Database, rows: list[tuple[Any, ...]]) -> None:
    db.conn.executemany(
        "INSERT INTO responses (id, respondent_id, event_id, question_id, position, text, redacted_text, "
        "external_id, source, recorded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'import', ?, ?)",
        rows,
    )


def _stored_anywhere(db: Database, sql: str, keys: list[str]) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(keys), _LOOKUP_BATCH):
        chunk = keys[start:start + _LOOKUP_BATCH]
        found += db.execute(sql.format(", ".join("?" * len(chunk))), chunk).fetchall()
    return found


def _write(db: Database, user: User, filename: str, resolved: dict[str, Event | None],
           prepared: list[tuple[int, int, str, str, str, str, str, str | None, str | None]],
           screening: Any, *, dry_run: bool = False) -> ImportResult:
    # A big import inserts into several indexes keyed by random UUIDs: with SQLite's default 2 MB page cache most
    # inserts read a page back from disk. A larger cache (a ceiling, used only as the indexes grow) for the import
    # alone halves the write time at 100,000 answers; the connection's own setting comes back afterwards.
    cache_before = db.execute("PRAGMA cache_size").fetchone()[0]
    if len(prepared) > 10_000:
        db.execute(f"PRAGMA cache_size = {-IMPORT_CACHE_KIB}")
    try:
        return _write_rows(db, user, filename, resolved, prepared, screening, dry_run=dry_run)
    finally:
        db.execute(f"PRAGMA cache_size = {int(cache_before)}")


#: Page cache for a big import's connection, KiB (see _write).
IMPORT_CACHE_KIB = 256 * 1024


def _write_rows(db: Database, user: User, filename: str, resolved: dict[str, Event | None],
                prepared: list[tuple[int, int, str, str, str, str, str, str | None, str | None]],
                screening: Any, *, dry_run: bool = False) -> ImportResult:
    now = now_utc()
    result = ImportResult(rows=0, added=0, already_present=0, respondents_added=0)
    with transaction(db):
        # a new event is created when the first answer for it is added: a re-import that adds nothing makes nothing
        event_ids: dict[str, str] = {name: ev.id for name, ev in resolved.items() if ev is not None}
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
        # A submission whose id is a UUID (KoBo _uuid, ODK instanceID) is one submission wherever it is stored: its
        # answers and respondent are looked for in every event, and new answers join the respondent's own event.
        refs = {(event_name, ref) for _, _, event_name, *_, ref in prepared if ref}
        uuid_refs = sorted({ref for _, ref in refs if import_mapping.submission_uuid(ref) == ref})
        elsewhere: dict[str, tuple[str, str]] = {}  # submission UUID -> (respondent id, its event id)
        if uuid_refs:
            for ref, respondent_id, event_id in _stored_anywhere(
                    db, "SELECT external_ref, id, event_id FROM respondents WHERE external_ref IN ({})", uuid_refs):
                elsewhere[ref] = (respondent_id, event_id)
                existing_refs[(event_id, ref)] = respondent_id
            answer_ids = [ext_id for _, _, _, ext_id, *_, ref in prepared if ref in elsewhere]
            for event_id, ext_id, text in _stored_anywhere(
                    db, "SELECT event_id, external_id, text FROM responses WHERE external_id IN ({})", answer_ids):
                existing[(event_id, ext_id)] = text
        respondents: list[tuple[Any, ...]] = []
        responses: list[tuple[Any, ...]] = []
        disclosures: list[tuple[str, str, str, Any]] = []
        positions: dict[tuple[str, str], int] = {}
        # at most two ids per row (an answer, maybe a respondent), made in one go
        # sorted: rows then go into the primary-key and respondent indexes in key order (appends, not page splits
        # all over the tree); each id is still a random UUID4
        # one per answer and one per new respondent: a row without a respondent cell is a respondent of its own, a
        # respondent cell one per event name (an upper bound: some are found stored); more only if that is ever wrong
        needed = len(prepared) + sum(1 for *_, ref in prepared if not ref) + len(refs)
        fresh_ids = itertools.chain(sorted(new_ids(needed)), iter(new_id, None))
        for number, screened_at, event_name, ext_id, question_id, group_id, text, created_at, respondent_ref \
                in prepared:
            result.rows += 1
            if respondent_ref is not None and respondent_ref in elsewhere:
                event_id = elsewhere[respondent_ref][1]
            else:
                event_id = event_ids.get(event_name)
            stored = existing.get((event_id, ext_id)) if event_id else None
            if stored is not None:
                result.already_present += 1
                if stored != text:
                    result.changed_rows_not_updated.append(number)
                continue
            if event_id is None:
                event_id = event_ids[event_name] = create_event(db, user, name=event_name, date=dt.date.today()).id
                result.events_created.append(event_name)
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
        counted = _CountsInBulk(db) if len(responses) >= _BULK_COUNT_MIN else None
        db.conn.executemany(
            "INSERT INTO respondents (id, event_id, group_id, profile, language, consent, consent_method, source, "
            "external_ref, recorded_by, created_at) VALUES (?, ?, ?, '{}', 'en', 1, 'import', 'import', ?, ?, ?)",
            [(rid, eid, gid, ref, user.username, when) for rid, eid, gid, ref, when in respondents],
        )
        # Rows go in by batches in file order, each as soon as its screening is ready: the helper process screens
        # later rows while this one writes earlier ones.
        batch: list[tuple[Any, ...]] = []
        username = user.username
        get = screening.get
        for screened_at, response_id, respondent_id, event_id, question_id, position, text, ext_id, when \
                in responses:
            # a choice answer is stored as its option id, not the cell that was screened: screen what is stored
            redacted, disclosure = get(screened_at) if screened_at >= 0 else screen(text, question_id)
            batch.append((response_id, respondent_id, event_id, question_id, position, text, redacted, ext_id,
                          username, when))
            if disclosure:
                disclosures.append((response_id, respondent_id, event_id, disclosure))
            if len(batch) >= WRITE_BATCH:
                _insert_responses(db, batch)
                batch = []
        _insert_responses(db, batch)
        if counted is not None:
            counted.finish([(eid, when) for _, eid, _, _, when in respondents],
                           [(row[3], row[8]) for row in responses])
        for response_id, respondent_id, event_id, disclosure in disclosures:
            flags.raise_flag(db, user, kind="auto", reason=disclosure.reason, respondent_id=respondent_id,
                             response_id=response_id, event_id=event_id, category=disclosure.category,
                             strength=disclosure.strength)
        result.added = len(responses)
        result.respondents_added = len(respondents)
        result.flags_raised = len(disclosures)
        if dry_run:
            raise _RollBack(result)
        audit.record(db, user, "responses_imported", "file", filename or None, added=result.added,
                     already_present=result.already_present, events=json.dumps(sorted(event_ids)))
    if result.added:  # sentence vectors for the new answers, in a background thread (issue 10); never fails this
        from data.embeddings import top_up_in_background

        top_up_in_background(db)
    return result
