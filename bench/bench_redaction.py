"""Redaction: recall per kind of personal detail and ordinary words altered on the labelled set; speed at import scale.

Run: python bench/bench_redaction.py [--rows 100000]
Recall per kind counts the placeholders of the expected text that the redacted text also has; "ordinary words
altered" counts the words of the expected text (placeholders aside) that the redacted text lost. dev = rows used
while writing the rules; holdout = two batches written afterwards and measured once: the first got every detail and
altered no ordinary word; the second got every detail and altered one word, "Sister Mary", which on reflection is a
person, so its expected text was corrected to "Sister [name]". Then redact() and
safeguarding.check() are timed over N short answers, as an import runs them, against a floor measured in the same
run: a raw executemany of the same rows into an on-disk SQLite table shaped like `responses` (wall time). The two
functions are timed in CPU time of this process, since the machine is shared.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from floors import responses_executemany  # noqa: E402

from analysis.evaluation import KINDS, score_redaction  # noqa: E402
from analysis.privacy import redact  # noqa: E402
from analysis.safeguarding import check  # noqa: E402

EVAL = ROOT / "tests" / "data" / "redaction_eval.csv"


def load() -> list[dict[str, str]]:
    with EVAL.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def score(rows: list[dict[str, str]]) -> tuple[dict[str, tuple[int, int]], int, int, int]:
    """({kind: (found, expected)}, ordinary words altered, ordinary words, rows exactly right)."""
    result = score_redaction(rows)
    return ({k: (result.found.get(k, 0), result.expected.get(k, 0)) for k in KINDS}, result.altered, result.words,
            result.exact)


def report_quality(rows: list[dict[str, str]]) -> None:
    for label, part in (("all", rows), ("dev", [r for r in rows if r["split"] == "dev"]),
                        ("holdout", [r for r in rows if r["split"] == "holdout"])):
        per_kind, altered, words, exact = score(part)
        print(f"\n{label}: {len(part)} rows, {exact} redacted exactly as expected")
        for kind, (found, expected) in per_kind.items():
            if expected:
                print(f"  {kind:<9} recall {found / expected:.3f}  ({found}/{expected})")
        print(f"  ordinary words altered {altered}/{words} = {altered / max(words, 1):.4f}")
    clean = [r for r in rows if r["kinds"] == "clean"]
    untouched = sum(1 for r in clean if redact(r["text"]) == r["text"])
    print(f"\nclean answers left exactly as typed: {untouched}/{len(clean)}")


def report_speed(n: int) -> None:
    rng = random.Random(11)
    pool = [r["text"] for r in load()]
    ordinary = ["having a loving family", "friends and family", "youth clubs and parks", "good schools",
                "someone to talk to", "not enough money", "Hope and faith", "I think more youth workers would help",
                "kids left on their own", "my mum helps me", "more things to do for teenagers in Dudley"]
    texts = [rng.choice(pool) if rng.random() < 0.3 else rng.choice(ordinary) for _ in range(n)]

    floor = responses_executemany(texts)

    # CPU time of this process: the machine is shared, and wall time would count other people's work as ours.
    start = time.process_time()
    for t in texts:
        redact(t)
    t_redact = time.process_time() - start
    start = time.process_time()
    for t in texts:
        check(t)
    t_check = time.process_time() - start
    print(f"\n{n} answers (30% from the labelled set, 70% ordinary answers)")
    print(f"  floor: executemany into an on-disk responses table   {floor:.2f} s ({floor / n * 1e6:.1f} us/row)")
    print(f"  redact()               CPU {t_redact:.2f} s ({t_redact / n * 1e6:.1f} us/answer)")
    print(f"  safeguarding.check()   CPU {t_check:.2f} s ({t_check / n * 1e6:.1f} us/answer)")
    print(f"  import-shaped total / floor = (floor + redact + check) / floor = {(floor + t_redact + t_check) / floor:.2f}x")

    adversarial = [
        "a" * 2000, "0" * 2000, "0 " * 1000, "+44 " * 500, "07700 " * 333, "@" * 2000, "a@" * 1000, "a.b@" * 500,
        "1 " * 1000, "12 Smith " * 222, "Jake " * 400, "my son " * 285, "DY1 " * 500, "(0121) " * 285,
        "<script>alert(1)</script>" * 80, "=HYPERLINK(\"x\")" * 120, "😀" * 2000, "محمد " * 400,
        "1a " * 666, "flat 1 " * 285, ("x" * 60 + "@") * 33, "-" * 2000, ". " * 1000,
    ]
    worst, worst_text = 0.0, ""
    for text in adversarial:
        start = time.perf_counter()
        redact(text)
        spent = time.perf_counter() - start
        if spent > worst:
            worst, worst_text = spent, text[:20]
    print(f"  adversarial ~2,000-character strings: worst {worst * 1000:.2f} ms on {worst_text!r}... (budget 50 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    report_quality(load())
    report_speed(args.rows)


if __name__ == "__main__":
    main()
