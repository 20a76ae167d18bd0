"""CSV export of answers with their codes: UTF-8 with a byte-order mark so Excel reads accents and scripts.

Formula safety (a documented, reversible choice): CSV has no cell types, so a field that a spreadsheet would run
as a formula -- one starting with =, +, -, @, a tab or a carriage return -- is written with one apostrophe in
front ('=SUM(A1) is shown as text). So that this stays reversible, a field that itself starts with an apostrophe
gets one more. To recover the exact original, remove one leading apostrophe from any field that starts with one
(`unescape_field`). Everything else is written exactly as stored.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from exports import tables
from exports.tables import ExportSet, Progress, _datetimes, no_progress

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")


def escape_field(value: Any) -> Any:
    """A field made inert for spreadsheets (see the module docstring); non-text passes through."""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


def unescape_field(value: str) -> str:
    """The original text of a field written by escape_field."""
    return value[1:] if value.startswith("'") else value


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _column(values: list[Any]) -> list[Any]:
    """One column's cells made plain and formula-safe (escape_field(_plain(v))), the common text case inline."""
    first = next((v for v in values if v is not None), None)
    if first.__class__ is dt.datetime:
        return ["" if v is None else v.isoformat(sep=" ") if v.__class__ is dt.datetime else escape_field(_plain(v))
                for v in values]
    if first.__class__ is dt.date:
        return ["" if v is None else v.isoformat() if v.__class__ is dt.date else escape_field(_plain(v))
                for v in values]
    return [v if v.__class__ is str and not v.startswith(TRIGGERS) else escape_field(_plain(v)) for v in values]


#: A text cell csv.writer (QUOTE_MINIMAL, "\r\n" line ends) would quote: it holds , " CR or LF.
_NEEDS_QUOTES = r'[,"\r\n]'
#: escape_field's triggers as one regular expression (RE2 syntax, for pyarrow).
_TRIGGER_RE = "^[=+\\-@\t\r']"
#: A stored UTC timestamp that is written as its first 10 and characters 12-19 ("2026-11-20 14:05:12").


def _s(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _text_cells(values: pa.Array) -> pa.Array:
    """A text column as CSV fields: formula-safe (escape_field) and quoted as csv.writer quotes; null -> ""."""
    values = pc.fill_null(pc.cast(values, pa.large_string()), _s(""))
    values = pc.if_else(pc.match_substring_regex(values, _TRIGGER_RE),
                        pc.binary_join_element_wise(_s("'"), values, _s("")), values)
    quoted = pc.binary_join_element_wise(_s('"'), pc.replace_substring(values, '"', '""'), _s('"'), _s(""))
    return pc.if_else(pc.match_substring_regex(values, _NEEDS_QUOTES), quoted, values)


def _mapped_cells(values: pa.Array, fn: Any) -> pa.Array:
    """A column with few distinct values (dates, labels) through fn once per distinct value."""
    encoded = pc.dictionary_encode(values)
    mapped = pa.array([None if (v := fn(d)) is None else str(v) for d in encoded.dictionary.to_pylist()],
                      type=pa.large_string())
    out = mapped.take(encoded.indices)
    missing = fn(None)
    return out if missing is None else pc.fill_null(out, _s(str(missing)))


def _plain_date(value: Any) -> str:
    date = tables._date(value) if value is not None else None
    return "" if date is None else date.isoformat()


def _datetime_cells(values: pa.Array) -> pa.Array:
    """Stored UTC ISO timestamps as "YYYY-MM-DD HH:MM:SS" (tables._datetimes then isoformat(sep=" ")): the common
    form by slicing, checked by pyarrow's parser (a stamp must print back as itself); anything else through tables._datetimes itself."""
    values, stamp, slow = tables.utc_stamps(values)
    out = pc.binary_join_element_wise(pc.utf8_slice_codeunits(stamp, 0, 10), pc.utf8_slice_codeunits(stamp, 11, 19),
                                      _s(" "))
    if not len(slow):
        return out
    redo = _datetimes(pd.Series(values.take(pa.array(slow)).to_pylist(), dtype=object))
    cells = out.to_pylist()
    for i, value in zip(slow.tolist(), redo, strict=True):
        cells[i] = "" if value is None else value.isoformat(sep=" ")
    return pa.array(cells, type=pa.large_string())


def _lines(columns: list[pa.Array]) -> bytes:
    """CSV lines ("\r\n" after each) of ready fields, as UTF-8 bytes: one element-wise join in pyarrow."""
    joined = pc.binary_join_element_wise(*[pc.cast(c, pa.large_string()) for c in columns], _s(","))
    joined = pc.binary_join_element_wise(joined, _s(""), _s("\r\n"))
    if isinstance(joined, pa.ChunkedArray):
        joined = joined.combine_chunks()
    joined = pc.cast(joined, pa.large_string())
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int64)[joined.offset:joined.offset + len(joined) + 1]
    return joined.buffers()[2].to_pybytes()[offsets[0]:offsets[-1]]


def write_csv(ex: ExportSet, target: str | Path | IO[bytes], progress: Progress = no_progress) -> int:
    """Write one row per answer (the Responses table) to a path or binary file; return the rows written.

    Streamed in chunks of tables.CHUNK_ROWS kept answers, each column escaped and quoted as a whole in pyarrow
    (the same bytes as csv.writer over tables.responses(ex).rows() with escape_field: tests/test_export_xlsx.py),
    so neither a Python call per cell nor the whole table in memory at once."""
    table = tables.responses(ex)
    close = False
    if isinstance(target, (str, Path)):
        handle: IO[bytes] = open(target, "wb")  # noqa: SIM115 - closed below
        close = True
    else:
        handle = target
    a, keep = ex.prep.answers, np.flatnonzero(ex.sel.mask)
    codes = tables.codes_column(ex)
    qlabels, glabels = ex.prep.questions, ex.prep.groups
    text_columns = ["response_id", "respondent_id", "event_name"]
    tail = ["text"] + (["original_text"] if ex.originals else [])
    try:
        handle.write(codecs.BOM_UTF8)
        header = io.StringIO()
        csv.writer(header, lineterminator="\r\n").writerow([escape_field(h) for h in table.headers])
        handle.write(header.getvalue().encode("utf-8"))
        n = 0
        for start in range(0, len(keep), tables.CHUNK_ROWS):
            rows = keep[start:start + tables.CHUNK_ROWS]
            part = a.iloc[rows]
            take = pa.array(rows)
            qids = tables.arrow(part["question_id"])
            cells = [_text_cells(tables.arrow(part[c])) for c in text_columns]
            cells.append(_mapped_cells(tables.arrow(part["event_date"]), _plain_date))
            cells.append(_text_cells(qids))
            cells.append(_text_cells(_mapped_cells(qids, lambda q: qlabels.get(q, q) if q is not None else None)))
            cells.append(_text_cells(_mapped_cells(tables.arrow(part["group_id"]),
                                                   lambda g: glabels.get(g, g) if g is not None else None)))
            cells += [_text_cells(tables.arrow(part[c])) for c in tail]
            cells.append(_text_cells(codes.take(take)))
            cells.append(_datetime_cells(tables.arrow(part["created_at"])))
            handle.write(_lines(cells))
            n += len(rows)
            progress(n / max(table.count, 1), f"{n:,} answers")
    finally:
        if close:
            handle.close()
    progress(1.0, "CSV ready")
    return n


def csv_bytes(ex: ExportSet, progress: Progress = no_progress) -> bytes:
    buffer = io.BytesIO()
    write_csv(ex, buffer, progress)
    return buffer.getvalue()
