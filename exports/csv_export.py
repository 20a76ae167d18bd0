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

from exports import tables
from exports.tables import ExportSet, Progress, no_progress

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


def write_csv(ex: ExportSet, target: str | Path | IO[bytes], progress: Progress = no_progress) -> int:
    """Write one row per answer (the Responses table) to a path or binary file; return the rows written.

    Written column-wise in chunks of tables.CHUNK_ROWS rows (csv.writer.writerows per chunk), so neither a
    Python call per cell nor the whole table in memory at once."""
    table = tables.responses(ex)
    close = False
    if isinstance(target, (str, Path)):
        handle: IO[bytes] = open(target, "wb")  # noqa: SIM115 - closed below
        close = True
    else:
        handle = target
    try:
        handle.write(codecs.BOM_UTF8)
        n = 0
        for cols in [[[h] for h in table.headers], *tables.response_chunks(ex)]:
            buffer = io.StringIO()  # one encode per chunk, not per row
            csv.writer(buffer, lineterminator="\r\n").writerows(zip(*[_column(c) for c in cols], strict=True))
            handle.write(buffer.getvalue().encode("utf-8"))
            n += len(cols[0])
            progress((n - 1) / max(table.count, 1), f"{n - 1:,} answers")
        n -= 1  # the header row
    finally:
        if close:
            handle.close()
    progress(1.0, "CSV ready")
    return n


def csv_bytes(ex: ExportSet, progress: Progress = no_progress) -> bytes:
    buffer = io.BytesIO()
    write_csv(ex, buffer, progress)
    return buffer.getvalue()
