"""Sign-in sessions that outlive a browser tab or a server process: a random token in the browser's cookie, its
SHA-256 in the `sessions` table, revoked at sign-out, by an admin, on disabling, a role change or going idle.

The token itself is never stored, logged or audited: the audit and the admin page name a session by its id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass

from sqlite_utils import Database

from data import audit
from data.db import transaction
from data.users import User, require

#: The cookie that carries the token (read back through st.context.cookies).
COOKIE_NAME = "thrive_session"
#: Longest token accepted from a cookie (token_urlsafe(32) gives 43 characters).
_MAX_TOKEN_CHARS = 128
#: last_seen is written at most this often for an active session (a write per rerun would cost every keystroke).
TOUCH_EVERY_SECONDS = 30


@dataclass(frozen=True)
class Session:
    id: str
    username: str
    created_at: str
    last_seen: str
    user_agent: str
    revoked_at: str | None = None
    revoked_why: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class Resumed:
    """What a token from a cookie led to: a live session, or why not (`refused`: unknown, revoked, idle)."""

    session: Session | None
    refused: str | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


def user_agent_hint(user_agent: str | None) -> str:
    """A short, non-identifying description of the browser ("Chrome on Android") for the admin's session list."""
    ua = user_agent or ""
    browser = next((name for pattern, name in (
        (r"Edg/", "Edge"), (r"OPR/|Opera", "Opera"), (r"Firefox/", "Firefox"), (r"SamsungBrowser/", "Samsung Internet"),
        (r"Chrome/|Chromium/|HeadlessChrome/", "Chrome"), (r"Safari/", "Safari")) if re.search(pattern, ua)), "")
    system = next((name for pattern, name in (
        (r"Android", "Android"), (r"iPad", "iPad"), (r"iPhone", "iPhone"), (r"Windows", "Windows"),
        (r"Mac OS X|Macintosh", "Mac"), (r"CrOS", "ChromeOS"), (r"Linux", "Linux")) if re.search(pattern, ua)), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or ("unknown browser" if ua else "")


_COLUMNS = "id, username, created_at, last_seen, user_agent, revoked_at, revoked_why"


def _session(row) -> Session:
    return Session(*row)


def start(db: Database, username: str, *, user_agent: str | None = None,
          now: dt.datetime | None = None) -> tuple[str, Session]:
    """Open a session for a user who has just signed in; returns the token (for the browser only) and the session."""
    token = secrets.token_urlsafe(32)
    stamp = _stamp(_now(now))
    session = Session(str(uuid.uuid4()), username, stamp, stamp, user_agent_hint(user_agent))
    with transaction(db):
        db.execute("INSERT INTO sessions (id, token_hash, username, created_at, last_seen, user_agent) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   [session.id, token_hash(token), username, stamp, stamp, session.user_agent])
    return token, session


def get(db: Database, session_id: str) -> Session | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM sessions WHERE id = ?", [session_id]).fetchone()
    return _session(row) if row else None


def _idle(session: Session, now: dt.datetime, idle_seconds: float) -> bool:
    return (now - dt.datetime.fromisoformat(session.last_seen)).total_seconds() > idle_seconds


def resume(db: Database, token: str | None, *, idle_seconds: float, now: dt.datetime | None = None) -> Resumed:
    """The live session a browser's token belongs to; a session idle longer than `idle_seconds` is revoked now."""
    if not token or len(token) > _MAX_TOKEN_CHARS:
        return Resumed(None, "unknown")
    row = db.execute(f"SELECT {_COLUMNS} FROM sessions WHERE token_hash = ?", [token_hash(token)]).fetchone()
    if row is None:
        return Resumed(None, "unknown")
    session = _session(row)
    if not session.active:
        return Resumed(None, "revoked")
    moment = _now(now)
    if _idle(session, moment, idle_seconds):
        revoke(db, None, session.id, why="idle", now=moment)
        return Resumed(None, "idle")
    touch(db, session.id, now=moment)
    return Resumed(get(db, session.id))


def check(db: Database, session_id: str, *, idle_seconds: float, now: dt.datetime | None = None) -> str | None:
    """None if the session is still live; otherwise why not ("revoked", "idle", "unknown"). Idle ones are revoked."""
    session = get(db, session_id)
    if session is None:
        return "unknown"
    if not session.active:
        return "revoked"
    moment = _now(now)
    if _idle(session, moment, idle_seconds):
        revoke(db, None, session.id, why="idle", now=moment)
        return "idle"
    return None


def touch(db: Database, session_id: str, *, now: dt.datetime | None = None) -> None:
    """Record activity (server-side idle clock). Callers throttle this to TOUCH_EVERY_SECONDS."""
    with transaction(db):
        db.execute("UPDATE sessions SET last_seen = ? WHERE id = ? AND revoked_at IS NULL",
                   [_stamp(_now(now)), session_id])


def set_capture_event(db: Database, session_id: str, username: str, event_id: str | None) -> bool:
    """Remember the event this live session of `username` is collecting for (None: back at the event chooser).
    Returns False when there is no such live session (nothing is remembered)."""
    with transaction(db):
        cur = db.execute("UPDATE sessions SET capture_event_id = ? WHERE id = ? AND username = ? "
                         "AND revoked_at IS NULL", [event_id, session_id, username])
    return cur.rowcount > 0


def capture_event(db: Database, session_id: str, username: str) -> str | None:
    """The event this live session of `username` was last collecting for, or None (ended sessions, and another
    user's, remember nothing)."""
    row = db.execute("SELECT capture_event_id FROM sessions WHERE id = ? AND username = ? AND revoked_at IS NULL",
                     [session_id, username]).fetchone()
    return row[0] if row else None


def set_language(db: Database, session_id: str, username: str, language: str | None) -> bool:
    """Remember the interface language of this live session of `username` (None: the default). Returns False when
    there is no such live session."""
    with transaction(db):
        cur = db.execute("UPDATE sessions SET language = ? WHERE id = ? AND username = ? AND revoked_at IS NULL",
                         [language, session_id, username])
    return cur.rowcount > 0


def language(db: Database, session_id: str, username: str) -> str | None:
    """The interface language this live session of `username` chose, or None."""
    row = db.execute("SELECT language FROM sessions WHERE id = ? AND username = ? AND revoked_at IS NULL",
                     [session_id, username]).fetchone()
    return row[0] if row else None


def _forget_drafts(db: Database, session_ids: list[str]) -> None:
    # a revoked session's half-typed form goes with it: the device may be handed to someone else
    db.conn.executemany("DELETE FROM drafts WHERE device = ?", [(s,) for s in session_ids])


def revoke(db: Database, actor: User | str | None, session_id: str, *, why: str,
           now: dt.datetime | None = None) -> bool:
    """End one session (sign-out, idle, an admin). Returns False if it was already ended. Its drafts go with it."""
    stamp = _stamp(_now(now))
    with transaction(db):
        row = db.execute("SELECT username FROM sessions WHERE id = ? AND revoked_at IS NULL", [session_id]).fetchone()
        if row is None:
            return False
        db.execute("UPDATE sessions SET revoked_at = ?, revoked_why = ? WHERE id = ?", [stamp, why, session_id])
        _forget_drafts(db, [session_id])
        audit.record(db, actor if actor is not None else row[0], "session_revoked", "session", session_id,
                     username=row[0], why=why)
    return True


def revoke_for_user(db: Database, actor: User | str | None, username: str, *, why: str,
                    now: dt.datetime | None = None) -> int:
    """End every live session of `username` (disabling, a role or secret change, an admin's revoke). Returns how
    many. Runs inside the caller's transaction when there is one."""
    stamp = _stamp(_now(now))
    with transaction(db):
        ids = [r[0] for r in db.execute("SELECT id FROM sessions WHERE username = ? AND revoked_at IS NULL",
                                        [username])]
        if ids:
            db.execute("UPDATE sessions SET revoked_at = ?, revoked_why = ? WHERE username = ? AND revoked_at IS NULL",
                       [stamp, why, username])
            _forget_drafts(db, ids)
            audit.record(db, actor, "sessions_revoked", "user", username, count=len(ids), why=why)
    return len(ids)


def list_active(db: Database, actor: User, username: str | None = None, *, idle_seconds: float | None = None,
                now: dt.datetime | None = None) -> list[Session]:
    """Live sessions, newest activity first (admins); with `idle_seconds`, sessions already idle are left out."""
    require(actor, "manage_users")
    sql = f"SELECT {_COLUMNS} FROM sessions WHERE revoked_at IS NULL"
    params: list[str] = []
    if username is not None:
        sql += " AND username = ?"
        params.append(username)
    found = [_session(r) for r in db.execute(sql + " ORDER BY last_seen DESC", params)]
    if idle_seconds is not None:
        moment = _now(now)
        found = [s for s in found if not _idle(s, moment, idle_seconds)]
    return found


def admin_revoke(db: Database, actor: User, *, username: str | None = None, session_id: str | None = None) -> int:
    """An admin ends one session or all of a user's sessions; returns how many were ended."""
    require(actor, "manage_users")
    if session_id is not None:
        return int(revoke(db, actor, session_id, why="revoked by an admin"))
    if username is None:
        raise ValueError("name a user or a session")
    return revoke_for_user(db, actor, username, why="revoked by an admin")
