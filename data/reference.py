"""Respondent references: the short code (e.g. ``K7M-3QP``) a researcher writes on a thank-you card so that a person
can later withdraw; generating a unique one, and reading back what someone typed or read out from a card.

The alphabet leaves out characters people confuse when writing or reading (0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G, U/V), so a
handwritten card reads one way. What is typed back is forgiving: case, spaces and hyphens do not matter, and a
left-out look-alike (an ``O`` for a ``Q`` or ``D``, say) is tried against its alphabet look-alikes, used only when
exactly one stored reference fits.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Callable

from sqlite_utils import Database

#: 22 characters: digits and capitals without look-alikes (no 0 O 1 I L 2 Z 5 S 8 B 6 G V).
ALPHABET = "3479ACDEFHJKMNPQRTUWXY"
LENGTH = 6
#: A typed character that is not in the alphabet -> the alphabet characters it is commonly mistaken for.
LOOK_ALIKES: dict[str, str] = {
    "0": "DQ", "O": "DQ",
    "1": "7J", "I": "7J", "L": "7J",
    "2": "7", "Z": "7",
    "5": "", "S": "",
    "8": "", "B": "",
    "6": "", "G": "",
    "V": "U",
}
PATTERN = re.compile(rf"^[{ALPHABET}]{{3}}-[{ALPHABET}]{{3}}$")
#: Separators a person may type or a card may show between the halves.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_.]+")

# A collision needs the same 6 characters out of 22**6 (about 113 million); retries are bounded all the same.
MAX_ATTEMPTS = 20


class AmbiguousReference(ValueError):
    """What was typed fits several stored references (through look-alikes); the message lists them."""


def generate(choice: Callable[[str], str] = secrets.choice) -> str:
    """A fresh random reference "ABC-DEF" (not checked against the database)."""
    chars = "".join(choice(ALPHABET) for _ in range(LENGTH))
    return f"{chars[:3]}-{chars[3:]}"


def is_reference(text: str) -> bool:
    """True when `text` is exactly a reference as stored ("K7M-3QP")."""
    return bool(PATTERN.match(text or ""))


def new_reference(db: Database, make: Callable[[], str] | None = None) -> str:
    """A reference no respondent holds yet. Call inside the writing transaction (BEGIN IMMEDIATE), so no other
    writer can take it before the INSERT; the UNIQUE index is the last word."""
    make = make or generate
    for _ in range(MAX_ATTEMPTS):
        ref = make()
        if not db.execute("SELECT 1 FROM respondents WHERE reference = ?", [ref]).fetchone():
            return ref
    raise RuntimeError(f"No free respondent reference after {MAX_ATTEMPTS} attempts.")


def squeeze(text: str) -> str:
    """Upper case without spaces, hyphens or dashes: what was typed, reduced to its characters."""
    return _SEPARATORS.sub("", (text or "").strip().upper())


def candidates(text: str) -> list[str]:
    """Every stored-form reference that `text` could be ("k7m 3qp" -> ["K7M-3QP"]; "K7M-3OP" -> ["K7M-3DP",
    "K7M-3QP"]). Empty when it cannot be a reference (wrong length, or a character with no look-alike)."""
    chars = squeeze(text)
    if len(chars) != LENGTH:
        return []
    options: list[str] = []
    for ch in chars:
        if ch in ALPHABET:
            options.append(ch)
        elif LOOK_ALIKES.get(ch):
            options.append(LOOK_ALIKES[ch])
        else:
            return []
    return [f"{''.join(c[:3])}-{''.join(c[3:])}" for c in itertools.product(*options)]


def resolve(db: Database, text: str) -> str | None:
    """The respondent id whose reference `text` names, or None when it names none.

    Raises AmbiguousReference when a look-alike makes it fit more than one stored reference (say which, so the
    person can read the card again)."""
    options = candidates(text)
    if not options:
        return None
    marks = ", ".join("?" for _ in options)
    rows = db.execute(f"SELECT id, reference FROM respondents WHERE reference IN ({marks}) ORDER BY reference",  # noqa: S608
                      options).fetchall()
    if len(rows) > 1:
        raise AmbiguousReference(
            f"{text.strip()!r} could be any of {', '.join(r[1] for r in rows)} (some characters look alike). "
            "Read the card again and type the reference exactly. Nothing was erased.")
    return rows[0][0] if rows else None
