"""Disclosure detection: the figures on the labelled set, the examples from the brief, and hostile input."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from analysis.safeguarding import CATEGORY_LABELS, Disclosure, check, normalise

EVAL = Path(__file__).resolve().parent / "data" / "disclosure_eval.csv"


def _rows() -> list[dict[str, str]]:
    with EVAL.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _rates(rows):
    disclosures = [r for r in rows if r["label"] == "disclosure"]
    general = [r for r in rows if r["label"] == "general"]
    recall = sum(1 for r in disclosures if check(r["text"])) / len(disclosures)
    false_alarms = sum(1 for r in general if check(r["text"])) / len(general)
    return recall, false_alarms


def test_labelled_set_is_big_enough_and_well_formed():
    rows = _rows()
    labels = defaultdict(int)
    for row in rows:
        assert row["label"] in {"disclosure", "general"}, row
        assert row["text"].strip(), row
        labels[row["label"]] += 1
    assert labels["disclosure"] >= 150 and labels["general"] >= 150
    assert len({r["text"] for r in rows}) == len(rows), "duplicate texts in the labelled set"


def test_recall_and_false_alarms_meet_targets_on_whole_set():
    recall, false_alarms = _rates(_rows())
    assert recall >= 0.95, f"recall {recall:.3f}"
    assert false_alarms <= 0.20, f"false alarms {false_alarms:.3f}"


def test_recall_and_false_alarms_meet_targets_on_held_out_part():
    held_out = [r for r in _rows() if r["split"] == "holdout"]
    assert len(held_out) >= 60
    recall, false_alarms = _rates(held_out)
    assert recall >= 0.95, f"held-out recall {recall:.3f}"
    assert false_alarms <= 0.20, f"held-out false alarms {false_alarms:.3f}"


def test_every_category_reaches_recall_target():
    by_category = defaultdict(list)
    for row in _rows():
        if row["label"] == "disclosure":
            by_category[row["category"]].append(row["text"])
    assert set(by_category) >= {"physical", "sexual", "left_alone", "no_food_heating", "scared_home", "thrown_out",
                                "self_harm", "exploitation", "parent_cannot_cope"}
    for category, texts in by_category.items():
        recall = sum(1 for t in texts if check(t)) / len(texts)
        assert recall >= 0.9, f"{category}: {recall:.2f}"


@pytest.mark.parametrize("text", [
    "my dad hitz me", "im scared 2 go home", "mum dont feed us", "no food in r house", "i wanna kms",
    "sum1 touchd me", "my mate's step dad hurts her", "my neighbour's kids are left alone every night",
    "MY DAD HITS ME!!!", "i got kicked out last night", "my mum cant cope", "older boys make me sell drugs",
    "I want to kill myself.", "he touched me",
])
def test_brief_examples_are_flagged(text):
    assert isinstance(check(text), Disclosure)


@pytest.mark.parametrize("text", [
    "children left on their own is neglect", "parents hitting kids", "not having food", "self harm",
    "what is neglect? not feeding your kids", "kids going hungry", "being scared to go home", "county lines",
    "I think children being hit is wrong", "having hope", "faith groups", "",
])
def test_general_statements_are_not_flagged(text):
    assert check(text) is None


def test_reason_names_category_and_triggering_words():
    found = check("my step dad beats me")
    assert found is not None and found.category == "physical" and found.confidence == "high"
    assert CATEGORY_LABELS["physical"] in found.reason and "beats me" in found.reason
    found = check("i have been cutting again")
    assert found.category == "self_harm" and "cutting" in found.reason


def test_first_person_statement_in_a_longer_generic_answer_is_still_found():
    text = "Neglect is when children are not looked after. My dad hits me when he is drunk."
    assert check(text).category == "physical"


def test_normaliser_expands_text_speak_and_repairs_slips():
    assert normalise("im scared 2 go home") == "i am scared to go home"
    assert normalise("sum1 touchd me") == "someone touched me"
    assert normalise("no food in r house") == "no food in our house"
    assert "hungry" in normalise("im always hungery")


@pytest.mark.parametrize("text", [
    "<script>alert('x')</script>", "<img src=x onerror=alert(1)>", "=HYPERLINK(\"http://evil\",\"x\")",
    "میرے والد مجھے مارتے ہیں", "أبي يضربني", "😀😢🔥" * 50, "a" * 2000, "i " * 1000, "\x00\x01\u202e",
    "my dad " * 300, None, 12345,
])
def test_hostile_input_never_raises(text):
    result = check(text)
    assert result is None or isinstance(result, Disclosure)


def test_disclosure_hidden_among_markup_is_found():
    assert check("<b>my dad hits me</b>") is not None


@pytest.mark.parametrize("text", [
    "ring my mum on 07700 900123", "my dad is in the army", "i go to school in dudley", "my mum is a nurse",
    "we go to church on sundays", "i have 2 sisters and a brother", "my mum helps me when im sad",
])
def test_neutral_or_reassuring_personal_answers_are_not_flagged(text):
    assert check(text) is None


def test_uneasy_personal_statement_is_flagged_with_low_confidence():
    for text in ("my step dad says i am not allowed out of my room when he is in",
                 "i never see my mum she just stays out"):
        found = check(text)
        assert found is not None and found.confidence == "low" and found.category == "personal", text
        assert "low confidence" in found.reason


def test_disclosure_at_the_end_of_a_very_long_answer_is_found():
    text = "Parks and youth clubs help children. " * 400 + "My dad hits me."
    assert len(text) > 10_000
    assert check(text) is not None


def test_a_failing_check_flags_the_answer_for_a_person(monkeypatch):
    import analysis.safeguarding as module

    def broken(_text):
        raise RuntimeError("bug")

    monkeypatch.setattr(module, "_check", broken)
    found = module.check("anything at all")
    assert found is not None and found.category == "unchecked" and found.confidence == "low"


def test_demo_answers_raise_a_few_flags_not_a_flood():
    # The demo answers (data/demo/answers.csv, written for the demo by another engineer) mix a handful of
    # disclosures into ~500 ordinary answers: the queue should show those, not half the demo.
    demo = Path(__file__).resolve().parent.parent / "data" / "demo" / "answers.csv"
    if not demo.exists():
        pytest.skip("no demo answers in this checkout")
    with demo.open(encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    flagged = [t for t in texts if check(t)]
    assert 5 <= len(flagged) <= 0.05 * len(texts), flagged
    assert any("hits me" in t for t in flagged)


def test_rules_themselves_raise_nothing_on_the_labelled_set():
    # check() turns a failure into a low-confidence flag, so test the rules underneath directly.
    import analysis.safeguarding as module

    for row in _rows():
        module._check(row["text"])


@pytest.mark.parametrize("text, category", [
    ("tata mnie bije", "physical"), ("Boję się wracać do domu", "scared_home"), ("chcę się zabić", "self_harm"),
    ("میرے والد مجھے مارتے ہیں", "physical"), ("abbu mujhe marte hain", "physical"), ("أبي يضربني", "physical"),
    ("اريد ان اموت", "self_harm"),
])
def test_a_few_statements_in_other_community_languages(text, category):
    found = check(text)
    assert found is not None and found.category == category and " in " in found.reason


@pytest.mark.parametrize("text", ["Dzieci potrzebują miłości", "Marta jest fajna", "الأطفال يحتاجون الحب",
                                  "ghar achha hai", "بچوں کو پیار چاہیے"])
def test_ordinary_answers_in_other_languages_are_not_flagged(text):
    assert check(text) is None


@pytest.mark.parametrize("text", [
    "as a teacher i see children come in hungry every day", "we have pupils who come to school hungry",
    "in my job i see families who cant cope", "i have seen parents who hit their children",
])
def test_practitioners_talking_about_their_work_are_not_flagged(text):
    assert check(text) is None


@pytest.mark.parametrize("text", ["i have a pupil whose dad hits him", "one of my pupils told me her stepdad touches her"])
def test_practitioners_describing_a_specific_child_are_flagged(text):
    assert check(text) is not None
