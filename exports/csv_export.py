"""CSV export of answers with their codes: UTF-8 with a byte-order mark so Excel reads accents and scripts.

Formula safety (a documented, reversible choice): CSV has no cell types, so a field that a spreadsheet would run
as a formula -- one starting with =, +, -, @, a tab or a carriage return -- is written with one apostrophe in
front ('=SUM(A1) is shown as text). So that this stays reversible, a field that itself starts with an apostrophe
gets one more. To recover the exact original, remove one leading apostrophe from any field that starts with one
(`unescape_field`). Everything else is written exactly as stored.
"""

from __future__ import annotations

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


def write_csv(ex: ExportSet, target: str | Path | IO[bytes], progress: Progress = no_progress) -> int:
    """Write one row per answer (the Responses table) to a path or binary file; return the rows written."""
    table = tables.responses(ex)
    close = False
    if isinstance(target, (str, Path)):
        handle: IO[bytes] = open(target, "wb")  # noqa: SIM115 - closed below
        close = True
    else:
        handle = target
    try:
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="", write_through=True)
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(table.headers)
        n = 0
        step = max(1, table.count // 20)
        for row in table.rows():
            writer.writerow([escape_field(_plain(v)) for v in row])
            n += 1
            if n % step == 0:
                progress(n / max(table.count, 1), f"{n:,} answers")
        text.flush()
        text.detach()
    finally:
        if close:
            handle.close()
    progress(1.0, "CSV ready")
    return n


def csv_bytes(ex: ExportSet, progress: Progress = no_progress) -> bytes:
    buffer = io.BytesIO()
    write_csv(ex, buffer, progress)
    return buffer.getvalue()
