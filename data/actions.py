"""Actions against themes ("you said, we did"): what the partnership will do about what a round's people raised.

An action belongs to a round and a code (a theme or a sub-code), with an owner, a due date, a status (planned, in
progress, done, dropped) and a note. Officers and admins record them ("manage_rounds"); leads read ("findings").
`feedback_sheet` gathers a round's top themes, a quotable answer for each and the actions, for exports/feedback.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from data import audit
from data.db import now_utc, transaction
from data.users import User, require

STATUSES = ("planned", "in_progress", "done", "dropped")
STATUS_LABELS = {"planned": "Planned", "in_progress": "In progress", "done": "Done", "dropped": "Dropped"}
WHAT_MAX = 1000


class ActionError(ValueError):
    """An action that cannot be recorded as asked, with a message for the person."""


@dataclass(frozen=True)
class Action:
    id: int
    round_id: int
    code_id: int
    code: str
    label: str
    what: str
    owner: str
    due: str | None
    status: str
    note: str
    updated_at: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


_SQL = ("SELECT a.id, a.round_id, a.code_id, c.name, c.label, a.what, a.owner, a.due, a.status, a.note, a.updated_at "
        "FROM actions a JOIN codes c ON c.id = a.code_id ")


def _due(value: str | dt.date | None) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError as exc:
        raise ActionError(f"The due date {value!r} is not a date like 2026-12-31.") from exc


def _status(value: str) -> str:
    status = str(value or "").strip().lower().replace(" ", "_").replace("-", "_")
    if status not in STATUSES:
        raise ActionError(f"The status must be one of: {', '.join(STATUS_LABELS.values())}.")
    return status


def _what(value: str) -> str:
    what = str(value or "").strip()
    if not what:
        raise ActionError("Say what the partnership will do.")
    if len(what) > WHAT_MAX:
        raise ActionError(f"Keep the action to {WHAT_MAX} characters; put detail in the note.")
    return what


def _code_id(db: Database, code: int | str) -> int:
    text = str(code).strip()
    row = db.execute("SELECT id FROM codes WHERE lower(name) = lower(?)", [text]).fetchone()
    if row is None and text.isdigit():
        row = db.execute("SELECT id FROM codes WHERE id = ?", [int(text)]).fetchone()
    if row is None:
        raise ActionError(f"No theme or code is called {text!r}.")
    return int(row[0])


def get_action(db: Database, user: User, action_id: int) -> Action:
    require(user, "findings")
    row = db.execute(_SQL + "WHERE a.id = ?", [int(action_id)]).fetchone()
    if row is None:
        raise ActionError("That action no longer exists.")
    return Action(*row)


def add_action(db: Database, user: User, round_id: int, code: int | str, what: str, *, owner: str = "",
               due: str | dt.date | None = None, status: str = "planned", note: str = "") -> Action:
    """Record what the partnership will do about a theme people raised in a round."""
    require(user, "manage_rounds")
    from data.rounds import _get

    target = _get(db, round_id)
    code_id = _code_id(db, code)
    values = [target.id, code_id, _what(what), str(owner or "").strip(), _due(due), _status(status),
              str(note or "").strip()]
    now = now_utc()
    with transaction(db):
        cur = db.execute("INSERT INTO actions (round_id, code_id, what, owner, due, status, note, created_by, "
                         "created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [*values, user.username, now, user.username, now])
        action_id = int(cur.lastrowid)
        audit.record(db, user, "action_added", "action", action_id, round_id=target.id, code_id=code_id,
                     status=values[5])
    return get_action(db, user, action_id)


def update_action(db: Database, user: User, action_id: int, **changes: Any) -> Action:
    """Change an action's what, owner, due, status or note (others are refused)."""
    require(user, "manage_rounds")
    current = get_action(db, user, action_id)
    clean = {"what": _what, "owner": lambda v: str(v or "").strip(), "due": _due, "status": _status,
             "note": lambda v: str(v or "").strip()}
    unknown = set(changes) - set(clean)
    if unknown:
        raise ActionError(f"An action has no field {', '.join(sorted(unknown))}.")
    values = {k: clean[k](v) for k, v in changes.items()}
    if not values:
        return current
    with transaction(db):
        db.execute(f"UPDATE actions SET {', '.join(f'{k} = ?' for k in values)}, updated_by = ?, updated_at = ? "  # noqa: S608
                   "WHERE id = ?", [*values.values(), user.username, now_utc(), current.id])
        audit.record(db, user, "action_updated", "action", current.id, fields=sorted(values),
                     status=values.get("status", current.status))
    return get_action(db, user, action_id)


def list_actions(db: Database, user: User, round_id: int | None = None, code_id: int | None = None) -> list[Action]:
    """Actions (of a round, of a code), by round, theme label, then due date (undated last)."""
    require(user, "findings")
    where, params = [], []
    if round_id is not None:
        where.append("a.round_id = ?")
        params.append(int(round_id))
    if code_id is not None:
        where.append("a.code_id = ?")
        params.append(int(code_id))
    sql = _SQL + (f"WHERE {' AND '.join(where)} " if where else "") + \
        "ORDER BY a.round_id, c.label, a.due IS NULL, a.due, a.id"
    return [Action(*row) for row in db.execute(sql, params).fetchall()]


# --- the "you said, we did" feedback sheet --------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedbackTheme:
    """One theme on the sheet. Post-its are anonymous answers, not people (issue 9), so the two are counted apart:
    `respondents` of the `base` people with a coded answer raised it, and it is on `postits` of the `postit_base`
    coded post-its."""

    code_id: int
    label: str
    respondents: int
    base: int
    quote: str | None  # a representative answer (redacted; never a withheld one), or None
    actions: tuple[Action, ...] = ()
    postits: int = 0
    postit_base: int = 0

    @property
    def share(self) -> float:
        """Share of the people (post-its not counted)."""
        return self.respondents / self.base if self.base else 0.0

    @property
    def postit_share(self) -> float:
        return self.postits / self.postit_base if self.postit_base else 0.0

    @property
    def voices(self) -> int:
        """People and post-its together: how the sheet ranks its themes (never shown as a count of people)."""
        return self.respondents + self.postits


@dataclass(frozen=True)
class FeedbackLanguage:
    code: str
    name: str  # in the language itself
    direction: str  # ltr / rtl
    reviewed: bool  # the question set's translation was checked (status "reviewed")
    is_default: bool
    title: str
    questions: tuple[str, ...]


@dataclass
class FeedbackSheet:
    round_name: str
    first_date: str | None
    last_date: str | None
    people: int
    postits: int
    answers: int
    themes: list[FeedbackTheme]
    languages: list[FeedbackLanguage]
    area: str = ""
    coded_people: int = 0  # people with at least one coded answer: the base of the people shares
    coded_postits: int = 0  # post-its with a coded answer: the base of the post-it shares
    generated: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())


def reach(db: Database, user: User, round_id: int) -> dict[int, FeedbackTheme]:
    """What people said about each code in a round, for the actions recorded against it: code id -> FeedbackTheme
    (no quote, no actions) with the people and the post-its raising it (a sub-code's counts include its own
    sub-codes, a theme's its sub-codes), out of those with a coded answer. Raw counts: callers apply the
    small-number rule when they show them (exports.feedback.theme_counts does)."""
    require(user, "findings")
    from analysis import findings as af
    from data.findings import load_frames
    from data.rounds import _get

    target = _get(db, round_id)
    frames = load_frames(db, user, coding_details=False, round_id=target.id)
    prep = af.prepare(frames.answers, frames.codings, frames.codes, frames.pins, frames.questions, frames.groups)
    sel = af.select(prep, af.Filter())
    answers = sel.answers
    postit_rsp = answers.loc[answers["flipchart"].astype(bool), "rsp"].unique() if "flipchart" in answers else []
    pairs = sel.pairs
    on_postit = pairs["rsp"].isin(postit_rsp)
    people = pairs[~on_postit].groupby("code_id")["rsp"].nunique()
    postits = pairs[on_postit].groupby("code_id")["rsp"].nunique()
    coded = pairs["rsp"]
    coded_postits = int(coded[coded.isin(postit_rsp)].nunique())
    coded_people = int(coded.nunique()) - coded_postits
    return {int(c): FeedbackTheme(int(c), prep.code_labels.get(int(c), str(c)), int(people.get(c, 0)), coded_people,
                                  None, (), int(postits.get(c, 0)), coded_postits)
            for c in pairs["code_id"].unique()}


def feedback_sheet(db: Database, user: User, round_id: int, *, top: int = 4) -> FeedbackSheet:
    """What a round's feedback sheet says: its `top` themes (raised by the most people and post-its together across
    the questions, never a total under the small-number threshold; people and post-its are then counted apart), plus any other theme with an action (up to 6 in all), each with one
    representative answer (analysis.findings.quotes, which never picks a withheld answer) and its actions; and the
    languages the round used, with the question wording in each."""
    require(user, "export")
    import config
    from analysis import findings as af
    from data import settings
    from data.findings import load_frames, ordered_questions
    from data.rounds import _get, round_languages
    from surveys.languages import LANGUAGES

    target = _get(db, round_id)
    frames = load_frames(db, user, with_text=True, coding_details=False, round_id=target.id)
    prep = af.prepare(frames.answers, frames.codings, frames.codes, frames.pins, frames.questions, frames.groups)
    sel = af.select(prep, af.Filter())
    head = af.headline(sel)
    pairs = sel.pairs[sel.pairs["code_id"].isin(prep.themes)]
    answers = sel.answers
    postit_rsp = (answers.loc[answers["flipchart"].astype(bool), "rsp"].unique() if "flipchart" in answers
                  else [])
    on_postit = pairs["rsp"].isin(postit_rsp)
    voices = pairs.groupby("code_id")["rsp"].nunique().sort_values(ascending=False, kind="stable")
    people = pairs[~on_postit].groupby("code_id")["rsp"].nunique()
    postits = pairs[on_postit].groupby("code_id")["rsp"].nunique()
    coded = sel.pairs["rsp"]
    base = int(coded.nunique())  # people and post-its: the base for choosing themes
    coded_postits = int(coded[coded.isin(postit_rsp)].nunique())
    coded_people = base - coded_postits
    threshold = config.SMALL_CELL_THRESHOLD
    labels = prep.code_labels
    by_theme: dict[int, list[Action]] = {}
    for action in list_actions(db, user, round_id=target.id):
        by_theme.setdefault(prep.theme_of.get(action.code_id, action.code_id), []).append(action)
    shown = [int(c) for c, n in voices.items() if n >= threshold and base >= threshold]
    chosen = shown[:top] + [c for c in shown[top:] if c in by_theme]
    chosen = chosen[:max(top, 6)]
    themes = []
    for code_id in chosen:
        q = af.quotes(sel, code_id, 1)
        themes.append(FeedbackTheme(code_id, labels.get(code_id, str(code_id)), int(people.get(code_id, 0)),
                                    coded_people, str(q["text"].iloc[0]) if len(q) else None,
                                    tuple(by_theme.get(code_id, ())), int(postits.get(code_id, 0)), coded_postits))
    try:
        area = settings.get(db, "area_name")
    except KeyError:
        area = config.AREA_NAME
    languages = []
    asked = ordered_questions(frames.answers["question_id"].unique()) if len(frames.answers) else []
    for code, qs in round_languages(db, user, target.id):
        lang = qs.language(code)
        info = LANGUAGES.get(code)
        question_ids = asked or [q.id for q in qs.questions]
        texts = tuple(qs.text(qs.question(qid).label, code, area=area) for qid in question_ids if qs.question(qid))
        languages.append(FeedbackLanguage(code, info.native_name if info else code,
                                          lang.direction if lang else "ltr",
                                          bool(lang and lang.status == "reviewed"), code == qs.default_language,
                                          qs.text(qs.title, code), texts))
    return FeedbackSheet(target.name, target.first_date, target.last_date, head["respondents"], head["postits"],
                         head["answers"], themes, languages, area, coded_people, coded_postits)
