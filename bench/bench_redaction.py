"""Redaction: recall per kind of personal detail and ordinary words altered on the labelled set; speed at import scale.

Run: python bench/bench_redaction.py [--rows 100000] [--quality-only]
Sets: the old labelled set (written beside the rules), the fresh set and the per-language set (written before the
rule changes of issue 8; their first-measured figures are kept below as constants and printed beside today's).
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

DATA = ROOT / "tests" / "data"
EVAL = DATA / "redaction_eval.csv"
FRESH = DATA / "redaction_fresh.csv"
LANGUAGES = DATA / "redaction_languages.csv"

# First measured (before rule changes): the current rules of 2026-12-01 (commit ae87af2) on the fresh sets, which were
# written and committed before any rule was changed. Figures: (found, expected) per kind, then ordinary words altered.
FIRST_MEASURED_DATE = "2026-12-01"
FIRST_MEASURED: dict[str, dict[str, tuple[int, int]]] = {
    'old': {'phone': (75, 75), 'email': (39, 39), 'postcode': (57, 57), 'address': (30, 30), 'name': (182, 186)},
    'old holdout': {'phone': (11, 11), 'email': (5, 5), 'postcode': (5, 5), 'address': (6, 6), 'name': (29, 29)},
    'fresh': {'phone': (62, 96), 'email': (24, 28), 'postcode': (28, 35), 'handle': (0, 37), 'address': (35, 39), 'name': (82, 109)},
    'fresh unicode': {'phone': (0, 14), 'email': (0, 3), 'postcode': (0, 7), 'handle': (0, 1), 'address': (1, 1)},
    'fresh parent': {'phone': (28, 44), 'email': (15, 16), 'postcode': (19, 24), 'handle': (0, 7), 'address': (24, 27), 'name': (34, 37)},
    'fresh practitioner': {'phone': (6, 8), 'email': (3, 3), 'postcode': (2, 2), 'address': (1, 1), 'name': (3, 5)},
    'fresh teen': {'phone': (28, 44), 'email': (6, 9), 'postcode': (7, 9), 'handle': (0, 30), 'address': (10, 11), 'name': (45, 67)},
    'languages': {'phone': (14, 23), 'email': (6, 6), 'postcode': (6, 6), 'handle': (0, 6), 'address': (0, 22), 'name': (4, 24)},
    'language ar': {'phone': (2, 4), 'email': (1, 1), 'postcode': (1, 1), 'handle': (0, 1), 'address': (0, 3), 'name': (0, 4)},
    'language pa-Arab': {'phone': (2, 3), 'email': (1, 1), 'postcode': (1, 1), 'handle': (0, 1), 'address': (0, 2), 'name': (0, 3)},
    'language pa-Guru': {'phone': (2, 3), 'email': (1, 1), 'postcode': (1, 1), 'handle': (0, 1), 'address': (0, 3), 'name': (0, 4)},
    'language pl': {'phone': (3, 5), 'email': (1, 1), 'postcode': (1, 1), 'handle': (0, 1), 'address': (0, 5), 'name': (1, 5)},
    'language ro': {'phone': (3, 4), 'email': (1, 1), 'postcode': (1, 1), 'handle': (0, 1), 'address': (0, 6), 'name': (3, 5)},
    'language ur': {'phone': (2, 4), 'email': (1, 1), 'postcode': (1, 1), 'handle': (0, 1), 'address': (0, 3), 'name': (0, 3)},
}
FIRST_MEASURED_ALTERED: dict[str, tuple[int, int]] = {
    'old': (5, 2546),
    'old holdout': (0, 470),
    'fresh': (16, 2103),
    'fresh unicode': (0, 29),
    'fresh parent': (14, 954),
    'fresh practitioner': (1, 129),
    'fresh teen': (1, 1020),
    'languages': (3, 520),
    'language ar': (0, 53),
    'language pa-Arab': (0, 75),
    'language pa-Guru': (0, 88),
    'language pl': (1, 120),
    'language ro': (1, 100),
    'language ur': (1, 84),
}

# The old rules wrote [name] for the handles they found, so strict handle recall was 0; this counts any placeholder.
FIRST_MEASURED_MASKED: dict[str, tuple[int, int]] = {
    'old': (383, 387),
    'old holdout': (56, 56),
    'fresh': (252, 344),
    'fresh unicode': (2, 26),
    'fresh parent': (124, 155),
    'fresh practitioner': (15, 19),
    'fresh teen': (113, 170),
    'languages': (36, 87),
    'language ar': (5, 14),
    'language pa-Arab': (5, 11),
    'language pa-Guru': (5, 13),
    'language pl': (6, 18),
    'language ro': (10, 18),
    'language ur': (5, 13),
}


def load(path: Path = EVAL) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def score(rows: list[dict[str, str]]) -> tuple[dict[str, tuple[int, int]], int, int, int]:
    """({kind: (found, expected)}, ordinary words altered, ordinary words, rows exactly right)."""
    result = score_redaction(rows)
    return ({k: (result.found.get(k, 0), result.expected.get(k, 0)) for k in KINDS}, result.altered, result.words,
            result.exact)


def report_part(label: str, part: list[dict[str, str]]) -> None:
    result = score_redaction(part)
    first = FIRST_MEASURED.get(label)
    print(f"\n{label}: {len(part)} rows, {result.exact} redacted exactly as expected, "
          f"clean answers left exactly as typed {result.clean_untouched}/{result.clean}")
    header = f"first measured ({FIRST_MEASURED_DATE}, before rule changes)" if first else ""
    print(f"  {'':<9} {'now':<24} {header}")
    for kind in KINDS:
        expected = result.expected.get(kind, 0)
        if not expected:
            continue
        found = result.found.get(kind, 0)
        line = f"  {kind:<9} recall {found / expected:.3f} ({found}/{expected})"
        if first and kind in first:
            f_found, f_expected = first[kind]
            line = f"{line:<36} {f_found / f_expected:.3f} ({f_found}/{f_expected})"
        print(line)
    total = sum(result.expected.values())
    line = f"  any placeholder over a detail: {result.masked}/{total}"
    if label in FIRST_MEASURED_MASKED:
        line += "   first measured {}/{}".format(*FIRST_MEASURED_MASKED[label])
    print(line)
    line = f"  ordinary words altered {result.altered}/{result.words} = {result.altered_rate:.4f}"
    if label in FIRST_MEASURED_ALTERED:
        f_altered, f_words = FIRST_MEASURED_ALTERED[label]
        line += f"   first measured {f_altered}/{f_words} = {f_altered / max(f_words, 1):.4f}"
    print(line)


def parts() -> list[tuple[str, list[dict[str, str]]]]:
    old, fresh, languages = load(EVAL), load(FRESH), load(LANGUAGES)
    out = [("old", old), ("old holdout", [r for r in old if r["split"] == "holdout"]),
           ("fresh", fresh), ("fresh unicode", [r for r in fresh if "unicode" in r["kinds"].split(";")])]
    for voice in sorted({r["voice"] for r in fresh}):
        out.append((f"fresh {voice}", [r for r in fresh if r["voice"] == voice]))
    out.append(("languages", languages))
    for language in sorted({r["language"] for r in languages}):
        out.append((f"language {language}", [r for r in languages if r["language"] == language]))
    return out


def report_quality() -> None:
    for label, part in parts():
        report_part(label, part)


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
        "\u202e" * 1000 + "07700900123", "\u200b".join("07700900123") * 90, "\x00\x01\x1b[31m" * 400, "O" * 2000,
        "٠٧٧٠٠ ٩٠٠١٢٣ " * 150, "ul. " * 500, "شارع " * 400, "my mate " * 250, "snap " * 400, "ＤＹ１ " * 500,
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
    parser.add_argument("--quality-only", action="store_true", help="skip the timing")
    args = parser.parse_args()
    report_quality()
    if not args.quality_only:
        report_speed(args.rows)


if __name__ == "__main__":
    main()
