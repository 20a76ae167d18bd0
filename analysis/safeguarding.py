"""Checks an answer for a possible disclosure of harm, so that it reaches a safeguarding lead at once.

Favours recall: a false alarm costs a lead a minute; a missed disclosure can cost a child far more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Disclosure:
    """Why an answer looks like a possible disclosure (shown to the safeguarding lead)."""

    reason: str


_FIRST_PERSON_HARM = re.compile(
    r"\b(?:my|me|i|i'?m|im)\b.{0,40}\b(?:hit|hits|hurt|hurts|beat|beats|scared to go home|kicked out|thrown out|"
    r"no food|kill myself|self.?harm|cut myself|touch(?:es|ed)? me)\b",
    re.IGNORECASE,
)


def check(text: str) -> Disclosure | None:
    """A Disclosure if `text` may be a first-person or specific statement of harm, else None."""
    match = _FIRST_PERSON_HARM.search(text)
    if match:
        return Disclosure(f"possible disclosure: “{match.group(0)}”")
    return None
