"""Local accounts: argon2-hashed passwords (or short PINs for peer researchers), sign-in with lock-out.

Secrets are never stored or logged in clear; every sign-in and failure goes to the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlite_utils import Database

from data import audit
from data.db import now_utc, transaction
from data.users import ROLES, PermissionDenied, User, require

MAX_FAILED_ATTEMPTS = 5
LOCKOUT_MINUTES = 15
#: Roles whose holders may sign in with a short PIN instead of a password.
PIN_ROLES = ("peer_researcher",)
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,40}$")
_PIN = re.compile(r"^\d{4,8}$")
_hasher = PasswordHasher()


class AccountError(ValueError):
    """An account could not be created or changed; the message says why."""


class SignInError(ValueError):
    """Sign-in refused. The message never says whether the name or the secret was wrong."""


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    roles: tuple[str, ...]
    secret_kind: str
    is_demo: bool
    disabled: bool
    locked_until: str | None
    last_sign_in: str | None


def check_secret(secret: str, kind: str) -> None:
    """Raise AccountError if a password or PIN is too weak to issue."""
    if kind == "pin":
        if not _PIN.match(secret or ""):
            raise AccountError("A PIN is 4 to 8 digits.")
        if _guessable_pin(secret):
            raise AccountError("That PIN is too easy to guess (all one digit, or a run like 1234 or 4321). Choose another.")
    elif kind == "password":
        if len(secret or "") < 10:
            raise AccountError("A password needs at least 10 characters.")
    else:
        raise AccountError(f"Unknown secret kind {kind!r}.")


def _guessable_pin(pin: str) -> bool:
    """All one digit, or a run up or down (1234, 9876, 0123...): the first PINs anyone tries."""
    digits = [int(c) for c in pin]
    steps = {b - a for a, b in zip(digits, digits[1:], strict=False)}
    return len(steps) == 1 and steps <= {-1, 0, 1}


def check_roles_for_kind(roles: list[str] | tuple[str, ...], kind: str) -> None:
    """A short PIN protects only a peer researcher's account: any other role needs a password."""
    if kind == "pin" and set(roles) - set(PIN_ROLES):
        raise AccountError("A PIN can only sign in a peer researcher. Other roles see answers and need a password.")


def _roles(roles: list[str] | tuple[str, ...]) -> list[str]:
    clean = sorted(set(roles))
    if not clean:
        raise AccountError("Give the account at least one role.")
    unknown = [r for r in clean if r not in ROLES]
    if unknown:
        raise AccountError(f"Unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}.")
    return clean


def has_admin(db: Database) -> bool:
    """Whether any enabled admin account exists (the first-run screen shows until one does)."""
    for (roles,) in db.execute("SELECT roles FROM users WHERE disabled = 0"):
        if "admin" in json.loads(roles):
            return True
    return False


def create_user(db: Database, actor: User | None, username: str, secret: str, roles: list[str] | tuple[str, ...],
                *, kind: str = "password", display_name: str = "", is_demo: bool = False) -> Account:
    """Create an account. `actor` must be an admin, except for the very first admin (actor None)."""
    if actor is None:
        if has_admin(db):
            raise PermissionDenied(None, "manage_users")
        if "admin" not in roles:
            raise AccountError("The first account must be an admin: it then adds everyone else.")
    else:
        require(actor, "manage_users")
    if not _USERNAME.match(username or ""):
        raise AccountError("A username is 2 to 40 letters, digits, dots, dashes or underscores.")
    clean_roles = _roles(roles)
    check_secret(secret, kind)
    check_roles_for_kind(clean_roles, kind)
    if db.execute("SELECT 1 FROM users WHERE lower(username) = lower(?)", [username]).fetchone():
        raise AccountError(f"The username {username!r} is taken.")
    with transaction(db):
        db.execute(
            "INSERT INTO users (username, display_name, roles, secret_hash, secret_kind, is_demo, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [username, display_name, json.dumps(clean_roles), _hasher.hash(secret), kind, int(is_demo), now_utc()],
        )
        audit.record(db, actor.username if actor else username, "user_created", "user", username, roles=clean_roles,
                     kind=kind, demo=is_demo)
    return get_account(db, username)


def get_account(db: Database, username: str) -> Account:
    row = db.execute(
        "SELECT username, display_name, roles, secret_kind, is_demo, disabled, locked_until, last_sign_in "
        "FROM users WHERE lower(username) = lower(?)", [username]
    ).fetchone()
    if row is None:
        raise AccountError(f"No account called {username!r}.")
    return Account(row[0], row[1], tuple(json.loads(row[2])), row[3], bool(row[4]), bool(row[5]), row[6], row[7])


def list_accounts(db: Database, actor: User) -> list[Account]:
    require(actor, "manage_users")
    names = [r[0] for r in db.execute("SELECT username FROM users ORDER BY username")]
    return [get_account(db, n) for n in names]


def sign_in(db: Database, username: str, secret: str, *, now: dt.datetime | None = None) -> User:
    """Check a username and password/PIN; after MAX_FAILED_ATTEMPTS failures the account locks for a while."""
    now = now or dt.datetime.now(dt.UTC)
    row = db.execute(
        "SELECT username, display_name, roles, secret_hash, failed_attempts, locked_until, disabled, is_demo "
        "FROM users WHERE lower(username) = lower(?)", [(username or "").strip()]
    ).fetchone()
    refusal = "That name and password or PIN don't match. Check them and try again."
    if row is None:
        _hasher.hash(secret or "x")  # spend the same time as a real check, so names cannot be probed by timing
        with transaction(db):
            # the typed name is not logged: people often type their password into the name box
            audit.record(db, None, "sign_in_failed", "user", None, why="unknown user")
        raise SignInError(refusal)
    name, display, roles, secret_hash, failed, locked_until, disabled, is_demo = row
    if disabled:
        with transaction(db):
            audit.record(db, None, "sign_in_failed", "user", name, why="disabled")
        raise SignInError("This account is switched off. Ask an admin.")
    if locked_until and dt.datetime.fromisoformat(locked_until) > now:
        with transaction(db):
            audit.record(db, None, "sign_in_failed", "user", name, why="locked")
        minutes = max(1, int((dt.datetime.fromisoformat(locked_until) - now).total_seconds() // 60) + 1)
        raise SignInError(f"Too many wrong tries: this account is locked for about {minutes} more minute(s), or until an admin unlocks it.")
    try:
        _hasher.verify(secret_hash, secret or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        failed += 1
        lock = (now + dt.timedelta(minutes=LOCKOUT_MINUTES)).isoformat() if failed >= MAX_FAILED_ATTEMPTS else None
        with transaction(db):
            db.execute("UPDATE users SET failed_attempts = ?, locked_until = ? WHERE username = ?",
                       [0 if lock else failed, lock, name])
            audit.record(db, None, "sign_in_failed", "user", name, why="wrong secret", locked=bool(lock))
        if lock:
            raise SignInError(f"Too many wrong tries: this account is locked for {LOCKOUT_MINUTES} minutes.") from None
        raise SignInError(refusal) from None
    with transaction(db):
        db.execute("UPDATE users SET failed_attempts = 0, locked_until = NULL, last_sign_in = ? WHERE username = ?",
                   [now.isoformat(), name])
        if _hasher.check_needs_rehash(secret_hash):
            db.execute("UPDATE users SET secret_hash = ? WHERE username = ?", [_hasher.hash(secret), name])
        audit.record(db, name, "signed_in", "user", name)
    return User(name, frozenset(json.loads(roles)), display, bool(is_demo))


def _existing(db: Database, username: str) -> Account:
    return get_account(db, username)


def _enabled_admins(db: Database) -> list[str]:
    return [name for name, roles in db.execute("SELECT username, roles FROM users WHERE disabled = 0")
            if "admin" in json.loads(roles)]


def _keep_an_admin(db: Database, username: str) -> None:
    """Refuse a change that would leave no enabled admin (nobody could manage accounts any more)."""
    if _enabled_admins(db) == [get_account(db, username).username]:
        raise AccountError("This is the only enabled admin account: add another admin first.")


def unlock(db: Database, actor: User, username: str) -> Account:
    """Clear failed attempts and any lock-out (admins)."""
    require(actor, "manage_users")
    account = _existing(db, username)
    with transaction(db):
        db.execute("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE username = ?", [account.username])
        audit.record(db, actor, "user_unlocked", "user", account.username)
    return get_account(db, account.username)


def reset_secret(db: Database, actor: User, username: str, secret: str, *, kind: str | None = None) -> Account:
    """Issue a new password or PIN (admins); also clears any lock-out."""
    require(actor, "manage_users")
    account = _existing(db, username)
    kind = kind or account.secret_kind
    check_secret(secret, kind)
    check_roles_for_kind(account.roles, kind)
    with transaction(db):
        db.execute("UPDATE users SET secret_hash = ?, secret_kind = ?, failed_attempts = 0, locked_until = NULL "
                   "WHERE username = ?", [_hasher.hash(secret), kind, account.username])
        audit.record(db, actor, "secret_reset", "user", account.username, kind=kind)
    return get_account(db, account.username)


def set_disabled(db: Database, actor: User, username: str, disabled: bool = True) -> Account:
    """Switch an account off (it can no longer sign in; its history stays) or on again (admins)."""
    require(actor, "manage_users")
    account = _existing(db, username)
    if disabled and "admin" in account.roles and not account.disabled:
        _keep_an_admin(db, account.username)
    with transaction(db):
        db.execute("UPDATE users SET disabled = ? WHERE username = ?", [int(disabled), account.username])
        audit.record(db, actor, "user_disabled" if disabled else "user_enabled", "user", account.username)
    return get_account(db, account.username)


def set_roles(db: Database, actor: User, username: str, roles: list[str] | tuple[str, ...]) -> Account:
    """Replace an account's roles (admins). The last enabled admin keeps the admin role."""
    require(actor, "manage_users")
    account = _existing(db, username)
    clean = _roles(roles)
    check_roles_for_kind(clean, account.secret_kind)
    if "admin" in account.roles and "admin" not in clean and not account.disabled:
        _keep_an_admin(db, account.username)
    with transaction(db):
        db.execute("UPDATE users SET roles = ? WHERE username = ?", [json.dumps(clean), account.username])
        audit.record(db, actor, "roles_changed", "user", account.username, before=list(account.roles), after=clean)
    return get_account(db, account.username)


def change_own_secret(db: Database, user: User, current: str, new: str) -> None:
    """A signed-in user changes their own password (or PIN), after typing the current one again."""
    row = db.execute("SELECT username, secret_hash, secret_kind, disabled FROM users WHERE username = ?",
                     [user.username]).fetchone()
    if row is None or row[3]:
        raise AccountError("Your account could not be found or is switched off. Ask an admin.")
    name, secret_hash, kind, _ = row
    try:
        _hasher.verify(secret_hash, current or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        with transaction(db):
            audit.record(db, name, "secret_change_failed", "user", name, why="current secret wrong")
        raise AccountError("Your current password or PIN is not right. Nothing was changed.") from None
    check_secret(new, kind)
    if new == current:
        raise AccountError("The new one is the same as the current one.")
    with transaction(db):
        db.execute("UPDATE users SET secret_hash = ? WHERE username = ?", [_hasher.hash(new), name])
        audit.record(db, name, "secret_changed", "user", name, kind=kind)


def current_user(db: Database, user: User) -> User | None:
    """The account as it is now (roles may have changed since sign-in), or None if it was disabled or removed."""
    row = db.execute("SELECT username, display_name, roles, is_demo, disabled FROM users WHERE username = ?",
                     [user.username]).fetchone()
    if row is None or row[4]:
        return None
    return User(row[0], frozenset(json.loads(row[2])), row[1], bool(row[3]))
