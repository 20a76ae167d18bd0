"""A database that is busy, full, read-only, unreachable or damaged: plain words for people, never a traceback.

The classifier is checked on errors SQLite really raises (produced here as root too: a second connection holding
the write lock, PRAGMA max_page_count, PRAGMA query_only, a read-only URI, a folder, a text file) and on bare
exceptions; the app's sign-in form and a page that writes are checked under AppTest with the database locked.
"""

from __future__ import annotations

import errno
import sqlite3
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import config
from data import accounts, audit
from data.db import db_error_kind, describe_db_error, transaction
from data.users import User
from ui import session

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PASSWORD = "correct-horse-battery"


def _raised(call) -> BaseException:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the point is to catch what SQLite raises
        return exc
    raise AssertionError("expected an error")


@pytest.fixture
def plain_db(tmp_path) -> Path:
    path = tmp_path / "plain.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    return path


def test_busy_when_another_connection_holds_the_write_lock(plain_db):
    holder = sqlite3.connect(plain_db)
    holder.execute("BEGIN IMMEDIATE")
    try:
        waiter = sqlite3.connect(plain_db, timeout=0.05)
        exc = _raised(lambda: waiter.execute("BEGIN IMMEDIATE"))
    finally:
        holder.rollback()
    assert db_error_kind(exc) == "busy"
    assert "busy" in describe_db_error(exc) and "try again" in describe_db_error(exc)


def test_full_when_the_file_may_not_grow(plain_db):
    conn = sqlite3.connect(plain_db)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    exc = _raised(lambda: conn.execute("INSERT INTO t VALUES (randomblob(100000))"))
    assert db_error_kind(exc) == "full"
    assert "full" in describe_db_error(exc)


@pytest.mark.parametrize("how", ["query_only", "uri"])
def test_read_only(plain_db, how):
    if how == "uri":
        conn = sqlite3.connect(f"file:{plain_db}?mode=ro", uri=True)
    else:
        conn = sqlite3.connect(plain_db)
        conn.execute("PRAGMA query_only = 1")
    exc = _raised(lambda: conn.execute("INSERT INTO t VALUES (1)"))
    assert db_error_kind(exc) == "readonly"
    assert "read-only" in describe_db_error(exc)


def test_cannot_open_and_damaged(tmp_path):
    folder = tmp_path / "a_folder"
    folder.mkdir()
    assert db_error_kind(_raised(lambda: sqlite3.connect(folder).execute("SELECT 1"))) == "cantopen"
    text = tmp_path / "notes.db"
    text.write_text("shopping list: " * 200, encoding="utf-8")
    exc = _raised(lambda: sqlite3.connect(text).execute("SELECT * FROM sqlite_master").fetchall())
    assert db_error_kind(exc) == "corrupt"
    assert str(text) not in describe_db_error(exc)


@pytest.mark.parametrize(("exc", "kind"), [
    (sqlite3.OperationalError("database is locked"), "busy"),
    (sqlite3.OperationalError("database or disk is full"), "full"),
    (sqlite3.OperationalError("attempt to write a readonly database"), "readonly"),
    (sqlite3.OperationalError("unable to open database file"), "cantopen"),
    (sqlite3.OperationalError("disk I/O error"), "ioerror"),
    (sqlite3.DatabaseError("database disk image is malformed"), "corrupt"),
    (OSError(errno.ENOSPC, "No space left on device", "/srv/thrive/thrive.db.bak-1"), "full"),
    (OSError(errno.EROFS, "Read-only file system", "/srv/thrive/thrive.db"), "readonly"),
])
def test_bare_exceptions_are_recognised_by_message_or_errno(exc, kind):
    assert db_error_kind(exc) == kind
    message = describe_db_error(exc)
    assert message and "/srv" not in message and "Error" not in message


@pytest.mark.parametrize("exc", [
    sqlite3.OperationalError("no such table: respondents"),  # a bug, not the disk: it must stay visible
    sqlite3.IntegrityError("UNIQUE constraint failed: users.username"),
    OSError(errno.ENOENT, "No such file or directory"),
    ValueError("database is locked"),  # right words, wrong kind of error
    KeyError("x"),
])
def test_anything_else_is_not_dressed_up(exc):
    assert db_error_kind(exc) is None and describe_db_error(exc) is None


# --- the app --------------------------------------------------------------------------------------------------------

def _visible_text(at: AppTest) -> str:
    parts = []
    for kind in ("markdown", "text", "caption", "title", "info", "warning", "error", "success", "exception", "code"):
        parts += [str(getattr(e, "value", "")) for e in getattr(at, kind, [])]
    return "\n".join(parts)


@pytest.fixture
def locked(db, db_path, monkeypatch):
    """An admin account, then another connection holding the write lock (an import, say); writers wait 0.2 s."""
    accounts.create_user(db, None, "ada", PASSWORD, ["admin"])
    monkeypatch.setattr(config, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(db_path)
    holder.execute("BEGIN IMMEDIATE")
    yield db_path, holder
    holder.rollback()
    holder.close()


def test_sign_in_while_the_database_is_locked_says_busy(locked):
    path, holder = locked
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.text_input[0].input("ada")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert session.USER_KEY not in at.session_state
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "database is busy" in errors[0]
    text = _visible_text(at)
    assert "Traceback" not in text and "database is locked" not in text and str(path) not in text
    assert ".py" not in text
    assert [b.label for b in at.button] == ["Sign in"]  # the form is still there to try again
    assert holder.execute("SELECT failed_attempts FROM users WHERE username = 'ada'").fetchone()[0] == 0
    holder.rollback()  # the import finishes: the same form now signs in
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception and at.session_state[session.USER_KEY].username == "ada"


def test_a_page_that_writes_while_the_database_is_locked_says_busy(locked, monkeypatch):
    """Any page, any core call: the frame turns the real "database is locked" into plain words."""
    path, _holder = locked
    listed = accounts.list_accounts

    def list_accounts_after_a_write(db, actor):  # the admin page, as if it recorded something when opened
        with transaction(db):
            audit.record(db, actor, "opened_admin_page")
        return listed(db, actor)

    monkeypatch.setattr(accounts, "list_accounts", list_accounts_after_a_write)
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state[session.USER_KEY] = User("ada", frozenset({"admin"}))
    at.session_state[session.LAST_SEEN_KEY] = time.time()
    at.run()
    at.switch_page("pages/admin.py")
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [describe_db_error(sqlite3.OperationalError("database is locked"))]
    text = _visible_text(at)
    assert "Traceback" not in text and str(path) not in text and ".py" not in text
    assert any(b.label == "Sign out" for b in at.sidebar.button)  # still signed in, with the navigation around


def test_a_bug_on_a_page_is_still_a_bug(db, monkeypatch):
    """Only storage failures get the friendly words: any other error stays visible as an error."""
    accounts.create_user(db, None, "ada", PASSWORD, ["admin"])

    def broken(db, actor):
        raise sqlite3.OperationalError("no such column: usernme")

    monkeypatch.setattr(accounts, "list_accounts", broken)
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state[session.USER_KEY] = User("ada", frozenset({"admin"}))
    at.session_state[session.LAST_SEEN_KEY] = time.time()
    at.run()
    at.switch_page("pages/admin.py")
    at.run()
    assert at.exception and "no such column" in at.exception[0].message
