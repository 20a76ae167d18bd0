"""Export files: safe file names (a name typed by a person never escapes its folder) and small CSV writes.

`safe_filename` cleans a single name; `safe_path` joins it to a folder and checks the result stays inside;
`csv_export` writes rows as UTF-8 CSV to a path or file object and returns the bytes.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

#: Device names Windows reserves, with or without an extension ("CON.txt" is still the console).
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{i}" for i in range(1, 10)} | {f"LPT{i}" for i in range(1, 10)}
    | {f"COM{c}" for c in "¹²³"} | {f"LPT{c}" for c in "¹²³"}
)
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
MAX_NAME_CHARS = 120


def safe_filename(name: str, default: str = "export") -> str:
    """A plain file name from `name`: no folders, no NUL or control characters, no characters Windows refuses,
    not a Windows device name, no leading dot (hidden files, "..") and at most 120 characters (extension kept).

    >>> safe_filename("../../etc/passwd")
    'etc_passwd'
    """
    text = unicodedata.normalize("NFC", str(name or ""))
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\s+", " ", text)
    # no leading/trailing dots, spaces or underscores: ".." and ".bashrc" lose their dots, Windows drops trailing ones
    text = text.strip(" ._")
    text = re.sub(r"_+", "_", text)
    if not text:
        text = default
    stem, dot, ext = text.rpartition(".")
    if not dot:
        stem, ext = text, ""
    if stem.split(".")[0].strip().upper() in WINDOWS_RESERVED:
        stem = "_" + stem
    ext = ext[:16]
    room = MAX_NAME_CHARS - (len(ext) + 1 if ext else 0)
    stem = stem[:room].rstrip(" .")
    return f"{stem}.{ext}" if ext else stem


def safe_path(folder: str | Path, name: str, default: str = "export") -> Path:
    """`folder / safe_filename(name)`, checked to lie inside `folder` (raises ValueError otherwise)."""
    base = Path(folder).resolve()
    target = (base / safe_filename(name, default)).resolve()
    if target.parent != base:
        raise ValueError(f"{name!r} would be written outside {base}")
    return target


def csv_export(header: Sequence[str], rows: Iterable[Sequence[Any]], target: IO[bytes] | Path | None = None) -> bytes:
    """`header` and `rows` as UTF-8 CSV ("\\n" line ends), written to `target` if given, and returned as bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    if isinstance(target, Path):
        target.write_bytes(data)
    elif target is not None:
        target.write(data)
    return data
