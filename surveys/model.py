"""Question sets: the dataclasses, and the loader that validates a YAML definition into them.

A question set is data (YAML in surveys/sets/); every label carries one text per declared language.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from surveys.languages import LANGUAGES

SETS_DIR = Path(__file__).resolve().parent / "sets"

QUESTION_TYPES = ("free_text", "single_choice", "multiple_choice")
PROFILE_TYPES = ("single_choice", "short_text")
LANGUAGE_STATUSES = ("reviewed", "draft")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

Label = dict[str, str]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a question set: where (a dotted path) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class QuestionSetError(ValueError):
    """A question set file that cannot be used; `problems` lists every fault found."""

    def __init__(self, problems: list[Problem], source: str = "question set"):
        self.problems = problems
        self.source = source
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source} has {len(problems)} problem(s):\n{lines}")


@dataclass(frozen=True)
class Option:
    id: str
    label: Label


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    label: Label
    help: Label = field(default_factory=dict)
    options: tuple[Option, ...] = ()

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Group:
    id: str
    label: Label


@dataclass(frozen=True)
class ProfileField:
    id: str
    type: str
    label: Label
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class Language:
    code: str
    status: str  # reviewed or draft
    note: str = ""

    @property
    def direction(self) -> str:
        return LANGUAGES[self.code].direction

    @property
    def native_name(self) -> str:
        return LANGUAGES[self.code].native_name


@dataclass(frozen=True)
class QuestionSet:
    key: str
    title: Label
    languages: tuple[Language, ...]
    default_language: str
    consent: Label
    groups: tuple[Group, ...]
    profile: tuple[ProfileField, ...]
    questions: tuple[Question, ...]
    definition: dict[str, Any] = field(compare=False, repr=False, default_factory=dict)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def group(self, group_id: str) -> Group | None:
        return next((g for g in self.groups if g.id == group_id), None)

    def language(self, code: str) -> Language | None:
        return next((lang for lang in self.languages if lang.code == code), None)

    def text(self, label: Label, language: str | None = None, *, area: str | None = None) -> str:
        """The label in `language` (falling back to the default language), with {area} filled in."""
        value = label.get(language or self.default_language) or label.get(self.default_language, "")
        if area is not None:
            value = value.replace("{area}", area)
        return value

    def content_hash(self) -> str:
        """A stable hash of the definition: equal definitions freeze to the same stored version."""
        canonical = json.dumps(self.definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_question_set(source: str | Path | IO[str] | IO[bytes] | dict[str, Any]) -> QuestionSet:
    """Read and validate a question set from a YAML path, file object, string of YAML or dict.

    Raises QuestionSetError listing every problem (not only the first).
    """
    name = "question set"
    if isinstance(source, dict):
        raw: Any = source
    else:
        if isinstance(source, Path):
            name = source.name
            text = source.read_text(encoding="utf-8")
        elif isinstance(source, str):
            text = source
        else:
            data = source.read()
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            name = getattr(source, "name", name)
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise QuestionSetError([Problem("file", f"not valid YAML: {exc}")], name) from exc
    problems: list[Problem] = []
    qs = _build(raw, problems)
    if problems or qs is None:
        raise QuestionSetError(problems or [Problem("file", "empty")], name)
    return qs


def bundled_keys() -> list[str]:
    """Keys of the question sets shipped in surveys/sets/."""
    return sorted(p.stem for p in SETS_DIR.glob("*.yaml"))


def bundled(key: str = "thrive") -> QuestionSet:
    """A question set shipped with the app, by key."""
    path = SETS_DIR / f"{key}.yaml"
    if not path.exists():
        raise QuestionSetError([Problem("key", f"no bundled question set called {key!r}")], key)
    return load_question_set(path)


def _build(raw: Any, problems: list[Problem]) -> QuestionSet | None:
    if not isinstance(raw, dict):
        problems.append(Problem("file", "must be a mapping with key, languages, groups and questions"))
        return None
    key = raw.get("key")
    if not isinstance(key, str) or not _ID.match(key):
        problems.append(Problem("key", "must be a lower-case id such as 'thrive'"))
    languages = _languages(raw.get("languages"), problems)
    codes = [lang.code for lang in languages]
    default = raw.get("default_language", "en")
    if codes and default not in codes:
        problems.append(Problem("default_language", f"{default!r} is not one of the languages {codes}"))
    title = _label(raw.get("title"), "title", codes, problems)
    consent = _label(raw.get("consent"), "consent", codes, problems)

    groups = []
    for i, item in enumerate(_list(raw.get("groups"), "groups", problems, required=True)):
        where = f"groups[{i}]"
        if not isinstance(item, dict):
            problems.append(Problem(where, "must be a mapping with id and label"))
            continue
        gid = _id(item.get("id"), where, problems)
        groups.append(Group(gid, _label(item.get("label"), f"{where}.label", codes, problems)))
    _no_duplicates([g.id for g in groups], "groups", problems)

    profile = []
    for i, item in enumerate(_list(raw.get("profile"), "profile", problems)):
        where = f"profile[{i}]"
        if not isinstance(item, dict):
            problems.append(Problem(where, "must be a mapping with id, type and label"))
            continue
        pid = _id(item.get("id"), where, problems)
        ptype = item.get("type")
        if ptype not in PROFILE_TYPES:
            problems.append(Problem(f"{where}.type", f"unknown profile field type {ptype!r}; use one of {PROFILE_TYPES}"))
        options = _options(item, where, codes, problems, needed=ptype == "single_choice")
        profile.append(ProfileField(pid, str(ptype), _label(item.get("label"), f"{where}.label", codes, problems), options))
    _no_duplicates([p.id for p in profile], "profile", problems)

    questions = []
    for i, item in enumerate(_list(raw.get("questions"), "questions", problems, required=True)):
        where = f"questions[{i}]"
        if not isinstance(item, dict):
            problems.append(Problem(where, "must be a mapping with id, type and label"))
            continue
        qid = _id(item.get("id"), where, problems)
        qtype = item.get("type")
        if qtype not in QUESTION_TYPES:
            problems.append(Problem(f"{where}.type", f"unknown question type {qtype!r}; use one of {QUESTION_TYPES}"))
        options = _options(item, where, codes, problems, needed=qtype in ("single_choice", "multiple_choice"))
        if qtype == "free_text" and options:
            problems.append(Problem(f"{where}.options", "a free_text question takes no options"))
        help_text = _label(item["help"], f"{where}.help", codes, problems) if "help" in item else {}
        questions.append(Question(qid, str(qtype), _label(item.get("label"), f"{where}.label", codes, problems), help_text, options))
    _no_duplicates([q.id for q in questions], "questions", problems)

    if problems:
        return None
    return QuestionSet(
        key=key,
        title=title,
        languages=tuple(languages),
        default_language=default,
        consent=consent,
        groups=tuple(groups),
        profile=tuple(profile),
        questions=tuple(questions),
        definition=raw,
    )


def _list(value: Any, where: str, problems: list[Problem], required: bool = False) -> list[Any]:
    if value is None:
        if required:
            problems.append(Problem(where, "is missing"))
        return []
    if not isinstance(value, list):
        problems.append(Problem(where, "must be a list"))
        return []
    if required and not value:
        problems.append(Problem(where, "must not be empty"))
    return value


def _id(value: Any, where: str, problems: list[Problem]) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        problems.append(Problem(f"{where}.id", f"{value!r} is not a valid id (lower-case letters, digits, _)"))
        return str(value)
    return value


def _no_duplicates(ids: list[str], where: str, problems: list[Problem]) -> None:
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            problems.append(Problem(where, f"duplicate id {ident!r}"))
        seen.add(ident)


def _languages(value: Any, problems: list[Problem]) -> list[Language]:
    result = []
    for i, item in enumerate(_list(value, "languages", problems, required=True)):
        where = f"languages[{i}]"
        if isinstance(item, str):
            item = {"code": item}
        if not isinstance(item, dict):
            problems.append(Problem(where, "must be a language code or a mapping with code and status"))
            continue
        code = item.get("code")
        if code not in LANGUAGES:
            problems.append(Problem(f"{where}.code", f"unknown language {code!r}"))
            continue
        status = item.get("status", "reviewed")
        if status not in LANGUAGE_STATUSES:
            problems.append(Problem(f"{where}.status", f"must be one of {LANGUAGE_STATUSES}"))
        result.append(Language(code, status, str(item.get("note", ""))))
    _no_duplicates([lang.code for lang in result], "languages", problems)
    return result


def _label(value: Any, where: str, codes: list[str], problems: list[Problem]) -> Label:
    if isinstance(value, str):
        value = {codes[0] if codes else "en": value}
    if not isinstance(value, dict) or not value:
        problems.append(Problem(where, "missing label"))
        return {}
    label: Label = {}
    for code, text in value.items():
        if code not in LANGUAGES:
            problems.append(Problem(where, f"unknown language {code!r}"))
        elif code not in codes:
            problems.append(Problem(where, f"language {code!r} is not declared in languages"))
        elif not isinstance(text, str) or not text.strip():
            problems.append(Problem(f"{where}.{code}", "missing label"))
        else:
            label[code] = text
    for code in codes:
        if code not in value:
            problems.append(Problem(where, f"missing label in {code!r}"))
    return label


def _options(item: dict[str, Any], where: str, codes: list[str], problems: list[Problem], needed: bool) -> tuple[Option, ...]:
    raw = item.get("options")
    if raw is None:
        if needed:
            problems.append(Problem(f"{where}.options", "a choice needs at least two options"))
        return ()
    options = []
    for j, opt in enumerate(_list(raw, f"{where}.options", problems)):
        owhere = f"{where}.options[{j}]"
        if not isinstance(opt, dict):
            problems.append(Problem(owhere, "must be a mapping with id and label"))
            continue
        options.append(Option(_id(opt.get("id"), owhere, problems), _label(opt.get("label"), f"{owhere}.label", codes, problems)))
    if needed and len(options) < 2:
        problems.append(Problem(f"{where}.options", "a choice needs at least two options"))
    _no_duplicates([o.id for o in options], f"{where}.options", problems)
    return tuple(options)
