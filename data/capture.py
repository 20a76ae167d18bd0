"""Recording answers: one respondent from the tablet, one post-it at a time when transcribing, and counts.

Each save is one transaction: the respondent, their answers, the redacted texts and any flags, or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlite_utils import Database

import config
from data import audit, reference
from data.db import new_id, now_utc, transaction
from data.events import Event, get_event, question_set
from data.users import User, require

if TYPE_CHECKING:
    from analysis import safeguarding
    from data import flags

# analysis.privacy and analysis.safeguarding (and data.flags, which needs the latter) are imported by the functions
# that save answers: compiling their rules takes 0.1-0.5 s, which counts (stats, for one) need not pay (issue 14).


#: The problems a person at an event can meet, in English; each is also catalogue text capture_error.<key> (ui/i18n),
#: so the page says it in the person's language (tests/test_i18n.py keeps the English the same).
PROBLEMS = {
    "event_closed": "This event is closed; choose an open event.",
    "need_group": "Choose who this person is (their group).",
    "need_consent": "Tick the consent box before saving: the person must agree to take part.",
    "no_answers": "There are no answers to save yet: write at least one answer (every question may be skipped).",
    "answer_too_long": "An answer to “{question}” is {length:,} characters long; the limit is {limit:,}. "
                       "Shorten it or split it into several answers.",
    "postit_empty": "Type the post-it's text first.",
    "postit_group": "Choose the group these post-its came from.",
    "postit_question": "Choose a free-text question for these post-its.",
    "postit_too_long": "This post-it is {length:,} characters; the limit is {limit:,}.",
    "undo_gone": "That post-it has already been removed.",
    "undo_not_yours": "Only the person who transcribed a post-it can undo it.",
    "undo_flagged": "This post-it raised a safeguarding flag, so it is kept. Tell the safeguarding lead if it was "
                    "typed by mistake.",
    "undo_coded": "This post-it has already been coded, so it is kept.",
}


class Problem(str):
    """One problem in plain English words that also names its catalogue text (`key`) and what fills it (`fill`)."""

    key: str
    fill: dict

    def __new__(cls, key: str, **fill: object) -> Problem:
        problem = super().__new__(cls, PROBLEMS[key].format(**fill))
        problem.key, problem.fill = key, fill
        return problem


class CaptureError(ValueError):
    """The respondent could not be saved; `problems` says why in plain words. Nothing was written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


@dataclass
class SaveResult:
    respondent_id: str
    created: bool  # False when this submission had already been saved (a double tap)
    answers_saved: int
    flags: list[flags.Flag] = field(default_factory=list)
    count_today: int = 0
    reference: str | None = None  # for the thank-you card: how this person can withdraw later


def split_answers(text: str) -> list[str]:
    """One answer per non-blank line, each kept exactly as typed (post-it style entry)."""
    return [line.rstrip("\r") for line in (text or "").split("\n") if line.strip()]


def _normalise_answers(event: Event, db: Database, answers: Mapping[str, Sequence[str] | str],
                       problems: list[str]) -> list[tuple[str, int, str]]:
    """[(question_id, position, text)] after checking each answer against the frozen question set."""
    qs = question_set(db, event.question_set_id)
    rows: list[tuple[str, int, str]] = []
    for question_id, value in answers.items():
        question = qs.question(question_id)
        if question is None:
            problems.append(f"Unknown question {question_id!r} for this event.")
            continue
        values = [value] if isinstance(value, str) else list(value)
        values = [v for v in values if isinstance(v, str) and v.strip()]
        if question.type == "single_choice" and len(values) > 1:
            problems.append(f"Choose only one answer for “{qs.text(question.label)}”.")
        for position, text in enumerate(values):
            if question.type != "free_text" and question.option(text) is None:
                problems.append(f"{text!r} is not an option of “{qs.text(question.label)}”.")
            elif len(text) > config.MAX_ANSWER_CHARS:
                problems.append(Problem("answer_too_long", question=qs.text(question.label), length=len(text),
                                        limit=config.MAX_ANSWER_CHARS))
            else:
                rows.append((question_id, position, text))
    return rows


def save_respondent(db: Database, user: User, *, event_id: str, group_id: str, consent: bool,
                    answers: Mapping[str, Sequence[str] | str], profile: Mapping[str, str] | None = None,
                    language: str = "en", submission_token: str | None = None, worried: bool = False,
                    worried_note: str = "", source: str = "tablet") -> SaveResult:
    """Store one respondent and their answers in one transaction, and flag any possible disclosure.

    `submission_token` identifies one filled-in form: saving the same token twice stores it once.
    `worried` raises a manual safeguarding flag for this respondent.
    """
    require(user, "collect")
    problems: list[str] = []
    try:
        event = get_event(db, event_id)
    except Exception as exc:  # noqa: BLE001 - turned into a message for the person
        raise CaptureError([str(exc)]) from exc
    if not event.is_open:
        problems.append(Problem("event_closed"))
    qs = question_set(db, event.question_set_id)
    if qs.group(group_id) is None:
        problems.append(Problem("need_group") if not group_id else f"Unknown group {group_id!r}.")
    if not consent:
        problems.append(Problem("need_consent"))
    if qs.language(language) is None:
        problems.append(f"Language {language!r} is not part of this question set.")
    clean_profile = {k: v for k, v in (profile or {}).items() if v not in (None, "")}
    for key, value in clean_profile.items():
        field_def = next((p for p in qs.profile if p.id == key), None)
        if field_def is None:
            problems.append(f"Unknown profile field {key!r}.")
        elif field_def.type == "single_choice" and not any(o.id == value for o in field_def.options):
            problems.append(f"{value!r} is not an option of {key}.")
        elif len(str(value)) > 200:
            problems.append(f"The {key} field is too long (200 characters at most).")
    rows = _normalise_answers(event, db, answers, problems)
    if not rows and not worried and not problems:
        problems.append(Problem("no_answers"))
    if problems:
        raise CaptureError(problems)
    from analysis import privacy, safeguarding
    from data import flags

    with transaction(db):
        if submission_token:
            existing = db.execute(
                "SELECT id, reference FROM respondents WHERE submission_token = ?", [submission_token]
            ).fetchone()
            if existing:
                count = db.execute("SELECT COUNT(*) FROM responses WHERE respondent_id = ?", [existing[0]]).fetchone()[0]
                return SaveResult(existing[0], False, count, [], respondents_today(db, user, event.id),
                                  existing[1])
        respondent_id = new_id()
        now = now_utc()
        ref = reference.new_reference(db)  # inside BEGIN IMMEDIATE: no other writer can take it first
        db.execute(
            "INSERT INTO respondents (id, event_id, group_id, profile, language, consent, consent_method, source, "
            "submission_token, recorded_by, created_at, reference) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
            [respondent_id, event.id, group_id, json.dumps(clean_profile, ensure_ascii=False), language,
             source, source, submission_token, user.username, now, ref],
        )
        raised: list[tuple[str, safeguarding.Disclosure]] = []  # (response id, disclosure)
        response_rows = []
        for question_id, position, text in rows:
            response_id = new_id()
            response_rows.append((response_id, respondent_id, event.id, question_id, position, text,
                                  privacy.redact(text), None, source, user.username, now))
            disclosure = safeguarding.check(text, question_id)
            if disclosure:
                raised.append((response_id, disclosure))
        db.conn.executemany(
            "INSERT INTO responses (id, respondent_id, event_id, question_id, position, text, redacted_text, "
            "external_id, source, recorded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            response_rows,
        )
        created_flags = [
            flags.raise_flag(db, user, kind="auto", reason=disclosure.reason, respondent_id=respondent_id,
                             response_id=response_id, event_id=event.id, category=disclosure.category,
                             strength=disclosure.strength)
            for response_id, disclosure in raised
        ]
        if worried:
            created_flags.append(flags.raise_flag(
                db, user, kind="manual", reason="Peer researcher is worried about this person"
                + (f": {worried_note}" if worried_note.strip() else ""),
                respondent_id=respondent_id, event_id=event.id))
        count_today = respondents_today(db, user, event.id)
    return SaveResult(respondent_id, True, len(rows), created_flags, count_today, ref)


def flag_respondent(db: Database, user: User, respondent_id: str, note: str = "") -> flags.Flag:
    """Raise a manual "I'm worried about this person" flag on a saved respondent."""
    from data import flags

    require(user, "collect")
    row = db.execute("SELECT event_id FROM respondents WHERE id = ?", [respondent_id]).fetchone()
    if row is None:
        raise CaptureError(["That respondent is not in the database."])
    return flags.raise_flag(db, user, kind="manual",
                            reason="Peer researcher is worried about this person" + (f": {note}" if note.strip() else ""),
                            respondent_id=respondent_id, event_id=row[0])


#: A transcribed post-it is stored as its own anonymous "respondent" row, but it is not a person: counts of people
#: leave these rows out and count them as post-its beside the people.
POSTIT_SQL = "source = 'transcribed'"


def respondents_today(db: Database, user: User, event_id: str) -> int:
    """People recorded at this event since local midnight (what the peer researcher sees after Save); transcribed
    post-its are not people and are left out. One row of the counts the triggers keep (0024_capture_speed)."""
    require(user, "collect")
    row = db.execute("SELECT people FROM event_day_counts WHERE event_id = ? AND day = date('now', 'localtime')",
                     [event_id]).fetchone()
    return row[0] if row else 0


@dataclass(frozen=True)
class EventCounts:
    respondents: int  # people (tablet and imported respondents), never post-its
    respondents_today: int
    answers: int  # every answer, post-its included
    postits: int = 0  # transcribed flipchart post-its (each one anonymous answer)


def event_counts(db: Database, user: User, event_id: str) -> EventCounts:
    """Counts for one event: no answer text, so a peer researcher may see them for their event. A read of the event's
    few per-day rows (kept by triggers, 0024_capture_speed), not a count of its answers: constant time at any size."""
    require(user, "collect")
    people, postits, answers, today = db.execute(
        "SELECT COALESCE(SUM(people), 0), COALESCE(SUM(postits), 0), COALESCE(SUM(answers), 0), "
        "COALESCE(SUM(CASE WHEN day = date('now', 'localtime') THEN people END), 0) "
        "FROM event_day_counts WHERE event_id = ?",
        [event_id],
    ).fetchone()
    return EventCounts(people, today, answers, postits)


@dataclass(frozen=True)
class Transcribed:
    response_id: str
    respondent_id: str
    flag: flags.Flag | None


def add_transcribed(db: Database, user: User, *, event_id: str, question_id: str, group_id: str,
                    text: str) -> Transcribed:
    """Store one post-it from a flipchart as its own respondent row (post-its are anonymous and unlinked).

    A post-it gets no withdrawal reference: nobody was given a card for it and nobody could show it was theirs.
    Counts of people leave post-its out (POSTIT_SQL)."""
    require(user, "transcribe")
    if not text or not text.strip():
        raise CaptureError([Problem("postit_empty")])
    event = get_event(db, event_id)
    qs = question_set(db, event.question_set_id)
    problems: list[str] = []
    if not event.is_open:
        problems.append(Problem("event_closed"))
    if qs.group(group_id) is None:
        problems.append(Problem("postit_group"))
    question = qs.question(question_id)
    if question is None or question.type != "free_text":
        problems.append(Problem("postit_question"))
    if len(text) > config.MAX_ANSWER_CHARS:
        problems.append(Problem("postit_too_long", length=len(text), limit=config.MAX_ANSWER_CHARS))
    if problems:
        raise CaptureError(problems)
    from analysis import privacy, safeguarding
    from data import flags

    respondent_id, response_id, now = new_id(), new_id(), now_utc()
    flag = None
    with transaction(db):
        db.execute(
            "INSERT INTO respondents (id, event_id, group_id, profile, language, consent, consent_method, source, "
            "recorded_by, created_at) VALUES (?, ?, ?, '{}', ?, 1, 'flipchart', 'transcribed', ?, ?)",
            [respondent_id, event.id, group_id, qs.default_language, user.username, now],
        )
        db.execute(
            "INSERT INTO responses (id, respondent_id, event_id, question_id, position, text, redacted_text, source, "
            "recorded_by, created_at) VALUES (?, ?, ?, ?, 0, ?, ?, 'transcribed', ?, ?)",
            [response_id, respondent_id, event.id, question_id, text, privacy.redact(text), user.username, now],
        )
        disclosure = safeguarding.check(text, question_id)
        if disclosure:
            flag = flags.raise_flag(db, user, kind="auto", reason=disclosure.reason, respondent_id=respondent_id,
                                    response_id=response_id, event_id=event.id, category=disclosure.category,
                                    strength=disclosure.strength)
    return Transcribed(response_id, respondent_id, flag)


def undo_transcribed(db: Database, user: User, response_id: str) -> str:
    """Remove a post-it this user just transcribed; returns its text so the page can offer it for retyping.

    Refused when the answer has been coded or raised a safeguarding flag: those must never vanish by accident.
    """
    require(user, "transcribe")
    row = db.execute(
        "SELECT respondent_id, text, recorded_by, source FROM responses WHERE id = ?", [response_id]
    ).fetchone()
    if row is None:
        raise CaptureError([Problem("undo_gone")])
    respondent_id, text, recorded_by, source = row
    if source != "transcribed" or recorded_by != user.username:
        raise CaptureError([Problem("undo_not_yours")])
    if db.execute("SELECT 1 FROM flags WHERE response_id = ? OR respondent_id = ?", [response_id, respondent_id]).fetchone():
        raise CaptureError([Problem("undo_flagged")])
    if db.execute("SELECT 1 FROM codings WHERE response_id = ?", [response_id]).fetchone():
        raise CaptureError([Problem("undo_coded")])
    with transaction(db):
        db.execute("DELETE FROM responses WHERE id = ?", [response_id])
        db.execute("DELETE FROM respondents WHERE id = ? AND NOT EXISTS "
                   "(SELECT 1 FROM responses WHERE respondent_id = ?)", [respondent_id, respondent_id])
        audit.record(db, user, "transcription_undone", "response", response_id)
    return text
