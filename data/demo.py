"""The demo data set: five autumn-2026 events, ~500 answers, the starter codebook, two coders' codings, flags.

Loaded through the same save paths as real answers (redaction, disclosure checks); deterministic and idempotent.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from data import accounts, audit
from data.capture import add_transcribed, save_respondent
from data.db import now_utc, transaction
from data.events import close_event, create_event
from data.users import User, require

ANSWERS_CSV = Path(__file__).resolve().parent / "demo" / "answers.csv"
DEFAULT_SEED = 2026
#: Marks a database that holds the demo (the settings table keeps the seed and when it was loaded).
MARKER_KEY = "demo_loaded"

#: Fixed secrets for the demo accounts. They are printed by `cli.py demo`: for demonstrations only.
DEMO_PASSWORD = "demo-password-1"
DEMO_PIN = "246802"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    roles: tuple[str, ...]
    kind: str  # password or pin

    @property
    def secret(self) -> str:
        return DEMO_PIN if self.kind == "pin" else DEMO_PASSWORD

    def as_user(self) -> User:
        return User(self.username, frozenset(self.roles), self.display_name, is_demo=True)


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("demo_admin", "Demo admin", ("admin",), "password"),
    DemoAccount("demo_officer", "Demo engagement officer", ("engagement_officer",), "password"),
    DemoAccount("demo_officer2", "Demo second coder", ("engagement_officer",), "password"),
    DemoAccount("demo_researcher", "Demo peer researcher", ("peer_researcher",), "pin"),
    DemoAccount("demo_lead", "Demo strategy lead", ("strategy_lead",), "password"),
    DemoAccount("demo_safeguarding", "Demo safeguarding lead", ("safeguarding_lead",), "password"),
)
_BY_NAME = {a.username: a for a in DEMO_ACCOUNTS}
OFFICER = _BY_NAME["demo_officer"].as_user()
SECOND_CODER = _BY_NAME["demo_officer2"].as_user()
RESEARCHER = _BY_NAME["demo_researcher"].as_user()


@dataclass(frozen=True)
class DemoEvent:
    key: str
    name: str
    venue: str
    date: str
    start_utc: str  # HH:MM of the first respondent
    hours: float  # how long answers kept coming
    transcribed: bool  # post-its typed in afterwards rather than tablet entry
    stays_open: bool


EVENTS: tuple[DemoEvent, ...] = (
    DemoEvent("family_centre", "Family centre drop-in", "Brierley Hill family centre", "2026-10-06", "09:30", 3, False, False),
    DemoEvent("school", "Secondary school assembly", "Netherton Park Academy", "2026-10-13", "08:45", 2.5, False, False),
    DemoEvent("faith_fair", "Faith and community fair", "Lye community centre", "2026-10-24", "10:00", 5, False, False),
    DemoEvent("workshop", "Practitioners' workshop", "Council House, Dudley", "2026-11-04", "13:00", 3, True, False),
    DemoEvent("market", "Market day stall", "Stourbridge market", "2026-11-14", "10:00", 4.5, False, True),
)
AREA = "Dudley"

#: Where each group was met: weights over EVENTS (family centre, school, faith fair, workshop, market).
GROUP_EVENTS: dict[str, tuple[int, ...]] = {
    "young_person": (3, 60, 10, 0, 27),
    "parent_carer": (45, 5, 20, 0, 30),
    "practitioner": (0, 0, 0, 100, 0),
    "school_staff": (0, 55, 0, 45, 0),
    "family_centre_staff": (70, 0, 0, 30, 0),
    "community_volunteer": (10, 0, 45, 0, 45),
    "faith_group": (0, 0, 100, 0, 0),
    "resident": (5, 0, 25, 0, 70),
    "decision_maker": (0, 0, 0, 100, 0),
}
_WORK_AGES = {"age_25_44": 55, "age_45_64": 40, "prefer_not": 5}
_COMMUNITY_AGES = {"age_25_44": 25, "age_45_64": 40, "age_65_plus": 30, "prefer_not": 5}
AGE_BANDS: dict[str, dict[str, int]] = {
    "young_person": {"under_14": 30, "age_14_17": 55, "age_18_24": 12, "prefer_not": 3},
    "parent_carer": {"age_18_24": 10, "age_25_44": 62, "age_45_64": 23, "prefer_not": 5},
    "practitioner": _WORK_AGES, "school_staff": _WORK_AGES, "family_centre_staff": _WORK_AGES,
    "decision_maker": _WORK_AGES, "community_volunteer": _COMMUNITY_AGES, "faith_group": _COMMUNITY_AGES,
    "resident": _COMMUNITY_AGES,
}
WARDS: dict[str, tuple[str, ...]] = {
    "family_centre": ("Brierley Hill", "Brockmoor and Pensnett", "Quarry Bank and Dudley Wood", "Netherton"),
    "school": ("Netherton", "Woodside and St Andrews", "Quarry Bank and Dudley Wood", "Castle and Priory"),
    "faith_fair": ("Lye and Stourbridge North", "Quarry Bank and Dudley Wood", "St Thomas's", "Halesowen North"),
    "workshop": ("Castle and Priory",),
    "market": ("Lye and Stourbridge North", "Wollaston and Stourbridge Town", "Pedmore and Stourbridge East",
               "Kingswinford North and Wall Heath", "Amblecote"),
}

#: The answer after which the peer researcher ticked "I'm worried about this person" (no words the checker catches).
WORRIED_TEXT = "nobody at home notices if i dont come back"
WORRIED_NOTE = "Went very quiet after answering and did not want to go home; told the event lead."

#: (code, answer text) pairs pinned as representative quotes.
PINNED: tuple[tuple[str, str], ...] = (
    ("listen_voice", "Listen to parents, we know our kids"),
    ("youth_services", "open the youth club back up!!!"),
    ("emotional_neglect", "Emotional unavailability, the child is fed and clothed but not seen"),
)
#: (target kind, code name or answer text, memo).
MEMOS: tuple[tuple[str, str, str], ...] = (
    ("code", "emotional_neglect",
     "Several answers separate poverty from neglect (\"being too poor isn't neglect, not caring is\"). "
     "Worth a line in the findings about choice versus availability."),
    ("response", "بچوں کو پیار اور وقت دینا سب سے ضروری ہے",
     "Urdu. Translation checked by the volunteer interpreter: \"Giving children love and time is the most "
     "important thing.\""),
)
#: Codes a second coder plausibly reads differently (sub-codes that sit close together).
CONFUSABLE: dict[str, tuple[str, ...]] = {
    "family_love": ("trusted_adult", "basic_needs"),
    "friends_social": ("activities_places",),
    "trusted_adult": ("family_love", "health_wellbeing"),
    "activities_places": ("friends_social", "health_wellbeing"),
    "school_learning": ("trusted_adult",),
    "health_wellbeing": ("trusted_adult", "activities_places"),
    "basic_needs": ("family_love",),
    "poverty_money": ("parent_mental_health",),
    "substance_misuse": ("crime_exploitation",),
    "domestic_abuse": ("parent_mental_health",),
    "parent_mental_health": ("poverty_money", "domestic_abuse"),
    "bullying_online": ("crime_exploitation",),
    "crime_exploitation": ("substance_misuse", "bullying_online"),
    "physical_neglect": ("nutritional_neglect", "emotional_neglect"),
    "emotional_neglect": ("supervision_neglect",),
    "medical_neglect": ("physical_neglect",),
    "educational_neglect": ("emotional_neglect",),
    "nutritional_neglect": ("physical_neglect",),
    "supervision_neglect": ("emotional_neglect",),
    "youth_services": ("early_help_support",),
    "early_help_support": ("youth_services", "know_where_to_go"),
    "know_where_to_go": ("early_help_support",),
    "listen_voice": ("early_help_support",),
}
CODED_SHARE = 0.75
DOUBLE_CODED_PER_QUESTION = 15
QUESTIONS = ("thrive_helps", "thrive_stops", "neglect_is", "thrive_local")


class DemoError(RuntimeError):
    """The demo could not be loaded as asked; the message says what to do."""


@dataclass(frozen=True)
class DemoAnswer:
    index: int  # row order in answers.csv, the stable key of an answer across databases
    question: str
    group: str
    text: str
    codes: tuple[str, ...]

    @property
    def language(self) -> str:
        return "ur" if any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in self.text) else "en"


@dataclass
class DemoResult:
    loaded: bool  # False when the data was already there
    seed: int
    events: list[str] = field(default_factory=list)
    respondents: int = 0
    answers: int = 0
    codes: int = 0
    codings: dict[str, int] = field(default_factory=dict)  # coder -> answers coded
    double_coded: int = 0
    flags_auto: int = 0
    flags_manual: int = 0
    pinned: int = 0
    memos: int = 0
    accounts_created: list[str] = field(default_factory=list)
    accounts_present: list[str] = field(default_factory=list)
    #: why no demo accounts were created ("" when they were, or were already there)
    accounts_note: str = ""
    notes: list[str] = field(default_factory=list)


def read_answers(path: Path = ANSWERS_CSV) -> list[DemoAnswer]:
    """The demo corpus: one row per answer with its question, group, text and ';'-separated codes."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    answers = []
    for index, row in enumerate(rows):
        codes = tuple(c.strip() for c in row["codes"].split(";") if c.strip())
        answers.append(DemoAnswer(index, row["question"], row["group"], row["text"], codes))
    return answers


def is_loaded(db: Database) -> bool:
    return db.execute("SELECT 1 FROM settings WHERE key = ?", [MARKER_KEY]).fetchone() is not None


def holds_answers(db: Database) -> bool:
    """Whether the database holds any answer at all (`cli.py demo --if-empty` loads only when it does not)."""
    return db.execute("SELECT 1 FROM responses LIMIT 1").fetchone() is not None


def _real_users(db: Database) -> int:
    return db.execute("SELECT COUNT(*) FROM users WHERE is_demo = 0").fetchone()[0]


def load_demo(db: Database, actor: User | None = None, *, seed: int = DEFAULT_SEED,
              accounts_wanted: bool | None = None) -> DemoResult:
    """Load the demo data set once (a second call adds nothing and says so).

    `actor` must be an admin, except on a database with no accounts at all (a fresh install), where None
    is allowed. Demo accounts are created when the database has no real accounts, or when
    `accounts_wanted` is True; False never creates them.
    """
    if actor is not None:
        require(actor, "settings")
    elif db.execute("SELECT 1 FROM users WHERE is_demo = 0 LIMIT 1").fetchone():
        raise DemoError("This database has accounts: load the demo as an admin (the command line counts as one).")
    result = DemoResult(loaded=False, seed=seed)
    with transaction(db):
        admin = _ensure_accounts(db, actor, accounts_wanted, result)
        if is_loaded(db):
            result.notes.append("demo data already loaded: nothing added")
            _count(db, result)
            return result
        _load_data(db, admin or actor or _BY_NAME["demo_admin"].as_user(), seed, result)
        result.loaded = True
    return result


def _ensure_accounts(db: Database, actor: User | None, wanted: bool | None, result: DemoResult) -> User | None:
    """Create the missing demo accounts if asked (or if there are no real ones); return an admin to act as."""
    real = _real_users(db)
    create = wanted if wanted is not None else real == 0
    if not create:
        if wanted is False:
            result.accounts_note = "demo accounts not created (asked not to)"
        else:
            result.accounts_note = (f"this database already has {real} real account(s), so no demo accounts were "
                                    "created; sign in with your own, or add them with: python cli.py demo --accounts")
        return None
    acting = actor
    for account in DEMO_ACCOUNTS:
        row = db.execute("SELECT is_demo FROM users WHERE lower(username) = lower(?)", [account.username]).fetchone()
        if row is not None:
            if not row[0]:
                result.notes.append(f"{account.username} is a real account here, so it was left alone")
                continue
            result.accounts_present.append(account.username)
            if acting is None and "admin" in account.roles:
                acting = account.as_user()
            continue
        if acting is None and not ("admin" in account.roles and not accounts.has_admin(db)):
            raise DemoError("Demo accounts can only be added by an admin; run: python cli.py demo --accounts")
        # The very first admin of a fresh database is created with no actor, as at first run.
        accounts.create_user(db, acting, account.username, account.secret, list(account.roles), kind=account.kind,
                             display_name=account.display_name, is_demo=True)
        result.accounts_created.append(account.username)
        if acting is None:
            acting = account.as_user()
    return acting


def _when(event: DemoEvent, fraction: float) -> str:
    hour, minute = (int(p) for p in event.start_utc.split(":"))
    start = dt.datetime.fromisoformat(event.date).replace(hour=hour, minute=minute, tzinfo=dt.UTC)
    return (start + dt.timedelta(hours=event.hours * fraction)).isoformat(timespec="microseconds")


def _choose(rng: random.Random, weights: dict[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _load_data(db: Database, admin: User, seed: int, result: DemoResult) -> None:
    rng = random.Random(seed)
    answers = read_answers()
    events = {e.key: create_event(db, OFFICER, name=e.name, venue=e.venue, date=e.date, area=AREA) for e in EVENTS}

    # Which event each answer was given at; Urdu answers were all collected at the faith fair.
    slots: dict[tuple[str, str, str], dict[str, list[DemoAnswer]]] = defaultdict(lambda: defaultdict(list))
    keys = [e.key for e in EVENTS]
    for answer in answers:
        if answer.language == "ur":
            where = "faith_fair"
        else:
            where = rng.choices(keys, weights=GROUP_EVENTS[answer.group])[0]
        slots[(where, answer.group, answer.language)][answer.question].append(answer)

    # Group answers into respondents: a person answers 1-4 of the questions (one post-it each, mostly).
    people: dict[str, list[tuple[str, str, list[DemoAnswer]]]] = defaultdict(list)
    for (where, group, language), by_question in sorted(slots.items()):
        spec = next(e for e in EVENTS if e.key == where)
        pools = {q: list(by_question.get(q, [])) for q in QUESTIONS}
        for pool in pools.values():
            rng.shuffle(pool)
        while any(pools.values()):
            if spec.transcribed:
                wanted = 1  # flipchart post-its are anonymous: each is its own respondent
            else:
                wanted = rng.choices((1, 2, 3, 4), weights=(22, 30, 26, 22))[0]
            open_questions = [q for q in QUESTIONS if pools[q]]
            chosen = rng.sample(open_questions, min(wanted, len(open_questions)))
            people[where].append((group, language, [pools[q].pop() for q in chosen]))

    response_ids: dict[int, str] = {}
    times: dict[int, str] = {}
    for spec in EVENTS:
        event = events[spec.key]
        crowd = people[spec.key]
        rng.shuffle(crowd)
        for number, (group, language, given) in enumerate(crowd):
            when = _when(spec, (number + rng.random() * 0.8) / max(1, len(crowd)))
            if spec.transcribed:
                (answer,) = given
                saved = add_transcribed(db, OFFICER, event_id=event.id, question_id=answer.question, group_id=group,
                                        text=answer.text)
                respondent_id, flag_ids = saved.respondent_id, [saved.flag.id] if saved.flag else []
            else:
                profile = {}
                if rng.random() < 0.6:
                    profile["age_band"] = _choose(rng, AGE_BANDS[group])
                if rng.random() < 0.45:
                    profile["ward"] = rng.choice(WARDS[spec.key])
                worried = any(a.text == WORRIED_TEXT for a in given)
                answers_by_question: dict[str, list[str]] = defaultdict(list)
                for answer in given:
                    answers_by_question[answer.question].append(answer.text)
                saved_respondent = save_respondent(
                    db, RESEARCHER, event_id=event.id, group_id=group, consent=True, answers=answers_by_question,
                    profile=profile, language=language, submission_token=f"demo:{seed}:{spec.key}:{number}",
                    worried=worried, worried_note=WORRIED_NOTE if worried else "")
                respondent_id = saved_respondent.respondent_id
                flag_ids = [f.id for f in saved_respondent.flags]
            stored = {(q, t): rid for rid, q, t in db.execute(
                "SELECT id, question_id, text FROM responses WHERE respondent_id = ?", [respondent_id])}
            for answer in given:
                response_ids[answer.index] = stored[(answer.question, answer.text)]
                times[answer.index] = when
            # Answers were given on the event day, not when the demo was loaded.
            db.execute("UPDATE respondents SET created_at = ? WHERE id = ?", [when, respondent_id])
            db.execute("UPDATE responses SET created_at = ? WHERE respondent_id = ?", [when, respondent_id])
            for flag_id in flag_ids:
                db.execute("UPDATE flags SET created_at = ?, updated_at = ? WHERE id = ?", [when, when, flag_id])
                db.execute("UPDATE flag_history SET at = ? WHERE flag_id = ?", [when, flag_id])
    for spec in EVENTS:
        if not spec.stays_open:
            close_event(db, OFFICER, events[spec.key].id)

    code_ids = _load_codebook(db, result)
    _code_answers(db, rng, answers, response_ids, times, code_ids, seed, result)
    _pin_and_memo(db, answers, response_ids, code_ids, result)
    db.execute(
        "INSERT INTO settings (key, value, updated_by, updated_at) VALUES (?, ?, ?, ?)",
        [MARKER_KEY, json.dumps({"seed": seed, "answers": len(answers)}), admin.username, now_utc()],
    )
    audit.record(db, admin, "demo_loaded", "database", None, seed=seed, answers=len(answers))
    result.events = [f"{e.name}, {e.venue} ({e.date})" + ("" if e.stays_open else ", closed") for e in EVENTS]
    _count(db, result)


def _load_codebook(db: Database, result: DemoResult) -> dict[str, int]:
    from data.codebook import load_starter_codebook

    load_starter_codebook(db, OFFICER)
    return {name: code_id for code_id, name in db.execute("SELECT id, name FROM codes")}


def _date_after(when: str, rng: random.Random) -> str:
    """A time in office hours one to six days after `when` (coding happens back at the office)."""
    moment = dt.datetime.fromisoformat(when) + dt.timedelta(days=rng.randint(1, 6))
    moment = moment.replace(hour=rng.randint(9, 15), minute=rng.randint(0, 59), second=rng.randint(0, 59))
    return moment.isoformat(timespec="microseconds")


def _code_answers(db: Database, rng: random.Random, answers: list[DemoAnswer], response_ids: dict[int, str],
                  times: dict[int, str], code_ids: dict[str, int], seed: int, result: DemoResult) -> None:
    """The officer codes ~75% of each question's answers; a second coder double-codes a stratified sample."""
    pinned_texts = {text for _, text in PINNED}
    coded: list[DemoAnswer] = []
    for question in QUESTIONS:
        pool = [a for a in answers if a.question == question]
        must = [a for a in pool if a.text in pinned_texts]
        rest = [a for a in pool if a.text not in pinned_texts]
        take = round(len(pool) * CODED_SHARE) - len(must)
        coded += must + rng.sample(rest, take)
    coded.sort(key=lambda a: a.index)
    rows: list[tuple[str, int, str, str]] = []
    for answer in coded:
        when = _date_after(times[answer.index], rng)
        rows += [(response_ids[answer.index], code_ids[c], OFFICER.username, when) for c in answer.codes]

    sample: list[DemoAnswer] = []
    for question in QUESTIONS:
        sample += rng.sample([a for a in coded if a.question == question], DOUBLE_CODED_PER_QUESTION)
    for answer in sample:
        when = _date_after(times[answer.index], rng)
        rows += [(response_ids[answer.index], code_ids[c], SECOND_CODER.username, when)
                 for c in _second_reading(rng, answer.codes)]
    db.conn.executemany(
        "INSERT INTO codings (response_id, code_id, coder, source, created_at) VALUES (?, ?, ?, 'human', ?)", rows)

    sample_id = db.execute(
        "INSERT INTO agreement_samples (name, coder_a, coder_b, size, seed, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        ["Demo double-coding sample", OFFICER.username, SECOND_CODER.username, len(sample), seed, OFFICER.username,
         now_utc()],
    ).lastrowid
    db.conn.executemany(
        "INSERT INTO agreement_sample_items (sample_id, response_id, position) VALUES (?, ?, ?)",
        [(sample_id, response_ids[a.index], position) for position, a in enumerate(sample)],
    )
    result.double_coded = len(sample)


def _second_reading(rng: random.Random, codes: tuple[str, ...]) -> list[str]:
    """How a second coder codes the same answer: mostly the same, sometimes a neighbouring code, one more or one fewer."""
    chosen = list(codes)
    roll = rng.random()
    if roll < 0.62:
        return chosen
    if roll < 0.80:  # read one code as a neighbouring one
        position = rng.randrange(len(chosen))
        alternatives = [c for c in CONFUSABLE.get(chosen[position], ()) if c not in chosen]
        if alternatives:
            chosen[position] = rng.choice(alternatives)
        return chosen
    if roll < 0.90 and len(chosen) > 1:  # missed one
        chosen.pop(rng.randrange(len(chosen)))
        return chosen
    extra = [c for c in CONFUSABLE.get(chosen[0], ()) if c not in chosen]  # saw one more
    if extra:
        chosen.append(rng.choice(extra))
    return chosen


def _pin_and_memo(db: Database, answers: list[DemoAnswer], response_ids: dict[int, str], code_ids: dict[str, int],
                  result: DemoResult) -> None:
    by_text = {a.text: response_ids[a.index] for a in answers}
    now = now_utc()
    for code, text in PINNED:
        db.execute("INSERT OR IGNORE INTO pinned_quotes (code_id, response_id, pinned_by, at) VALUES (?, ?, ?, ?)",
                   [code_ids[code], by_text[text], OFFICER.username, now])
    for kind, target, text in MEMOS:
        target_id = str(code_ids[target]) if kind == "code" else by_text[target]
        db.execute("INSERT INTO memos (target_type, target_id, author, text, created_at, updated_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)", [kind, target_id, OFFICER.username, text, now, now])


def _count(db: Database, result: DemoResult) -> None:
    """Fill the result's counts from what the database now holds (events, answers, codings, flags...)."""
    names = [e.name for e in EVENTS]
    marks = ", ".join("?" for _ in names)
    event_ids = [r[0] for r in db.execute(f"SELECT id FROM events WHERE name IN ({marks})", names)]
    if not result.events:
        result.events = [f"{name}, {venue} ({date})" for name, venue, date in db.execute(
            f"SELECT name, venue, date FROM events WHERE name IN ({marks}) ORDER BY date", names)]
    id_marks = ", ".join("?" for _ in event_ids) or "NULL"
    result.respondents = db.execute(f"SELECT COUNT(*) FROM respondents WHERE event_id IN ({id_marks})",
                                    event_ids).fetchone()[0]
    result.answers = db.execute(f"SELECT COUNT(*) FROM responses WHERE event_id IN ({id_marks})",
                                event_ids).fetchone()[0]
    result.codes = db.execute("SELECT COUNT(*) FROM codes").fetchone()[0]
    coders = [a.username for a in (OFFICER, SECOND_CODER)]
    result.codings = {coder: db.execute("SELECT COUNT(DISTINCT response_id) FROM codings WHERE coder = ?",
                                        [coder]).fetchone()[0] for coder in coders}
    if not result.double_coded:
        result.double_coded = result.codings.get(SECOND_CODER.username, 0)
    for kind, count in db.execute(f"SELECT kind, COUNT(*) FROM flags WHERE event_id IN ({id_marks}) GROUP BY kind",
                                  event_ids):
        if kind == "auto":
            result.flags_auto = count
        else:
            result.flags_manual = count
    result.pinned = db.execute("SELECT COUNT(*) FROM pinned_quotes WHERE pinned_by = ?",
                               [OFFICER.username]).fetchone()[0]
    result.memos = db.execute("SELECT COUNT(*) FROM memos WHERE author = ?", [OFFICER.username]).fetchone()[0]
