"""Every interface text of the app: one catalogue per language.

A language's catalogue is its folder, `ui/i18n/<code>/`: one YAML file per part of the app (capture.yaml for
Collect, Transcribe and sign-in; one per staff page; frame.yaml for the menu and the messages every page shares),
merged on load into one flat mapping of dotted keys to texts, so that people working on different pages never
edit the same file. A key may be defined in one file only; `_meta` (status, note) may be in any one file.

`t(key, lang, **fmt)` looks a text up and fills its {placeholders}. A catalogue is validated on load (every key a
non-empty string, no key twice); tests/test_i18n.py checks that every shipped language has every English key with
the same placeholders. A key missing from a language falls back to English in production; with
THRIVE_I18N_STRICT=1 (the test suite sets it) it raises, so tests catch it.
"""

from __future__ import annotations

import os
import string
from functools import cache
from pathlib import Path

import yaml

DIR = Path(__file__).resolve().parent
BASE = "en"


class MissingText(KeyError):
    """A key the catalogue of a language does not have (only raised in strict mode, or for English)."""


class InvalidCatalogue(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def languages() -> list[str]:
    """The shipped catalogues' language codes, English first."""
    return list(_shipped())


@cache
def _shipped() -> tuple[str, ...]:
    # read once per process, like the catalogues: every page asks (ui.session.ui_language) on every rerun
    codes = sorted(p.name for p in DIR.iterdir() if p.is_dir() and any(p.glob("*.yaml")))
    return (BASE, *(c for c in codes if c != BASE))


def files(lang: str) -> list[Path]:
    """The YAML files that make up one language's catalogue, in a fixed order."""
    folder = DIR / lang
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def _load(lang: str) -> list[tuple[Path, object]]:
    return [(path, yaml.safe_load(path.read_text(encoding="utf-8"))) for path in files(lang)]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def validate(raw: object, lang: str) -> dict[str, str]:
    """The catalogue as a dict, or InvalidCatalogue naming every problem."""
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise InvalidCatalogue([f"{lang}: must be a mapping of keys to texts"])
    result: dict[str, str] = {}
    for key, value in raw.items():
        if key == "_meta":
            continue
        if not isinstance(key, str) or not isinstance(value, str) or not value.strip():
            problems.append(f"{lang}: {key!r} must be a non-empty text")
            continue
        try:
            placeholders(value)
        except ValueError as exc:
            problems.append(f"{lang}: {key}: {exc}")
            continue
        result[key] = value
    if problems:
        raise InvalidCatalogue(problems)
    return result


@cache
def catalogue(lang: str) -> dict[str, str]:
    """One language's whole catalogue (every file of its folder merged); InvalidCatalogue names every problem."""
    merged: dict[str, str] = {}
    where: dict[str, str] = {}
    problems: list[str] = []
    for path, raw in _load(lang):
        name = f"{lang}/{path.name}"
        try:
            texts = validate(raw, name)
        except InvalidCatalogue as exc:
            problems += exc.problems
            continue
        for key, text in texts.items():
            if key in merged:
                problems.append(f"{name}: {key!r} is already defined in {where[key]}")
            else:
                merged[key], where[key] = text, name
    if problems:
        raise InvalidCatalogue(problems)
    return merged


@cache
def meta(lang: str) -> dict:
    """A language's `_meta` (status, note). Cached like the catalogue: reading it parsed every file of the language,
    and the language choices call it per option per rerun (89 % of the server's time with 10 tablets saving)."""
    for _path, raw in _load(lang):
        if isinstance(raw, dict) and isinstance(raw.get("_meta"), dict):
            return raw["_meta"]
    return {}


def strict() -> bool:
    """A missing key raises (THRIVE_I18N_STRICT=1, set by tests/conftest.py) instead of falling back to English."""
    return os.environ.get("THRIVE_I18N_STRICT") == "1"


def t(key: str, lang: str | None = None, /, **fmt: object) -> str:
    """The text for `key` in `lang` (English if None), with `fmt` filled in. Values in fmt are not escaped here."""
    texts = catalogue(lang or BASE)
    text = texts.get(key)
    if text is None:
        if strict() or lang in (None, BASE):
            raise MissingText(f"no text {key!r} in the {lang or BASE} catalogue")
        text = catalogue(BASE).get(key)
        if text is None:
            raise MissingText(f"no text {key!r} in the {BASE} catalogue")
    return text.format(**fmt) if fmt else text  # without fmt: the template itself (e.g. a label to fill later)
