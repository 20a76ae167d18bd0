"""Scoring redaction against a labelled set: recall per kind of personal detail, ordinary words altered.

One scorer for the test that asserts the targets and the benchmark that reports the figures.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from analysis.privacy import redact

PLACEHOLDER = re.compile(r"\[(phone|email|postcode|address|name)\]")
KINDS = ("phone", "email", "postcode", "address", "name")


@dataclass(frozen=True)
class RedactionScore:
    found: Mapping[str, int]  # placeholders of the expected texts that the redacted texts also have, per kind
    expected: Mapping[str, int]  # placeholders in the expected texts, per kind
    altered: int  # ordinary words of the expected texts that redaction lost
    words: int  # ordinary words in the expected texts
    exact: int  # rows redacted exactly as expected

    def recall(self, kind: str) -> float:
        return self.found.get(kind, 0) / self.expected[kind]

    @property
    def altered_rate(self) -> float:
        return self.altered / max(self.words, 1)


def score_redaction(rows: Iterable[Mapping[str, str]],
                    redactor: Callable[[str], str] = redact) -> RedactionScore:
    """Score `redactor` on rows with a "text" and the "expected" redacted text."""
    expected: Counter[str] = Counter()
    found: Counter[str] = Counter()
    altered = words = exact = 0
    for row in rows:
        out = redactor(row["text"])
        exact += out == row["expected"]
        want, got = Counter(PLACEHOLDER.findall(row["expected"])), Counter(PLACEHOLDER.findall(out))
        for kind, n in want.items():
            expected[kind] += n
            found[kind] += min(n, got[kind])
        remaining = Counter(PLACEHOLDER.sub(" ", out).split())
        for word in PLACEHOLDER.sub(" ", row["expected"]).split():
            words += 1
            if remaining[word]:
                remaining[word] -= 1
            else:
                altered += 1
    return RedactionScore(dict(found), dict(expected), altered, words, exact)
