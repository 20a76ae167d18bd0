"""The Excel workbook export (openpyxl, write-only mode): README, Responses, Codings, Codebook, Summary, By group,
Quotes. Header rows frozen, filters on, real dates and numbers, and formula-safe text.

Formula safety: a text cell starting with =, +, -, @, a tab or a carriage return (or equal to an error code such
as "#N/A") is written as an explicit string cell (data type "s", never a formula or error) with Excel's quotePrefix
style, so neither opening nor editing the cell evaluates it, and the cell's value is exactly the original text.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from data.flags import WITHHELD_TEXT
from exports import tables
from exports.tables import ExportSet, Progress, Table, no_progress

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Texts openpyxl would store as error values ("#N/A"...) rather than text: written as text too.
_ERROR_TEXTS = frozenset(ERROR_CODES)
SHEETS = ("README", "Responses", "Codings", "Codebook", "Summary", "By group", "Quotes")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")


def clean_text(value: str) -> str:
    """Characters XML cannot hold (control characters other than tab, LF, CR) become U+FFFD; all else is kept."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


def is_formula_like(value: str) -> bool:
    return value.startswith(FORMULA_TRIGGERS)


def _text_cell(ws: Any, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    cell.quotePrefix = True  # Excel/LibreOffice keep it text even when the cell is edited
    return cell


def _row(ws: Any, values: tuple[Any, ...]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v.__class__ is str and v:
            if not v.isprintable() and ILLEGAL_CHARACTERS_RE.search(v):  # isprintable: a fast C pre-check
                v = clean_text(v)
            if v[0] in "=+-@\t\r" or v in _ERROR_TEXTS:
                out.append(_text_cell(ws, v))
                continue
        out.append(v)
    return out


def _header(ws: Any, headers: list[str]) -> list[WriteOnlyCell]:
    cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="top")
        cells.append(cell)
    return cells


def _sheet(wb: Workbook, table: Table, progress: Progress, start: float, span: float) -> int:
    ws = wb.create_sheet(table.name)
    for i, width in enumerate(table.widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    ws.append(_header(ws, table.headers))
    n = 0
    step = max(1, table.count // 20)
    for values in table.rows():
        row = _row(ws, values)
        for col, number_format in table.formats.items():
            if isinstance(row[col], (int, float)):
                cell = WriteOnlyCell(ws, value=row[col])
                cell.number_format = number_format
                row[col] = cell
        ws.append(row)
        n += 1
        if n % step == 0:
            progress(start + span * min(1.0, n / max(table.count, 1)), f"{table.name}: {n:,} rows")
    last = get_column_letter(len(table.headers))
    ws.auto_filter.ref = f"A1:{last}{n + 1}"
    return n


def _readme(wb: Workbook, ex: ExportSet, tabs: list[Table]) -> None:
    ws = wb.create_sheet("README")
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 110
    ws.append(_header(ws, ["Thrive Voices export", ""]))
    rows: list[tuple[Any, Any]] = [
        ("Generated (UTC)", ex.generated_at),
        ("Answer texts", "Original texts as entered (admin export) beside the redacted texts" if ex.originals
         else "Redacted: personal details replaced by placeholders such as [phone]"),
        ("Safeguarding", f"An answer under a safeguarding flag shows {WITHHELD_TEXT} instead of its text (original "
                         "included) and is never quoted, until the safeguarding lead releases it; it still counts in "
                         "every figure"),
        ("Small cells", f"Counts of 1 to {ex.threshold - 1} respondents are shown as \"<{ex.threshold}\" in Summary "
                        "and By group"),
        ("Formula safety", "Text beginning with = + - @, a tab or a carriage return is stored as text, never as a "
                           "formula; the cell holds exactly what was typed"),
        ("", ""),
        ("Filters applied", ""),
        *[(f"  {k}", v) for k, v in ex.filters.items()],
        ("", ""),
        ("Counts", ""),
        *[(f"  {k}", int(v)) for k, v in ex.counts.items()],
        ("", ""),
        ("Sheets", ""),
        *[(f"  {t.name}", f"{t.description} ({t.count:,} rows)") for t in tabs],
    ]
    for key, value in rows:
        ws.append(_row(ws, (key, value)))
    ws.freeze_panes = "A2"


def compare_sheet(cmp: Any, name_a: str, name_b: str, threshold: int) -> Table:
    """The "Compare" sheet: analysis.findings.compare_rounds as rows, shares and changes left blank where a count
    is under the small-number threshold (the counts then shown as "<threshold"). Counts and bases are people and
    post-its (each post-it one anonymous voice, as in the Themes view); the last four columns say how many of them
    are post-its."""
    headers = ["question_id", "question", "code", "label", f"people and post-its {name_a}", f"base {name_a}",
               f"share {name_a}", f"people and post-its {name_b}", f"base {name_b}", f"share {name_b}", "change",
               "change_95ci_low", "change_95ci_high", "status", "could_be_chance", f"of them post-its {name_a}",
               f"post-its in base {name_a}", f"of them post-its {name_b}", f"post-its in base {name_b}"]

    def number(value: Any) -> float | None:
        return None if value is None or value != value else float(value)  # NaN -> blank

    def count(value: Any) -> int | str:  # a post-it count under the threshold, like any count
        return f"<{threshold}" if 0 < int(value) < threshold else int(value)

    def rows() -> Any:
        for r in cmp.itertuples():
            hide = bool(r.suppressed)
            yield (r.question_id, r.question, r.code, r.label, r.shown_a, int(r.base_a) if r.base_a >= threshold
                   or r.base_a == 0 else f"<{threshold}", None if hide else number(r.share_a), r.shown_b,
                   int(r.base_b) if r.base_b >= threshold or r.base_b == 0 else f"<{threshold}",
                   None if hide else number(r.share_b), None if hide else number(r.change),
                   None if hide else number(r.ci_low), None if hide else number(r.ci_high), r.status,
                   "" if hide or r.status == "not comparable" else ("no" if r.clear else "yes"),
                   count(r.postits_a), count(r.postit_base_a), count(r.postits_b), count(r.postit_base_b))

    return Table("Compare", f"{name_a} compared with {name_b}: per question and code, the people and post-its "
                 "raising it (a transcribed flipchart post-it is an anonymous answer, counted once, never as a "
                 "person; the last columns say how many are post-its), the base (people and post-its with a coded "
                 "answer to the question) and the share in each round, the change "
                 f"({name_a} minus {name_b}) and its 95 % interval (Newcombe, from Wilson intervals); 'could be "
                 "chance' when the interval includes 0. Status: both, appeared (nobody in the second round), "
                 f"vanished (nobody in the first), not comparable (no coded answers to the question in one round). "
                 f"Counts under {threshold} are shown as \"<{threshold}\" and their shares left blank.", headers,
                 [14, 40, 24, 34, 14, 10, 10, 14, 10, 10, 10, 12, 12, 14, 12, 12, 12, 12, 12], rows, len(cmp),
                 {6: "0.0%", 9: "0.0%", 10: "+0.0%;-0.0%", 11: "+0.0%;-0.0%", 12: "+0.0%;-0.0%"})


def write_workbook(ex: ExportSet, target: str | Path | IO[bytes], progress: Progress = no_progress,
                   compare: Table | None = None) -> dict[str, int]:
    """Write the workbook to a path or binary file object; return rows written per sheet. `compare`
    (compare_sheet) adds a "Compare" sheet after the others."""
    wb = Workbook(write_only=True)
    tabs = tables.all_tables(ex) + ([compare] if compare is not None else [])
    progress(0.02, "Preparing tables")
    _readme(wb, ex, tabs)
    written: dict[str, int] = {}
    weights = {"Responses": 0.5, "Codings": 0.27}  # with 4 small sheets at 0.0375: ends at 0.97
    start = 0.05
    for t in tabs:
        span = weights.get(t.name, 0.15 / 4)
        written[t.name] = _sheet(wb, t, progress, start, span)
        start += span
    progress(0.97, "Saving the workbook")
    wb.save(target)
    progress(1.0, "Workbook ready")
    return written


def workbook_bytes(ex: ExportSet, progress: Progress = no_progress, compare: Table | None = None) -> bytes:
    import io

    buffer = io.BytesIO()
    write_workbook(ex, buffer, progress, compare)
    return buffer.getvalue()


def bare_dump(tabs: list[Table], target: str | Path | IO[bytes]) -> None:
    """The same cells written with no styling or safety (the benchmark's floor)."""
    wb = Workbook(write_only=True)
    for t in tabs:
        ws = wb.create_sheet(t.name)
        ws.append(t.headers)
        for values in t.rows():
            ws.append(values)
    wb.save(target)
