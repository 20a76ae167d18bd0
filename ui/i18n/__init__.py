"""Interface text for the capture pages (Collect, Transcribe, sign-in): one YAML catalogue per language.

`t(key, lang, **fmt)` looks a text up and fills its {placeholders}. A catalogue is a flat mapping of dotted keys to
strings, validated on load (every key a string, placeholders the same as the English text's). A key missing from a
language falls back to English in production; with THRIVE_I18N_STRICT=1 (the test suite sets it) it raises, so tests catch it.
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
    codes = sorted(p.stem for p in DIR.glob("*.yaml"))
    return [BASE] + [c for c in codes if c != BASE]


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
    path = DIR / f"{lang}.yaml"
    if not path.is_file():
        return {}
    return validate(yaml.safe_load(path.read_text(encoding="utf-8")), lang)


def meta(lang: str) -> dict:
    path = DIR / f"{lang}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return raw.get("_meta", {}) if isinstance(raw, dict) else {}


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
