"""Connections, transactions, ids and timestamps for the SQLite store.

One connection per script run or thread (never shared across Streamlit sessions), WAL mode, busy timeout.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import logging
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils
from sqlite_utils import Database

import config

log = logging.getLogger(__name__)


def now_utc() -> str:
    """The current time as a UTC ISO-8601 string with microseconds (sorts as text)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def new_id() -> str:
    """A fresh UUID4 string: ids that stay unique when databases from several laptops are merged."""
    return str(uuid.uuid4())


def new_ids(count: int) -> list[str]:
    """`count` fresh UUID4 strings at once (bulk imports: several times faster than calling new_id)."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes((b & 0x0F) | 0x40 for b in raw[6::16])  # version 4
    raw[8::16] = bytes((b & 0x3F) | 0x80 for b in raw[8::16])  # RFC 4122 variant
    h = raw.hex()
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-{h[i + 12:i + 16]}-{h[i + 16:i + 20]}-{h[i + 20:i + 32]}"
            for i in range(0, 32 * count, 32)]


def connect(path: str | Path) -> Database:
    """Open the database without migrating it (for tools that inspect an old schema)."""
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=config.BUSY_TIMEOUT_MS / 1000)
    # execute_plugins=False: no sqlite-utils plugin is part of Thrive Voices, and looking for them scans every
    # installed package's entry points (about 70 ms of each CLI command's start-up, issue 14).
    db = sqlite_utils.Database(conn, execute_plugins=False)
    db.execute(f"PRAGMA busy_timeout = {int(config.BUSY_TIMEOUT_MS)}")
    with db.ensure_autocommit_on():
        db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")
    # Checkpoint the WAL every ~16 MB rather than every 4 MB: the automatic checkpoint runs inside whichever
    # commit crosses the mark, and at the default it landed on about one save in 20 (the p95 of save latency).
    db.execute("PRAGMA wal_autocheckpoint = 4000")
    return db


def open_db(path: str | Path | None = None, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the database at `path` and apply pending migrations.

    Before migrating a database that already holds data, the file is copied to
    `<name>.bak-<timestamp>` so a failed or unwanted upgrade can be undone by hand.
    """
    from data.schema import migrations

    path = Path(path) if path is not None else config.db_path()
    existed = path.exists() and path.stat().st_size > 0
    db = connect(path)
    if migrate:
        pending = migrations.pending(db)
        if pending and existed and migrations.applied(db):
            backup(db, path)
        if pending:
            migrations.apply(db)
            log.info("applied migrations: %s", ", ".join(m.name for m in pending))
    return db


def backup(db: Database, path: Path) -> Path:
    """Copy the database file (checkpointing the WAL first) and return the backup's path."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.bak-{stamp}")
    with db.ensure_autocommit_on():
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy2(path, target)
    log.info("backed up %s to %s before migrating", path, target)
    return target


@contextlib.contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """All writes inside commit together or not at all.

    The outermost level starts with BEGIN IMMEDIATE, so a writer takes the write lock up front and
    waits (busy timeout) for other writers instead of failing half-way with "database is locked";
    nested levels become savepoints.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    else:
        try:
            db.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise


def schema_version(db: Database) -> list[str]:
    """Names of the migrations applied to this database, oldest first."""
    from data.schema import migrations

    return [m.name for m in migrations.applied(db)]


# Plain words for the database failures a person can meet (and act on); everything else stays a real error.
_DB_ERROR_MESSAGES = {
    "busy": "The database is busy: another task (an import, perhaps) is writing to it. Nothing was saved. "
            "Wait a minute and try again.",
    "full": "The disk that holds the database is full, so nothing could be saved. Free some space on it "
            "(or ask whoever looks after this computer), then try again.",
    "readonly": "The database can't be written to: the file or its folder is read-only. Nothing was saved. "
                "Ask whoever looks after this computer to check the file's permissions.",
    "cantopen": "The database file can't be opened: its folder may be missing or not allowed. "
                "Check the database path (THRIVE_DB or --db) and the folder's permissions.",
    "ioerror": "The disk reported an error while reading or writing the database. Nothing was saved. "
               "Check the disk (or ask whoever looks after this computer), then try again.",
    "corrupt": "The database file is damaged or is not a Thrive Voices database. Nothing was changed. "
               "Restore it from a backup (the .bak- copies beside it) or ask whoever looks after this computer.",
}
#: SQLite primary result codes -> the kind of failure (https://sqlite.org/rescode.html).
_SQLITE_CODES = {5: "busy", 6: "busy", 13: "full", 8: "readonly", 14: "cantopen", 10: "ioerror", 11: "corrupt",
                 26: "corrupt"}
#: The same failures recognised by their message, for errors that carry no result code.
_SQLITE_MESSAGES = (
    ("database is locked", "busy"),
    ("database table is locked", "busy"),
    ("database schema is locked", "busy"),
    ("database or disk is full", "full"),
    ("attempt to write a readonly database", "readonly"),
    ("readonly database", "readonly"),
    ("unable to open database file", "cantopen"),
    ("disk i/o error", "ioerror"),
    ("database disk image is malformed", "corrupt"),
    ("file is not a database", "corrupt"),
)
_OS_ERRNOS = {errno.ENOSPC: "full", errno.EDQUOT: "full", errno.EROFS: "readonly"}


def db_error_kind(exc: BaseException) -> str | None:
    """"busy", "full", "readonly", "cantopen", "ioerror" or "corrupt" for a storage failure; None for anything else."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(code, int) and (code & 0xFF) in _SQLITE_CODES:
            return _SQLITE_CODES[code & 0xFF]
        text = str(exc).lower()
        for needle, kind in _SQLITE_MESSAGES:
            if needle in text:
                return kind
        return None
    if isinstance(exc, OSError):
        return _OS_ERRNOS.get(exc.errno)
    return None


def describe_db_error(exc: BaseException) -> str | None:
    """A message for a person when `exc` means the database is busy, full, read-only, unreachable or damaged.

    None when `exc` is anything else (a bug stays a bug). The message names no file and holds no detail: callers
    log the exception itself.
    """
    kind = db_error_kind(exc)
    return _DB_ERROR_MESSAGES[kind] if kind else None
