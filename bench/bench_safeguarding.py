"""Disclosure detection: recall and false alarms on the labelled sets, and speed at import scale.

Run: python bench/bench_safeguarding.py [--rows 100000]
Fresh sets (issue 8), written before any rule change and measured once with the code as it then was (the figures
in FIRST_MEASURED, printed beside today's): tests/data/disclosure_fresh.csv (English: teenagers, parents and
practitioners; exploitation, obfuscated spellings, text-speak; definitions given to "neglect_is") and
tests/data/disclosure_languages.csv (Polish, Romanian, Punjabi in Gurmukhi, Shahmukhi and romanised, Urdu, Arabic;
written by the developers and NEEDING A NATIVE SPEAKER'S CHECK). Each is reported overall, per category, per
question, per style or language, and per strength (strong/possible) of what was flagged.
The older set, tests/data/disclosure_eval.csv, was written beside the rules:
Prints recall (disclosures flagged) and the false-alarm rate (general statements flagged), overall, per split
and per category. dev = rows used while writing the rules (including earlier held-out batches, each measured once
and then used); holdout = the last three batches, written after the rules were settled and each measured once
before any change: recall 0.949 (37/39) with 0 false alarms (0/36); recall 0.943 (33/35) with 0 false alarms
(0/33); recall 0.971 (34/35) with 0.056 false alarms (2/36). Their misses ("leathered me", "goodbye letters", "no
adult in the house", "not allowed home", "home is like a war zone") and false alarms were then fixed, so today's
holdout figure is optimistic. Then recall under random typing slips, the time per answer over
N short answers against a floor measured in the same run (a raw executemany of the same rows into an on-disk
table), and the worst time on adversarial 2,000-character strings.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from floors import responses_executemany  # noqa: E402

from analysis.safeguarding import check, read_labelled, score_disclosures  # noqa: E402

EVAL = ROOT / "tests" / "data" / "disclosure_eval.csv"
FRESH = ROOT / "tests" / "data" / "disclosure_fresh.csv"
LANGUAGES = ROOT / "tests" / "data" / "disclosure_languages.csv"

# First measured before rule changes (2026-12-01), with the rules as they were at commit a564b86:
# (set, grouping, value) -> (recall, false-alarm rate). Never updated: today's figures are printed beside them.
NAN = float("nan")  # no row of that label in the group
FIRST_MEASURED: dict[tuple[str, str], tuple[float, float]] = {
    ('fresh', 'overall=all'): (0.785, 0.043),
    ('fresh', 'category=emotional'): (0.8, 0.0),
    ('fresh', 'category=exploitation'): (0.63, 0.125),
    ('fresh', 'category=left_alone'): (0.929, 0.0),
    ('fresh', 'category=no_food_heating'): (0.824, 0.038),
    ('fresh', 'category=none'): (NAN, 0.041),
    ('fresh', 'category=parent_cannot_cope'): (0.7, 0.0),
    ('fresh', 'category=physical'): (0.792, 0.0),
    ('fresh', 'category=scared_home'): (0.857, 0.0),
    ('fresh', 'category=self_harm'): (0.773, 0.125),
    ('fresh', 'category=sexual'): (0.8, 0.0),
    ('fresh', 'category=thrown_out'): (0.857, 0.0),
    ('fresh', 'question_id=neglect_is'): (0.854, 0.022),
    ('fresh', 'question_id=thrive_helps'): (1.0, 0.1),
    ('fresh', 'question_id=thrive_local'): (1.0, 0.0),
    ('fresh', 'question_id=thrive_stops'): (0.758, 0.056),
    ('fresh', 'style=obfuscated'): (0.304, 0.0),
    ('fresh', 'style=plain'): (0.864, 0.045),
    ('fresh', 'style=textspeak'): (0.778, 0.0),
    ('fresh', 'voice=community_volunteer'): (NAN, 0.0),
    ('fresh', 'voice=decision_maker'): (NAN, 0.0),
    ('fresh', 'voice=faith_group'): (NAN, 0.0),
    ('fresh', 'voice=family_centre_staff'): (NAN, 0.0),
    ('fresh', 'voice=parent_carer'): (1.0, 0.0),
    ('fresh', 'voice=practitioner'): (0.6, 0.0),
    ('fresh', 'voice=resident'): (NAN, 0.0),
    ('fresh', 'voice=school_staff'): (NAN, 0.111),
    ('fresh', 'voice=young_person'): (0.781, 0.055),
    ('languages', 'overall=all'): (0.106, 0.0),
    ('languages', 'language=ar'): (0.333, 0.0),
    ('languages', 'language=pa-Arab'): (0.0, 0.0),
    ('languages', 'language=pa-Guru'): (0.0, 0.0),
    ('languages', 'language=pa-Latn'): (0.0, 0.0),
    ('languages', 'language=pl'): (0.333, 0.0),
    ('languages', 'language=ro'): (0.0, 0.0),
    ('languages', 'language=ur'): (0.0, 0.0),
    ('languages', 'language=ur-Latn'): (0.0, 0.0),
    ('languages', 'category=exploitation'): (0.0, 0.0),
    ('languages', 'category=left_alone'): (0.0, 0.0),
    ('languages', 'category=no_food_heating'): (0.125, 0.0),
    ('languages', 'category=none'): (NAN, 0.0),
    ('languages', 'category=parent_cannot_cope'): (0.0, NAN),
    ('languages', 'category=physical'): (0.211, 0.0),
    ('languages', 'category=scared_home'): (0.0, 0.0),
    ('languages', 'category=self_harm'): (0.083, NAN),
    ('languages', 'category=sexual'): (0.222, NAN),
    ('languages', 'category=thrown_out'): (0.125, NAN),
}
# The languages set's "holdout" rows (31: 17 disclosures, 14 general) were written after the new rules were settled and
# measured once, 2026-12-01: recall 0.941 (16/17; missed the Polish "Nikt w domu nie daje mi jeść"), false alarms
# 0.000 (0/14). The "dev" rows were measured first (above) and then used to write the rules, so their figure today is
# optimistic.
FIRST_MEASURED[("languages", "split=holdout")] = (0.941, 0.0)
# Strengths at the same first measurement: of the caught fresh disclosures, how many got each strength, and how many
# got the strength they were labelled with (the rules then derived strength only from the low-confidence net).
FIRST_MEASURED_STRENGTHS = {"fresh": {"caught strong": 123, "caught possible": 12, "false alarms strong": 7,
                                      "false alarms possible": 2, "as labelled": "102/135 (0.756)"},
                            "languages": {"caught strong": 9, "caught possible": 0}}

# Ordinary answers of the kind most rows of an import contain (no harm words), to mix in at a realistic share.
ORDINARY = [
    "having a loving family", "friends and family", "youth clubs and parks", "more things to do for teenagers",
    "good schools", "someone to talk to", "bullying", "not enough money", "social media", "cheaper buses",
    "having hope and faith", "sport and music", "a safe place to play", "kind teachers", "being listened to",
    "i think more youth workers", "family centres", "more activities in the holidays", "free swimming",
]


def load() -> list[dict[str, str]]:
    with EVAL.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def rates(rows: list[dict[str, str]]) -> tuple[float, float, int, int]:
    disclosures = [r for r in rows if r["label"] == "disclosure"]
    general = [r for r in rows if r["label"] == "general"]
    hit = sum(1 for r in disclosures if check(r["text"]))
    alarms = sum(1 for r in general if check(r["text"]))
    recall = hit / len(disclosures) if disclosures else float("nan")
    false_alarms = alarms / len(general) if general else float("nan")
    return recall, false_alarms, len(disclosures), len(general)


def report_quality(rows: list[dict[str, str]]) -> None:
    recall, fa, nd, ng = rates(rows)
    print(f"overall      recall {recall:.3f} ({nd} disclosures)   false alarms {fa:.3f} ({ng} general)")
    for split in ("dev", "holdout"):
        part = [r for r in rows if r.get("split", "dev") == split]
        if part:
            recall, fa, nd, ng = rates(part)
            print(f"{split:<12} recall {recall:.3f} ({nd})   false alarms {fa:.3f} ({ng})")
    by_cat: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_cat[r["category"]].append(r)
    print("\nper category      recall   (n)   false alarms  (n)")
    for cat in sorted(by_cat):
        recall, fa, nd, ng = rates(by_cat[cat])
        rec = f"{recall:.3f}" if nd else "  -  "
        fal = f"{fa:.3f}" if ng else "  -  "
        print(f"{cat:<18} {rec}  ({nd:>3})   {fal}      ({ng:>3})")
    low = sum(1 for r in rows if r["label"] == "disclosure" and (d := check(r["text"])) and d.confidence == "low")
    print(f"\ndisclosures caught only by the low-confidence personal-statement net: {low}")


def _fmt(value: float) -> str:
    return "  -  " if value != value else f"{value:.3f}"  # nan (no rows of that label) prints as a dash


def report_fresh(name: str, rows: list[dict[str, str]], groupings: tuple[str, ...]) -> None:
    """Recall and false alarms of `rows` overall and per value of each column in `groupings`, beside the first
    measured figures; then the strengths given to what was flagged."""
    if name == "languages":
        print("\n!! disclosure_languages.csv was written by the developers: it NEEDS A NATIVE SPEAKER'S CHECK !!")
    whole = score_disclosures(rows)
    print(f"\n=== {name} set: {whole.disclosures} disclosures, {whole.general} general statements ===")
    print(f"{'':<26}{'recall':>8}{'(n)':>6}{'false al.':>11}{'(n)':>6}   first measured: recall / false alarms")
    groups: list[tuple[str, str, list[dict[str, str]]]] = [("overall", "all", rows)]
    for column in groupings:
        for value in sorted({r.get(column) or "-" for r in rows}):
            groups.append((column, value, [r for r in rows if (r.get(column) or "-") == value]))
    for column, value, part in groups:
        score = score_disclosures(part)
        first = FIRST_MEASURED.get((name, f"{column}={value}"))
        before = f"{_fmt(first[0])} / {_fmt(first[1])}" if first else "(not measured)"
        label = value if column == "overall" else f"{column}={value}"
        print(f"{label:<26}{_fmt(score.recall):>8}{score.disclosures:>6}{_fmt(score.false_alarm_rate):>11}"
              f"{score.general:>6}   {before}")
    print(f"strength of caught disclosures: {dict(sorted(whole.strengths.items()))}; of false alarms: "
          f"{dict(sorted(whole.alarm_strengths.items()))}")
    print(f"first measured: {FIRST_MEASURED_STRENGTHS.get(name)}")
    if whole.strength_labelled:
        print(f"strength as labelled: {whole.strength_agrees}/{whole.strength_labelled} caught disclosures "
              f"({whole.strength_agrees / whole.strength_labelled:.3f})")
        for strength in ("strong", "possible"):
            part = [r for r in rows if r["label"] == "disclosure" and r.get("expected_strength") == strength]
            score = score_disclosures(part)
            print(f"  labelled {strength:<9} recall {_fmt(score.recall)} ({score.disclosures}), flagged as "
                  f"{dict(sorted(score.strengths.items()))}")
    if whole.missed:
        print(f"missed ({len(whole.missed)}): " + "; ".join(whole.missed[:60]))
    if whole.false_alarms:
        print(f"false alarms ({len(whole.false_alarms)}): " + "; ".join(whole.false_alarms[:60]))


def first_measured_table() -> dict[tuple[str, str], tuple[float, float]]:
    """The figures to freeze in FIRST_MEASURED (printed with --first)."""
    table = {}
    for name, path, groupings in SETS:
        rows = read_labelled(path)
        score = score_disclosures(rows)
        table[(name, "overall=all")] = (round(score.recall, 3), round(score.false_alarm_rate, 3))
        for column in groupings:
            for value in sorted({r.get(column) or "-" for r in rows}):
                part = score_disclosures([r for r in rows if (r.get(column) or "-") == value])
                table[(name, f"{column}={value}")] = (round(part.recall, 3), round(part.false_alarm_rate, 3))
    return table


SETS = (("fresh", FRESH, ("category", "question_id", "style", "voice")),
        ("languages", LANGUAGES, ("split", "language", "category")))


def report_typos(rows: list[dict[str, str]]) -> None:
    """Recall and false alarms when two longer words of each answer get a random slip (seeded: same every run)."""
    rng = random.Random(5)

    def slip(word: str) -> str:
        i, kind = rng.randrange(1, len(word)), rng.choice("dsw")
        if kind == "d":
            return word[:i] + word[i + 1:]
        if kind == "s" and i < len(word) - 1:
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
        return word[:i] + word[i] + word[i:]

    perturbed = []
    for row in rows:
        words = row["text"].split()
        longer = [i for i, w in enumerate(words) if len(w) >= 4]
        for i in rng.sample(longer, min(2, len(longer))):
            words[i] = slip(words[i])
        perturbed.append({**row, "text": " ".join(words)})
    recall, fa, nd, ng = rates(perturbed)
    print(f"\nwith two random slips per answer: recall {recall:.3f} ({nd})   false alarms {fa:.3f} ({ng})")


def report_speed(n: int) -> None:
    rows = load()
    rng = random.Random(7)
    pool = [r["text"] for r in rows]
    texts = [rng.choice(pool) if rng.random() < 0.5 else rng.choice(ORDINARY) for _ in range(n)]

    floor = responses_executemany(texts)

    start = time.process_time()  # CPU time of this process: the machine is shared
    flagged = sum(1 for t in texts if check(t))
    spent = time.process_time() - start
    print(f"\n{n} answers (half from the labelled set, half ordinary): check() CPU {spent:.2f} s, "
          f"{spent / n * 1e6:.1f} us/answer, {flagged} flagged")
    print(f"floor: executemany of the same rows into an on-disk responses table {floor:.2f} s (wall); "
          f"check() / floor = {spent / floor:.2f}x (the whole import's ratio is in bench/bench_capture.py)")

    adversarial = [
        "a" * 2000, "i " * 1000, "my dad " * 286, "no " * 667, "hit me " * 286, "scared " * 286,
        ("<script>alert(1)</script>" * 80)[:2000], "=HYPERLINK(\"http://x\")" * 90, "😀" * 2000,
        "میرے والد مجھے مارتے ہیں " * 80, "... " * 500, "home " * 400, ("abc" + "1" * 30 + " ") * 60,
    ]
    worst = 0.0
    for text in adversarial:
        start = time.perf_counter()
        check(text)
        worst = max(worst, time.perf_counter() - start)
    print(f"adversarial strings of ~2,000 characters: worst {worst * 1000:.2f} ms (budget 50 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--first", action="store_true", help="print today's figures as a FIRST_MEASURED table")
    args = parser.parse_args()
    if args.first:
        for key, value in first_measured_table().items():
            print(f"    {key!r}: {value!r},")
        return
    for name, path, groupings in SETS:
        report_fresh(name, read_labelled(path), groupings)
    print("\n=== disclosure_eval.csv (written beside the rules) ===")
    report_quality(load())
    report_typos(load())
    report_speed(args.rows)


if __name__ == "__main__":
    main()
