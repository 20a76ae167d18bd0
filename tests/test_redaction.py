"""Redaction: recall per kind on the labelled set, ordinary words untouched, formats from the brief, hostile input."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from analysis import privacy
from analysis.evaluation import PLACEHOLDER, score_redaction
from analysis.privacy import Span, find_personal_details, redact

EVAL = Path(__file__).resolve().parent / "data" / "redaction_eval.csv"


def _rows(split: str | None = None) -> list[dict[str, str]]:
    with EVAL.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r for r in rows if split is None or r["split"] == split]


def _figures(rows):
    result = score_redaction(rows)
    return {kind: result.recall(kind) for kind in result.expected}, result.altered_rate


def test_labelled_set_covers_every_kind_and_many_clean_answers():
    rows = _rows()
    kinds = Counter(k for r in rows for k in PLACEHOLDER.findall(r["expected"]))
    assert kinds["phone"] >= 50 and kinds["email"] >= 25 and kinds["postcode"] >= 40
    assert kinds["name"] >= 100 and kinds["address"] >= 20
    assert sum(1 for r in rows if r["kinds"] == "clean") >= 150


@pytest.mark.parametrize("split", [None, "holdout"])
def test_recall_per_kind_and_ordinary_words_meet_targets(split):
    recall, altered_rate = _figures(_rows(split))
    for kind in ("phone", "email", "postcode"):
        assert recall[kind] >= 0.99, f"{kind}: {recall[kind]:.3f}"
    assert recall["name"] >= 0.80, f"name: {recall['name']:.3f}"
    assert recall["address"] >= 0.90, f"address: {recall['address']:.3f}"
    assert altered_rate <= 0.005, f"ordinary words altered: {altered_rate:.4f}"


def test_clean_answers_are_left_exactly_as_typed():
    # The clean rows include deliberately hard ones (brands after a title: "Dr Martens boots", "Mr Motivator");
    # a handful may change, never more than 2 in 100.
    clean = [r["text"] for r in _rows() if r["kinds"] == "clean"]
    changed = [t for t in clean if redact(t) != t]
    assert len(changed) <= len(clean) * 0.02, changed


@pytest.mark.parametrize("number", [
    "07700 900123", "07700900123", "+44 7700 900123", "+447700900123", "(0121) 496 0000", "0121 496 0000",
    "01384 123456", "07700-900-123", "07700.900.123", "0121-496-0000", "+44 (0)121 496 0000", "0044 7700 900123",
])
def test_uk_phone_formats(number):
    assert redact(f"ring me on {number} after school") == "ring me on [phone] after school"


@pytest.mark.parametrize("postcode", ["DY1 1HF", "dy11hf", "B69 4RG", "SW1A 1AA", "M1 1AE", "wv14 0qd", "EC1A 1BB"])
def test_uk_postcode_formats_any_case(postcode):
    assert redact(f"we live in {postcode} now") == "we live in [postcode] now"


@pytest.mark.parametrize("text, expected", [
    ("I live at 12 Smith Street", "I live at [address]"),
    ("flat 3, 45 Hill Rd", "[address]"),
    ("23b Oak Avenue is our house", "[address] is our house"),
    ("2 kids play in the park", "2 kids play in the park"),
    ("a 10 minute walk to school", "a 10 minute walk to school"),
])
def test_street_addresses(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("my son Will is 5", "my son [name] is 5"),
    ("I will go to the park", "I will go to the park"),
    ("Will there be food?", "Will there be food?"),
    ("having hope and faith groups help", "having hope and faith groups help"),
    ("Hope is what keeps us going", "Hope is what keeps us going"),
    ("ask for Grace at reception", "ask for [name] at reception"),
    ("Grace is my key worker", "[name] is my key worker"),
    ("in May we have the carnival", "in May we have the carnival"),
    ("Mark my words", "Mark my words"),
    ("contact Bill on 07700 900123", "contact [name] on [phone]"),
    ("Sunny days help", "Sunny days help"),
    ("called Rose", "called [name]"),
    ("a red rose", "a red rose"),
    ("Jake hits me", "[name] hits me"),
    ("my mate jake's dad", "my mate [name]'s dad"),
    ("Priya Sharma helped me", "[name] helped me"),
    ("I said no", "I said no"),
    ("we go to Mary Stevens Park", "we go to Mary Stevens Park"),
])
def test_names_only_when_list_or_context_says_so(text, expected):
    assert redact(text) == expected


def test_email_and_several_details_in_one_answer():
    text = "Call Jake on 07700 900123 or email jake.b@example.co.uk, 12 Smith Street DY1 1HF"
    assert redact(text) == "Call [name] on [phone] or email [email], [address] [postcode]"


def test_find_personal_details_reports_kinds_and_positions():
    text = "email a@b.com or 07700 900123"
    spans = find_personal_details(text)
    assert [s.kind for s in spans] == ["email", "phone"]
    assert all(isinstance(s, Span) for s in spans)
    assert text[spans[0].start:spans[0].end] == "a@b.com"
    assert text[spans[1].start:spans[1].end] == "07700 900123"


def test_redaction_is_idempotent_over_the_labelled_set():
    for row in _rows():
        once = redact(row["text"])
        assert redact(once) == once, row["text"]


@pytest.mark.parametrize("text", [
    "<script>alert('x')</script>", "<img src=x onerror=alert(1)>", "=HYPERLINK(\"http://evil\",\"x\")",
    "محمد يعيش في 12 شارع", "میرا فون 07700 900123 ہے", "😀😢🔥" * 50, "a" * 2000, "0" * 2000, "@" * 2000,
    "+44 " * 500, "12 Smith " * 222, "\x00\x01\u202e", "", None, 12345,
])
def test_hostile_input_never_raises_and_stays_idempotent(text):
    once = redact(text)
    assert isinstance(once, str)
    assert redact(once) == once


def test_phone_inside_rtl_text_is_still_redacted():
    assert "[phone]" in redact("میرا فون 07700 900123 ہے")


def test_missing_names_file_degrades_to_context_only(monkeypatch, tmp_path):
    monkeypatch.setattr(privacy, "NAMES_FILE", tmp_path / "missing.txt")
    privacy._name_lists.cache_clear()
    try:
        assert redact("Jake hits me") == "Jake hits me"
        assert redact("my son Jake is 5") == "my son [name] is 5"
    finally:
        privacy._name_lists.cache_clear()


@pytest.mark.parametrize("text, expected", [
    ("email me jake99 at hotmail dot com", "email me [email]"),
    ("we are at school dot com", "we are at school dot com"),
    ("add me on snap: jakey_123", "add me on snap: [name]"),
    ("follow @zara.k_2011", "follow [name]"),
    ("meet @ the park at 5", "meet @ the park at 5"),
    ("my dads number in poland is +48 512 345 678", "my dads number in poland is [phone]"),
    ("ring 999 or 111", "ring 999 or 111"),
    ("born 2010-05-12, a 50-50 chance", "born 2010-05-12, a 50-50 chance"),
])
def test_spelt_out_emails_handles_and_international_numbers(text, expected):
    assert redact(text) == expected


def test_national_helplines_are_not_personal_details():
    assert redact("call childline on 0800 1111 or the NSPCC on 0808 800 5000") == \
        "call childline on 0800 1111 or the NSPCC on 0808 800 5000"
    assert redact("call Childline or my mum on 07700 900123") == "call Childline or my mum on [phone]"


def test_detectors_themselves_raise_nothing_on_the_labelled_set():
    # find_personal_details() hides failures behind a safe default, so test the parts underneath directly.
    for row in _rows():
        spans = privacy._regex_spans(row["text"])
        privacy._names(row["text"], [(s.start, s.end) for s in spans])


def test_a_failing_detector_withholds_the_answer_rather_than_leak_it(monkeypatch):
    def broken(_text):
        raise RuntimeError("bug")

    monkeypatch.setattr(privacy, "_regex_spans", broken)
    assert redact("call Jake on 07700 900123") == "[answer withheld: redaction failed]"
