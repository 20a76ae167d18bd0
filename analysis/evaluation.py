"""Scoring redaction against a labelled set: recall per kind of personal detail, ordinary words altered.

One scorer for the test that asserts the targets and the benchmark that reports the figures.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from analysis.privacy import redact

PLACEHOLDER = re.compile(r"\[(phone|email|postcode|handle|address|name)\]")
KINDS = ("phone", "email", "postcode", "handle", "address", "name")


@dataclass(frozen=True)
class RedactionScore:
    found: Mapping[str, int]  # placeholders of the expected texts that the redacted texts also have, per kind
    expected: Mapping[str, int]  # placeholders in the expected texts, per kind
    altered: int  # ordinary words of the expected texts that redaction lost
    words: int  # ordinary words in the expected texts
    exact: int  # rows redacted exactly as expected
    masked: int = 0  # expected placeholders matched by a placeholder of any kind (a handle shown as [name] is masked)
    clean: int = 0  # rows with no personal detail
    clean_untouched: int = 0  # of those, rows returned exactly as typed

    def recall(self, kind: str) -> float:
        return self.found.get(kind, 0) / self.expected[kind]

    @property
    def masked_rate(self) -> float:
        """Share of the expected details replaced by some placeholder, whatever its kind."""
        return self.masked / max(sum(self.expected.values()), 1)

    @property
    def altered_rate(self) -> float:
        return self.altered / max(self.words, 1)


def score_redaction(rows: Iterable[Mapping[str, str]],
                    redactor: Callable[[str], str] = redact) -> RedactionScore:
    """Score `redactor` on rows with a "text" and the "expected" redacted text."""
    expected: Counter[str] = Counter()
    found: Counter[str] = Counter()
    altered = words = exact = masked = clean = clean_untouched = 0
    for row in rows:
        out = redactor(row["text"])
        exact += out == row["expected"]
        want, got = Counter(PLACEHOLDER.findall(row["expected"])), Counter(PLACEHOLDER.findall(out))
        masked += min(sum(want.values()), sum(got.values()))
        if not want:
            clean += 1
            clean_untouched += out == row["text"]
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
    return RedactionScore(dict(found), dict(expected), altered, words, exact, masked, clean, clean_untouched)
