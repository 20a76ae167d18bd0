"""The speed gates in screening (issue 11) change no result: redaction and the disclosure check with every gate
replaced by the full path they skip give the same output on every text we hold and on generated, obfuscated text.

The gates: analysis.privacy._has_digit / _digit_count (a regex or str.count instead of a loop over characters),
_may_hold_url / _may_hold_at (a search that cannot match is skipped), analysis.safeguarding._may_hold_age and
_may_be_hidden (one search standing for the four obfuscation tests and the squeeze of stretched letters).
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import privacy, safeguarding
from analysis.screening import screen

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
NHS = SHARED / "datasets" / "nhs-phase1" / "text_data.csv"

#: each gate and the full path it stands for (what the code did before the gate)
FULL_PATH = {
    (privacy, "_has_digit"): lambda text: any(c.isdigit() for c in text),
    (privacy, "_digit_count"): lambda text: sum(c.isdigit() for c in text),
    (privacy, "_may_hold_url"): lambda text: True,
    (privacy, "_may_hold_at"): lambda text: True,
    (safeguarding, "_may_hold_age"): lambda norm: any(ch.isdigit() for ch in norm),
    (safeguarding, "_may_be_hidden"): lambda text: True,
}


@contextlib.contextmanager
def patched(replacements: dict) -> Iterator[None]:
    saved = {key: getattr(*key) for key in replacements}
    try:
        for (module, name), value in replacements.items():
            setattr(module, name, value)
        yield
    finally:
        for (module, name), value in saved.items():
            setattr(module, name, value)


def full_path(texts: list[tuple[str, str | None]]) -> list:
    with patched(FULL_PATH):
        return [screen(text, question) for text, question in texts]


def fast_path(texts: list[tuple[str, str | None]]) -> list:
    return [screen(text, question) for text, question in texts]


def held_texts() -> list[tuple[str, str | None]]:
    """Every text of the repository's labelled sets (safeguarding and redaction, eval, fresh and languages sets),
    once with its own question and once as an answer to the defining question."""
    out: list[tuple[str, str | None]] = []
    for path in sorted((ROOT / "tests" / "data").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(line for line in handle if not line.startswith("#")):
                text = row.get("text")
                if text:
                    out.append((text, row.get("question_id") or None))
                    out.append((text, "neglect_is"))
    return out


def nhs_texts() -> list[tuple[str, str | None]]:
    if not NHS.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{NHS} is missing")
        pytest.skip(f"{NHS} is not here (../shared is not checked out)")
    with NHS.open(encoding="utf-8", newline="") as handle:
        return [(row["feedback"], None) for row in csv.DictReader(handle) if row["feedback"]]


def test_held_sets_are_screened_the_same():
    texts = held_texts()
    assert len(texts) > 1_000, "the labelled sets are missing"
    assert fast_path(texts) == full_path(texts)


def test_nhs_comments_are_screened_the_same():
    texts = nhs_texts()
    assert len(texts) > 10_000
    assert fast_path(texts) == full_path(texts)


def test_the_sets_reach_every_gate():
    """The comparison means something only if the texts take each gated path: a gate that wrongly says "cannot
    match" must change some result on them."""
    texts = held_texts() + [(t, None) for t in ("my snap is @jake_99", "insta.com/x? instagram.com/jake_b",
                                                "im 14 and my boyfriend is 22", "call 07700 900123",
                                                "he h1ts me", "my dad hiiiits me", "he b.e.a.t.s me")]
    reference = full_path(texts)
    for key in FULL_PATH:
        if key[1] == "_digit_count":
            wrong = lambda text: 0  # noqa: E731
        else:
            wrong = lambda text: False  # noqa: E731
        with patched({key: wrong}):
            assert fast_path(texts) != reference, f"no text here goes through {key[1]}"


# Generated text: words that the rules read, digits and phone-like runs, the characters the gates look for, and the
# usual ways of hiding a word (zero-width characters, leetspeak, letters split by spaces or dots, stretched letters).
WORDS = ("i me my mum dad he she hits hit beat touched kill myself scared home alone hungry no food money 14 22 "
         "boyfriend is im years old snap insta @jake_99 instagram.com/jake tiktok.com/@kai call 07700 900123 0800 "
         "1111 flat 3 12 high street sw1a 1aa jake smith mr brown nobody cares always never").split()
HIDING = ("\u200b", "\u00ad", "\u200d", "\ufeff", "٣", "²", "①", "፩", "０", "\u202e")
LEET = str.maketrans({"i": "1", "e": "3", "a": "4", "s": "5", "o": "0", "t": "7"})


@st.composite
def obfuscated(draw) -> str:
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=14))
    out = []
    for word in words:
        how = draw(st.sampled_from(["plain", "leet", "spaced", "dotted", "stretched", "hidden", "upper"]))
        if how == "leet":
            word = word.translate(LEET)
        elif how == "spaced":
            word = " ".join(word)
        elif how == "dotted":
            word = ".".join(word)
        elif how == "stretched" and word:
            word = word[0] + word[-1] * draw(st.integers(2, 6)) if len(word) < 3 else word[:2] + word[2] * 4 + word[3:]
        elif how == "hidden" and len(word) > 1:
            cut = draw(st.integers(1, len(word) - 1))
            word = word[:cut] + draw(st.sampled_from(HIDING)) + word[cut:]
        elif how == "upper":
            word = word.upper()
        out.append(word)
    separator = draw(st.sampled_from([" ", " ", ". ", ", ", "/", "\n"]))
    return separator.join(out)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(obfuscated(), st.text(max_size=80)), question=st.sampled_from([None, "neglect_is",
                                                                                     "thrive_helps"]))
def test_generated_text_is_screened_the_same(text, question):
    assert fast_path([(text, question)]) == full_path([(text, question)])
