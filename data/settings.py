"""Settings an admin can change in the app (stored in the settings table), with defaults from config.

For example the local safeguarding procedure shown to peer researchers.
"""

from __future__ import annotations

from sqlite_utils import Database

import config
from data import audit
from data.db import now_utc, transaction
from data.users import User, require

DEFAULTS: dict[str, str] = {
    "safeguarding_procedure": config.DEFAULT_SAFEGUARDING_PROCEDURE,
    "area_name": config.AREA_NAME,
    "idle_timeout_minutes": str(config.IDLE_TIMEOUT_MINUTES),
    "retention_days": str(config.RETENTION_DAYS),
    "flag_overdue_hours": "24",  # an open safeguarding flag older than this stands out in the queue
    "report_author": "Safeguarding Children Partnership",  # the Word report's author (core properties)
    "report_title": "What children, families and communities told us",  # the Word report's title
}

#: Whole-number settings and the range each may take (checked before saving).
INT_RANGES: dict[str, tuple[int, int]] = {
    "idle_timeout_minutes": (1, 24 * 60),
    "retention_days": (0, 36500),
    "flag_overdue_hours": (1, 24 * 30),
}


class SettingError(ValueError):
    """A setting value that cannot be saved; the message says why."""


def get(db: Database, key: str) -> str:
    """The stored value, or the default from config."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    if row is not None:
        return row[0]
    if key not in DEFAULTS:
        raise KeyError(f"unknown setting {key!r}")
    return DEFAULTS[key]


def put(db: Database, user: User, key: str, value: str) -> None:
    """Change a setting (admins only); recorded in the audit log."""
    require(user, "settings")
    if key not in DEFAULTS:
        raise KeyError(f"unknown setting {key!r}")
    value = str(value)
    if key in INT_RANGES:
        low, high = INT_RANGES[key]
        try:
            number = int(value.strip())
        except ValueError:
            raise SettingError(f"{key.replace('_', ' ')} must be a whole number.") from None
        if not low <= number <= high:
            raise SettingError(f"{key.replace('_', ' ')} must be between {low} and {high}.")
        value = str(number)
    elif not value.strip():
        raise SettingError(f"{key.replace('_', ' ')} cannot be empty.")
    with transaction(db):
        db.execute(
            "INSERT INTO settings (key, value, updated_by, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, "
            "updated_at = excluded.updated_at",
            [key, value, user.username, now_utc()],
        )
        audit.record(db, user, "setting_changed", "setting", key)


def get_int(db: Database, key: str) -> int:
    """A whole-number setting; a stored value that is not a number falls back to the default."""
    try:
        return int(get(db, key))
    except ValueError:
        return int(DEFAULTS[key])
