"""Safe file names for exports: a name typed by a person or built from an event name never escapes its folder.

`safe_filename` cleans a single name; `safe_path` joins it to a folder and checks the result stays inside.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

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
