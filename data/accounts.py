"""Local accounts: argon2-hashed passwords or PINs, sign-in with lock-out and an app-wide sign-in throttle.

Secrets are never stored or logged in clear; every sign-in and failure goes to the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlite_utils import Database

from data import audit, sessions
from data.db import now_utc, transaction
from data.users import ROLES, PermissionDenied, User, require

#: Wrong secrets checked per account before it locks, and for how long. The attempt is counted (reserved) in the
#: same BEGIN IMMEDIATE transaction that checks the lock-out, before the hash is verified, so parallel sessions
#: share these five tries instead of each getting their own.
MAX_FAILED_ATTEMPTS = 5
LOCKOUT_MINUTES = 15
#: The app-wide throttle: more than THROTTLE_THRESHOLD checked wrong sign-ins (wrong secret or unknown name, on any
#: accounts) within THROTTLE_WINDOW_MINUTES slow everyone's checked attempts down: one at a time, spaced by a delay
#: that doubles with each further failure (2 s, 4 s, 8 s ... at most THROTTLE_MAX_DELAY_SECONDS). It lifts by itself
#: once failures age out of the window. A sustained spray over any number of accounts gets at most about one checked
#: guess a minute app-wide (~1,460 a day, simulated): a 6-digit PIN among them falls with ~0.15 % odds a day.
THROTTLE_WINDOW_MINUTES = 60
THROTTLE_THRESHOLD = 20
THROTTLE_BASE_DELAY_SECONDS = 2
THROTTLE_MAX_DELAY_SECONDS = 60
#: Roles whose holders may sign in with a PIN instead of a password.
PIN_ROLES = ("peer_researcher",)
#: Digits in a newly issued PIN. PINs issued before (4 digits) keep working until reset.
PIN_MIN_DIGITS = 6
PIN_MAX_DIGITS = 12
PIN_RULE = f"{PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits"
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,40}$")
_PIN = re.compile(rf"^\d{{{PIN_MIN_DIGITS},{PIN_MAX_DIGITS}}}$")
#: The PINs people pick most often that the pattern checks below do not already catch (keypad lines, pairs).
_COMMON_PINS = frozenset({"112233", "159753", "147258", "147852", "258369", "369258", "789456", "456789",
                          "987654", "102030", "111222", "753951", "951753", "852456", "789123", "010203"})
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
            raise AccountError(f"A PIN is {PIN_RULE}.")
        if _guessable_pin(secret):
            raise AccountError("That PIN is too easy to guess (all one digit, a run like 123456, a repeat like 121212 "
                               "or a common keypad pattern). Choose another.")
    elif kind == "password":
        if len(secret or "") < 10:
            raise AccountError("A password needs at least 10 characters.")
    else:
        raise AccountError(f"Unknown secret kind {kind!r}.")


def _guessable_pin(pin: str) -> bool:
    """The first PINs anyone tries: all one digit, a run up or down (123456, 987654), a short block repeated
    (121212, 123123, 5050 50) or a common keypad pattern."""
    digits = [int(c) for c in pin]
    steps = {b - a for a, b in zip(digits, digits[1:], strict=False)}
    if len(steps) == 1 and steps <= {-1, 0, 1}:
        return True
    if any(len(pin) % size == 0 and pin == pin[:size] * (len(pin) // size) for size in range(1, len(pin) // 2 + 1)):
        return True
    return pin in _COMMON_PINS


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


def _verify(secret_hash: str, secret: str) -> bool:
    """Whether `secret` matches the stored argon2 hash (about 0.2 s of work: the cost of each guess)."""
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _throttle_delay(failures: int) -> float:
    """Seconds between checked attempts app-wide once `failures` (> THROTTLE_THRESHOLD) are in the window."""
    doublings = min(max(failures - THROTTLE_THRESHOLD - 1, 0), 16)
    return float(min(THROTTLE_MAX_DELAY_SECONDS, THROTTLE_BASE_DELAY_SECONDS * 2 ** doublings))


def _recent_failures(db: Database, now: dt.datetime) -> int:
    cutoff = _stamp(now - dt.timedelta(minutes=THROTTLE_WINDOW_MINUTES))
    return db.execute("SELECT COUNT(*) FROM signin_failures WHERE at > ?", [cutoff]).fetchone()[0]


def _throttle_wait(db: Database, now: dt.datetime) -> float | None:
    """Inside the sign-in transaction: None if a checked attempt may run now (taking the next slot while the
    throttle is engaged), else the seconds to wait."""
    failures = _recent_failures(db, now)
    next_at, engaged_at = db.execute("SELECT next_attempt_at, engaged_at FROM signin_throttle WHERE id = 1").fetchone()
    if failures <= THROTTLE_THRESHOLD:
        if engaged_at:
            db.execute("UPDATE signin_throttle SET next_attempt_at = NULL, engaged_at = NULL WHERE id = 1")
            audit.record(db, None, "sign_in_throttle_lifted", "signin", None, engaged_at=engaged_at,
                         failures_in_window=failures)
        return None
    if next_at and dt.datetime.fromisoformat(next_at) > now:
        return (dt.datetime.fromisoformat(next_at) - now).total_seconds()
    db.execute("UPDATE signin_throttle SET next_attempt_at = ? WHERE id = 1",
               [_stamp(now + dt.timedelta(seconds=_throttle_delay(failures)))])
    return None


def _record_failure(db: Database, now: dt.datetime) -> None:
    """Inside a transaction: note one checked wrong sign-in for the throttle; engage it (audited) past the threshold."""
    db.execute("INSERT INTO signin_failures (at) VALUES (?)", [_stamp(now)])
    db.execute("DELETE FROM signin_failures WHERE at <= ?",
               [_stamp(now - dt.timedelta(minutes=THROTTLE_WINDOW_MINUTES))])
    failures = _recent_failures(db, now)
    if failures <= THROTTLE_THRESHOLD:
        return
    next_at, engaged_at = db.execute("SELECT next_attempt_at, engaged_at FROM signin_throttle WHERE id = 1").fetchone()
    delay = _throttle_delay(failures)
    later = _stamp(now + dt.timedelta(seconds=delay))
    db.execute("UPDATE signin_throttle SET next_attempt_at = ?, engaged_at = ? WHERE id = 1",
               [max(next_at or "", later), engaged_at or _stamp(now)])
    if not engaged_at:
        audit.record(db, None, "sign_in_throttled", "signin", None, failures_in_window=failures,
                     window_minutes=THROTTLE_WINDOW_MINUTES, delay_seconds=delay)


def _throttled_message(seconds: float) -> str:
    return (f"There have been many wrong sign-ins on this system in the last {THROTTLE_WINDOW_MINUTES} minutes, so "
            f"sign-in is slowed down for everyone. Try again in {max(1, math.ceil(seconds))} second(s).")


def sign_in(db: Database, username: str, secret: str, *, now: dt.datetime | None = None) -> User:
    """Check a username and password/PIN; after MAX_FAILED_ATTEMPTS failures the account locks for a while.

    The lock-out and throttle checks and the counting of this attempt are one write transaction (BEGIN IMMEDIATE),
    so however many sessions guess at once, an account gets at most MAX_FAILED_ATTEMPTS checked guesses per
    lock-out. The hash is verified after that transaction commits (it takes ~0.2 s, which must not hold the write
    lock that tablets saving answers wait on); a second short transaction then records the outcome.
    """
    now = now or dt.datetime.now(dt.UTC)
    refusal = "That name and password or PIN don't match. Check them and try again."
    problem: str | None = None
    with transaction(db):
        row = db.execute(
            "SELECT username, display_name, roles, secret_hash, failed_attempts, locked_until, disabled, is_demo "
            "FROM users WHERE lower(username) = lower(?)", [(username or "").strip()]
        ).fetchone()
        if row is not None and row[6]:
            audit.record(db, None, "sign_in_failed", "user", row[0], why="disabled")
            problem = "This account is switched off. Ask an admin."
        elif row is not None and row[5] and dt.datetime.fromisoformat(row[5]) > now:
            audit.record(db, None, "sign_in_failed", "user", row[0], why="locked")
            minutes = max(1, int((dt.datetime.fromisoformat(row[5]) - now).total_seconds() // 60) + 1)
            problem = (f"Too many wrong tries: this account is locked for about {minutes} more minute(s), "
                       "or until an admin unlocks it.")
        elif (wait := _throttle_wait(db, now)) is not None:
            audit.record(db, None, "sign_in_failed", "user", row[0] if row else None, why="throttled")
            problem = _throttled_message(wait)
        elif row is None:
            _record_failure(db, now)
            # the typed name is not logged: people often type their password into the name box
            audit.record(db, None, "sign_in_failed", "user", None, why="unknown user")
        else:
            # reserve this attempt before checking it; the attempt that reaches the limit locks the account now,
            # so attempts running in parallel see the lock (a right secret on that attempt lifts it again)
            attempt = row[4] + 1
            locks = attempt >= MAX_FAILED_ATTEMPTS
            db.execute("UPDATE users SET failed_attempts = ?, locked_until = ? WHERE username = ?",
                       [0 if locks else attempt, _stamp(now + dt.timedelta(minutes=LOCKOUT_MINUTES)) if locks else None,
                        row[0]])
    if problem:
        raise SignInError(problem)
    if row is None:
        _hasher.hash(secret or "x")  # spend the same time as a real check, so names cannot be probed by timing
        raise SignInError(refusal)
    name, display, roles, secret_hash, _failed, _locked, _disabled, is_demo = row
    if not _verify(secret_hash, secret or ""):
        with transaction(db):
            _record_failure(db, now)
            audit.record(db, None, "sign_in_failed", "user", name, why="wrong secret", locked=locks)
        if locks:
            raise SignInError(f"Too many wrong tries: this account is locked for {LOCKOUT_MINUTES} minutes.")
        raise SignInError(refusal)
    with transaction(db):
        db.execute("UPDATE users SET failed_attempts = 0, locked_until = NULL, last_sign_in = ? WHERE username = ?",
                   [now.isoformat(), name])
        if _hasher.check_needs_rehash(secret_hash):
            db.execute("UPDATE users SET secret_hash = ? WHERE username = ?", [_hasher.hash(secret), name])
        # a PIN issued before PINs had 6 digits: noted, so an admin can see whose PIN to re-issue
        short = {"short_pin": True} if secret.isdigit() and len(secret) < PIN_MIN_DIGITS else {}
        audit.record(db, name, "signed_in", "user", name, **short)
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
        sessions.revoke_for_user(db, actor, account.username, why="password or PIN reset")
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
        if disabled:  # signed out everywhere at once, not only on their next tap
            sessions.revoke_for_user(db, actor, account.username, why="account disabled")
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
        if sorted(account.roles) != clean:  # they sign in again to get pages for their new roles
            sessions.revoke_for_user(db, actor, account.username, why="roles changed")
    return get_account(db, account.username)


def change_own_secret(db: Database, user: User, current: str, new: str) -> None:
    """A signed-in user changes their own password (or PIN), after typing the current one again."""
    row = db.execute("SELECT username, secret_hash, secret_kind, disabled FROM users WHERE username = ?",
                     [user.username]).fetchone()
    if row is None or row[3]:
        raise AccountError("Your account could not be found or is switched off. Ask an admin.")
    name, secret_hash, kind, _ = row
    if not _verify(secret_hash, current or ""):
        with transaction(db):
            audit.record(db, name, "secret_change_failed", "user", name, why="current secret wrong")
        raise AccountError("Your current password or PIN is not right. Nothing was changed.")
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
