"""Disclosure detection: recall and false alarms on the labelled set, and speed at import scale.

Run: python bench/bench_safeguarding.py [--rows 100000]
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

from analysis.safeguarding import check  # noqa: E402

EVAL = ROOT / "tests" / "data" / "disclosure_eval.csv"

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
    args = parser.parse_args()
    report_quality(load())
    report_typos(load())
    report_speed(args.rows)


if __name__ == "__main__":
    main()
