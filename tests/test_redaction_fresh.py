"""Redaction on the fresh labelled sets (written before the rules of issue 8), and properties that must hold on any text:
no phone-like digit run or e-mail-like token survives, text without details comes back unchanged, nothing raises."""

from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from analysis.evaluation import score_redaction
from analysis.privacy import HELPLINES, find_personal_details, redact

DATA = Path(__file__).resolve().parent / "data"


def _load(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


FRESH = _load("redaction_fresh.csv")
LANGUAGES = _load("redaction_languages.csv")


def test_fresh_sets_are_big_enough_and_varied():
    result = score_redaction(FRESH)
    assert len(FRESH) >= 300 and sum(result.expected.values()) >= 300
    assert result.expected["phone"] >= 80 and result.expected["handle"] >= 30 and result.expected["name"] >= 100
    assert sum("unicode" in r["kinds"] for r in FRESH) >= 15
    assert result.clean >= 100
    assert {r["language"] for r in LANGUAGES} == {"pl", "ro", "pa-Guru", "pa-Arab", "ur", "ar"}


def test_fresh_set_meets_the_targets():
    result = score_redaction(FRESH)
    for kind in ("phone", "email", "postcode", "handle"):
        assert result.recall(kind) == 1.0, (kind, result.found.get(kind), result.expected[kind])
    assert result.recall("address") >= 0.97, result.recall("address")
    assert result.recall("name") >= 0.95, result.recall("name")
    assert result.altered_rate <= 0.005, (result.altered, result.words)


def test_fresh_unicode_variants_are_all_redacted():
    rows = [r for r in FRESH if "unicode" in r["kinds"]]
    result = score_redaction(rows)
    assert result.masked == sum(result.expected.values())


@pytest.mark.parametrize("language", ["pl", "ro", "pa-Guru", "pa-Arab", "ur", "ar"])
def test_each_language_redacts_its_details_and_keeps_its_ordinary_answers(language):
    rows = [r for r in LANGUAGES if r["language"] == language]
    result = score_redaction(rows)
    for kind in ("phone", "email", "postcode", "handle"):
        assert result.recall(kind) == 1.0, (language, kind)
    assert result.recall("address") >= 0.9 and result.recall("name") >= 0.8, (language, dict(result.found))
    assert result.clean_untouched == result.clean, language
    assert result.altered_rate <= 0.02, (language, result.altered)


def test_every_fresh_answer_keeps_its_text_outside_the_spans():
    for row in FRESH + LANGUAGES:
        text = row["text"]
        spans = find_personal_details(text)
        outside = "".join(text[a:b] for a, b in zip([0] + [s.end for s in spans], [s.start for s in spans] + [len(text)],
                                                        strict=True))
        out = redact(text)
        for span in spans:
            assert text[span.start:span.end] not in out or not text[span.start:span.end].strip()
        assert re.sub(r"\[(phone|email|postcode|handle|address|name)\]", "", out) == \
            re.sub(r"(?<![\w£$.,])(?:flat|apartment|apt)\s*\d{1,4}[a-z]?\b\s*,?\s*(?=$)", "", outside) or \
            "[address]" in out, text


# --- properties -------------------------------------------------------------------------------------------------------

def _normalised(text: str) -> str:
    """NFKC, without format characters, Unicode spaces as " ", dashes as "-", every decimal digit in ASCII."""
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(ch)
        if category == "Cf":
            continue
        if category == "Zs":
            ch = " "
        elif category == "Pd" or ch == "\u2212":
            ch = "-"
        elif category == "Nd":
            ch = str(unicodedata.decimal(ch))
        out.append(ch)
    return "".join(out)


# Possessive quantifiers keep the check linear on long strings ("O" * 100_000).
# An O counts as a zero when it begins a word or sits among digits ("o7700", "9OO"), not at the end of "jo".
_DIGIT_RUN = re.compile(r"(?:(?<![A-Za-z0-9_])[Oo]++)?(?<![0-9])[0-9][0-9Oo]*+(?:[ .\-/()+]{1,3}+[Oo]*+[0-9][0-9Oo]*+)*+")
_EMAIL_LIKE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _digits(text: str) -> str:
    return "".join("0" if c in "Oo" else c for c in text if c.isdigit() or c in "Oo")


def _is_helpline_run(run: str) -> bool:
    """A listed helpline, alone or beside fewer than nine other digits ("Childline 0800 1111 999")."""
    if _digits(run) in HELPLINES:
        return True
    if len(_digits(run)) > 24:
        return False
    for sep in re.finditer(r"[ .\-/()+]+", run):
        left, right = _digits(run[:sep.start()]), _digits(run[sep.end():])
        if (left in HELPLINES and len(right) < 9) or (right in HELPLINES and len(left) < 9):
            return True
    return False


def _long_runs(text: str) -> list[str]:
    return [m.group(0) for m in _DIGIT_RUN.finditer(_normalised(text))
            if len(_digits(m.group(0))) >= 9 and not _is_helpline_run(m.group(0))]


_PIECES = st.sampled_from([
    "0", "7", "9", "1", "2", "00", "07700", "900", "123", "44", "+44", "+", "(", ")", " ", "  ", ".", "-", "/", "O", "o",
    "\u00a0", "\u202f", "\u2009", "\u2013", "\u2014", "\u2212", "\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad",
    "０", "７", "٠", "٧", "۹", "੭", "a", "x", "tel", "ring ", "my num ", "DY1 ", "@", "jo", ".com", "gmail", "é", "ش",
    "\n", ",", ":", "£",
])
_TEXT = st.lists(_PIECES, max_size=40).map("".join)


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_no_phone_like_digit_run_survives(text):
    out = redact(text)
    assert not _long_runs(out), (text, out)


_EMAIL_PIECES = st.sampled_from([
    "a", "jo", "Bob", ".", "_", "-", "+", "%", "1", "99", "@", "＠", "gmail", "co", ".com", ".co.uk", ".org", "uk",
    " ", "\u200b", "\u00a0", "é", "x@y.io", "(at)", " at ", " dot ", "mail", ",",
])


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(_EMAIL_PIECES, max_size=30).map("".join))
def test_no_email_like_token_survives(text):
    out = _normalised(redact(text))
    assert not _EMAIL_LIKE.search(out), (text, out)


_ORDINARY = st.sampled_from([
    "we", "need", "more", "youth", "clubs", "the", "park", "is", "unsafe", "after", "dark", "Saturday", "Hope", "Grace",
    "Faith", "the high street shops", "on the high street", "bus", "fares", "cost", "too", "much", "kids", "parents",
    "school", "teachers", "listen", "Childline 0800 1111", "NSPCC 0808 800 5000", "Samaritans 116 123", "999", "111",
    "101", "24/7", "open 9-5", "£2.50", "in 2026", "at 3:30pm", "age 15", "about 300", "1 in 5", "years 7 to 11",
    "nothing", "to", "do", "and", "or", "but", "really", "bored", "lol", "tbh", "idk", "!", "?", ".", ",", "x",
    "Dudley", "Tipton", "on the green", "football", "food bank", "mental health", "waiting lists", "2 years", "mums",
    "sons", "safe", "places", "w sobotę", "sâmbătă", "ہفتے کو", "يوم السبت", "ਸ਼ਨੀਵਾਰ",
])


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(_ORDINARY, min_size=1, max_size=25))
def test_text_without_details_is_returned_unchanged(words):
    # Pieces joined as sentences: "24/7 the high street" or "age 15 the green" run together are address-shaped.
    text = ". ".join(words)
    assume(not _long_runs(text))  # "999 999 999" is nine digits in a row: a phone by definition
    assert redact(text) == text


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=300))
def test_never_raises_on_any_text_and_stays_idempotent(text):
    out = redact(text)
    assert isinstance(out, str)
    assert redact(out) == out or "[" in out


@pytest.mark.parametrize("text", [
    "0" * 200_000, "07700 900123 " * 20_000, "a@" * 50_000, "@" * 100_000, "\u202e" * 10_000 + "07700900123",
    "😀" * 50_000, "\x00\x01\x02\x1b[31m" * 5_000, "שלום עולם " * 5_000, "مرحبا " * 10_000, "ـ" * 20_000,
    "\u200b".join("0770090012") * 2_000, "Mr " * 10_000, "my mate " * 20_000, "ul. " * 20_000, "شارع " * 20_000,
    "1 " * 50_000, "O" * 100_000, "o0" * 50_000, "\ud800" * 10, "x\u0301" * 20_000,
], ids=lambda text: f"{text[:6]!r}x{len(text)}")
def test_hostile_input_never_raises(text):
    out = redact(text)
    assert isinstance(out, str)
    assert not _long_runs(out)
