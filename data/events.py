"""Events (where answers are collected) and the frozen question-set versions they use.

A question set is frozen into `question_sets` the first time an event uses it; later edits make a new version.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass

from sqlite_utils import Database

from data import audit, settings
from data.db import new_id, now_utc, transaction
from data.users import User, require
from surveys import QuestionSet, bundled, load_question_set


class EventError(ValueError):
    """An event that cannot be created or used as asked (the message says why, for a person)."""


@dataclass(frozen=True)
class Event:
    id: str
    name: str
    venue: str
    date: str
    area: str
    question_set_id: str
    status: str
    created_at: str

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def title(self) -> str:
        where = f" at {self.venue}" if self.venue else ""
        return f"{self.name}{where} ({self.date})"


def freeze_question_set(db: Database, qs: QuestionSet) -> str:
    """Store `qs` as a frozen version (once per distinct content) and return its id, e.g. 'thrive@2'."""
    digest = qs.content_hash()
    row = db.execute("SELECT id FROM question_sets WHERE key = ? AND content_hash = ?", [qs.key, digest]).fetchone()
    if row:
        return row[0]
    with transaction(db):
        latest = db.execute("SELECT MAX(version) FROM question_sets WHERE key = ?", [qs.key]).fetchone()[0] or 0
        version = latest + 1
        qs_id = f"{qs.key}@{version}"
        db.execute(
            "INSERT INTO question_sets (id, key, version, content_hash, definition, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [qs_id, qs.key, version, digest, json.dumps(qs.definition, ensure_ascii=False, sort_keys=True), now_utc()],
        )
    return qs_id


@functools.lru_cache(maxsize=64)
def _parse_frozen(definition: str) -> QuestionSet:
    return load_question_set(json.loads(definition))


def question_set(db: Database, question_set_id: str) -> QuestionSet:
    """The frozen question set stored under `question_set_id`."""
    row = db.execute("SELECT definition FROM question_sets WHERE id = ?", [question_set_id]).fetchone()
    if row is None:
        raise EventError(f"No question set {question_set_id!r} is stored.")
    return _parse_frozen(row[0])


def create_event(db: Database, user: User, *, name: str, date: str | dt.date, venue: str = "", area: str = "",
                 question_set: QuestionSet | str = "thrive") -> Event:
    """Create an open event that collects answers with the given question set (frozen now)."""
    require(user, "manage_events")
    name = (name or "").strip()
    if not name:
        raise EventError("Give the event a name.")
    date_text = _iso_date(date)
    qs = bundled(question_set) if isinstance(question_set, str) else question_set
    event_id = new_id()
    with transaction(db):
        # inside BEGIN IMMEDIATE: two taps on "Create event" (or two people at once) cannot both pass the check
        _refuse_duplicate(db, name, date_text)
        qs_id = freeze_question_set(db, qs)
        db.execute(
            "INSERT INTO events (id, name, venue, date, area, question_set_id, status, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)",
            [event_id, name, venue.strip(), date_text, area.strip(), qs_id, user.username, now_utc()],
        )
        audit.record(db, user, "event_created", "event", event_id, name=name)
    return get_event(db, event_id)


def same_name(a: str, b: str) -> bool:
    """Event names that a researcher choosing from a list could not tell apart (case and spacing aside)."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _refuse_duplicate(db: Database, name: str, date_text: str, *, other_than: str | None = None) -> None:
    """EventError when an open event already has this name (case and spacing aside) on this date."""
    for event_id, existing, venue in db.execute(
            "SELECT id, name, venue FROM events WHERE date = ? AND status = 'open' ORDER BY created_at",
            [date_text]).fetchall():
        if event_id != other_than and same_name(existing, name):
            where = f" at {venue}" if venue else ""
            raise EventError(
                f"There is already an open event called “{existing}”{where} on {date_text}. Use that one (choose it "
                "on Collect), or give this event a different name, e.g. with the venue or the time of day.")


def _iso_date(value: str | dt.date) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError as exc:
        raise EventError(f"The date {value!r} is not a date like 2026-11-23.") from exc


def get_event(db: Database, event_id: str) -> Event:
    row = db.execute(
        "SELECT id, name, venue, date, area, question_set_id, status, created_at FROM events WHERE id = ?", [event_id]
    ).fetchone()
    if row is None:
        raise EventError("That event no longer exists; choose another.")
    return Event(*row)


def list_events(db: Database, *, status: str | None = None) -> list[Event]:
    """Events, newest date first. Names and venues are not personal data, so any signed-in user may list them."""
    sql = "SELECT id, name, venue, date, area, question_set_id, status, created_at FROM events"
    params: list[str] = []
    if status:
        sql += " WHERE status = ?"
        params.append(status)
    sql += " ORDER BY date DESC, created_at DESC"
    return [Event(*row) for row in db.execute(sql, params).fetchall()]


def events_named(db: Database, name_or_id: str) -> list[Event]:
    """Events whose id equals, or whose name matches (case-insensitively), `name_or_id`."""
    rows = db.execute(
        "SELECT id, name, venue, date, area, question_set_id, status, created_at FROM events "
        "WHERE id = ? OR lower(name) = lower(?) ORDER BY created_at",
        [name_or_id, name_or_id],
    ).fetchall()
    return [Event(*row) for row in rows]


def set_status(db: Database, user: User, event_id: str, status: str) -> Event:
    """Close (or reopen) an event. A closed event takes no new answers."""
    require(user, "manage_events")
    if status not in ("open", "closed"):
        raise EventError(f"Unknown event status {status!r}.")
    event = get_event(db, event_id)
    with transaction(db):
        if status == "open" and not event.is_open:
            _refuse_duplicate(db, event.name, event.date, other_than=event.id)
        db.execute(
            "UPDATE events SET status = ?, closed_at = ? WHERE id = ?",
            [status, now_utc() if status == "closed" else None, event.id],
        )
        audit.record(db, user, f"event_{'closed' if status == 'closed' else 'reopened'}", "event", event.id)
    return get_event(db, event_id)


def close_event(db: Database, user: User, event_id: str) -> Event:
    return set_status(db, user, event_id, "closed")


def area_for(db: Database, event: Event, language: str | None = None) -> str:
    """The area named in question 4 at this event in `language`: the event's name for it in that language, else
    the event's own area, else the partnership's setting."""
    if language:
        named = area_languages(db, event.id).get(language)
        if named:
            return named
    return event.area or settings.get(db, "area_name")


def area_languages(db: Database, event_id: str) -> dict[str, str]:
    """The event's area name per language code (empty when it has none)."""
    row = db.execute("SELECT area_languages FROM events WHERE id = ?", [event_id]).fetchone()
    if row is None or not row[0]:
        return {}
    try:
        value = json.loads(row[0])
    except ValueError:
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(value, dict) else {}


def set_area_languages(db: Database, user: User, event_id: str, names: dict[str, str]) -> dict[str, str]:
    """Name the event's area per language ({"ur": "..."}); a blank name removes that language. Codes must be
    languages of the event's question set."""
    require(user, "manage_events")
    event = get_event(db, event_id)
    codes = {x.code for x in question_set(db, event.question_set_id).languages}
    unknown = sorted(set(names) - codes)
    if unknown:
        raise EventError(f"{', '.join(unknown)} is not a language of this event's question set ({', '.join(sorted(codes))}).")
    too_long = sorted(code for code, name in names.items() if len(name.strip()) > 100)
    if too_long:
        raise EventError(f"The area name for {', '.join(too_long)} is too long (100 characters at most).")
    clean = {code: name.strip() for code, name in sorted(names.items()) if name.strip()}
    with transaction(db):
        db.execute("UPDATE events SET area_languages = ? WHERE id = ?",
                   [json.dumps(clean, ensure_ascii=False) if clean else None, event.id])
        audit.record(db, user, "event_area_languages_set", "event", event.id)
    return clean
