"""Redaction of personal details from answers: the text used everywhere outside the safeguarding queue.

Replaces phone numbers, e-mail addresses, UK postcodes, street addresses and personal names with placeholders.

Names come from a first-name list shipped in analysis/resources/first_names.txt plus context ("my son X", "ask for X",
"X is my key worker"). Names that are also ordinary words ("Will", "Hope", "Grace", "Said") are redacted only when
the context says a person is meant, so "hope" and "faith groups" stay as they are. Redaction never raises and is
idempotent: redact(redact(x)) == redact(x).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)
NAMES_FILE = Path(__file__).resolve().parent / "resources" / "first_names.txt"

PLACEHOLDERS = {"phone": "[phone]", "email": "[email]", "postcode": "[postcode]", "address": "[address]",
                "name": "[name]", "unredacted": "[answer withheld: redaction failed]"}


@dataclass(frozen=True)
class Span:
    """A personal detail found in a text: text[start:end] is of `kind` (phone, email, postcode, address, name)."""

    start: int
    end: int
    kind: str


# --- e-mail and phone numbers --------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}(?:@|\s?\(at\)\s?|\s?\[at\]\s?)[\w-]{1,63}"
    r"(?:(?:\.|\s?\(dot\)\s?|\s?\[dot\]\s?)[\w-]{1,63}){0,3}(?:\.|\s?\(dot\)\s?|\s?\[dot\]\s?)[A-Za-z]{2,24}\b"
)
# "jake at gmail dot com": an address spelt out in words, as people type them to dodge spam filters.
_EMAIL_WORDS = re.compile(
    r"(?<![\w.+-])[\w.+-]{2,64} (?:at|\(at\)|\[at\]) "
    r"(?:gmail|googlemail|hotmail|yahoo|ymail|outlook|icloud|live|aol|btinternet|sky|virginmedia|protonmail|msn|mail)"
    r"(?: (?:dot|\(dot\)|\[dot\]) [a-z]{2,6}){1,3}\b",
    re.IGNORECASE,
)
# Social media handles ("@jake_99", "snap: jakey123") identify a person as surely as a name does.
_HANDLE = re.compile(r"(?<![\w@.])(?P<h>@[A-Za-z0-9_][A-Za-z0-9_.]{2,29})\b"
                     r"|\b(?:snap(?:chat)?|insta(?:gram)?|tiktok|tt|ig|sc)\s*[:\-]\s*"
                     r"(?P<h2>@?[A-Za-z0-9_][A-Za-z0-9_.]{2,29})\b",
                     re.IGNORECASE)
_SEP = r"[ \t.\-()]{0,3}"
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    # +44 / 0044, an optional (0), then the national number without its leading 0: nine or ten digits
    r"(?:\+|00)[ \t]?44[ \t.\-]{0,2}(?:\(0\)[ \t]?)?\(?\d(?:" + _SEP + r"\d){8,9}"
    # the national number with its leading 0: ten or eleven digits, area code optionally in brackets
    r"|\(?0\d(?:" + _SEP + r"\d){8,9}"
    # freephone numbers, some of which are short (0800 1111)
    r"|080\d(?:" + _SEP + r"\d){4,7}"
    # other countries' numbers written with their + code ("+48 512 345 678")
    r"|\+(?!44)[1-9]\d{0,2}[ \t.\-]?\(?\d(?:" + _SEP + r"\d){6,12}"
    r")(?!\d)"
)

# National helplines are not personal details, and answers that point to them are worth keeping as typed.
HELPLINES = frozenset({
    "08001111",  # Childline
    "08088005000",  # NSPCC helpline
    "116123",  # Samaritans
    "08000684141",  # Papyrus HOPELINEUK
    "08082000247",  # National Domestic Abuse Helpline
    "08005551111",  # Crimestoppers
})

# --- postcodes ------------------------------------------------------------------------------------------------------

# The 121 postcode areas of the UK (plus Crown dependencies), so that "gr8 2day" is not taken for a postcode.
_AREAS = ("AB AL B BA BB BD BF BH BL BN BR BS BT BX CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC EH EN "
          "EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M ME MK ML N "
          "NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN "
          "TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE").split()
_AREA = "(?:" + "|".join(sorted(_AREAS, key=len, reverse=True)) + ")"
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:" + _AREA + r"\d[A-Z\d]?|GIR)[ \t]{0,2}\d[ABD-HJLNP-UW-Z]{2}(?![A-Za-z0-9])",
    re.IGNORECASE,
)

# --- street addresses -----------------------------------------------------------------------------------------------

_STREET_WORDS = ("street|st|road|rd|avenue|ave|av|lane|ln|close|cl|drive|dr|way|place|pl|crescent|cres|court|ct|"
                 "gardens|gdns|grove|gr|terrace|terr|hill|square|sq|walk|row|mews|rise|view|green|croft|parade|pde|"
                 "fold|gate|park|boulevard|blvd|estate|heights|meadow|meadows|bank|vale|wharf|yard|end|common|"
                 "chase|mount|passage|precinct|approach")
_ADDRESS = re.compile(
    r"(?<![\w£$.,])(?:(?:flat|apartment|apt|unit|room|house|no\.?)\s*\d{1,4}[a-z]?\s*,?\s*)?"
    r"\d{1,4}[a-z]?,?\s+"
    r"((?:[A-Za-z][A-Za-z'’\-]*\s+){1,3}?)"
    r"(?:" + _STREET_WORDS + r")\b\.?",
    re.IGNORECASE,
)
_FLAT_ONLY = re.compile(r"\b(?:flat|apartment|apt)\s*\d{1,4}[a-z]?\b(?=\s*,?\s*\[address\])", re.IGNORECASE)
# Words that never form part of a street's name: "2 kids play in the park" is not an address.
_NOT_STREET_NAME = frozenset("""
a an the and or but of in on at to for from with by into onto over under up down off out about after before
is are was were be been am i me my we us our you your he she him her his they them their it its this that these
there here times time days day weeks week months month years year hours hour minutes mins people kids children
child parents families family adults friends mates boys girls men women lads years old more less most some any
all every no not only just very too so also then than when while if as per each other another same different
school schools bus buses miles mile metres minutes walk walking away near next round around local big small
little good bad best worst minute minutes second seconds hour hours mile miles min mins way bed beds storey
star kids' go goes going went play plays playing live lives living lived
""".split())

# --- names ----------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """(plain names, ambiguous names), lower-cased, from the shipped list; empty sets if the file is missing."""
    plain: set[str] = set()
    ambiguous: set[str] = set()
    target = plain
    try:
        lines = NAMES_FILE.read_text(encoding="utf-8").splitlines()
    except OSError:
        return frozenset(), frozenset()
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or line == "[names]":
            continue
        if line == "[ambiguous]":
            target = ambiguous
            continue
        target.add(line.lower())
    return frozenset(plain), frozenset(ambiguous)


_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_CONTEXT_BEFORE = re.compile(
    r"(?:\b(?:my|our|his|her|their|your)\s+(?:little\s+|big\s+|older\s+|younger\s+|baby\s+|best\s+|eldest\s+|"
    r"youngest\s+|step\s?|ex\s?-?\s?)?(?:son|daughter|child|kid|boy|girl|brother|sister|bro|sis|mate|friend|"
    r"pal|cousin|nephew|niece|husband|wife|partner|boyfriend|girlfriend|bf|gf|ex|baby|mum|mom|mam|dad|nan|nanna|"
    r"gran|grandad|grandma|uncle|auntie|aunty|aunt|neighbour|teacher|key\s?worker|social\s?worker|support\s?worker|"
    r"youth\s?worker|worker|carer|foster\s?carer|tutor|coach|manager|boss|sons|daughters|kids|children|friends)"
    r"(?:'s)?(?:\s+(?:called|named|is))?"
    r"|\b(?:called|named|name\s+is|name's|names|ask\s+for|asking\s+for|mr|mrs|ms|miss|dr|mx)\.?"
    r"|\bi\s*(?:'m|am)\s+called|\bmy\s+name\s+is)"
    r"[ \t]*,?[ \t]*$",
    re.IGNORECASE,
)
# Weaker context ("contact X", "call X", "me and X") counts only for listed names, so that "call Childline" and
# "contact Barnardo's" stay as they are while "call Will" and "me and Faith" do not.
_CONTEXT_WEAK = re.compile(
    r"\b(?:contact|speak\s+to|speak\s+with|talk\s+to|call|ring|text|message|email|phone|thanks\s+to|thank\s+you|"
    r"thank|me\s+(?:and|&|n)|with\s+my\s+\w+)[ \t]*,?[ \t]*$",
    re.IGNORECASE,
)
_CONTEXT_AFTER = re.compile(
    r"^(?:'s)?\s+(?:is|was|who\s+is|,)\s*(?:my|our|the|a)\s+(?:key\s?worker|social\s?worker|support\s?worker|"
    r"youth\s?worker|worker|teacher|carer|foster\s?carer|tutor|coach|mentor|counsellor|nurse|doctor|gp|"
    r"health\s?visitor|manager|friend|mate|neighbour|son|daughter|sister|brother|cousin|mum|dad)\b",
    re.IGNORECASE,
)
# Capitalised words that can follow a name without being a surname ("Jake And Tom", "Priya Said").
_NOT_SURNAME = frozenset("""
i and or but the a an is was are were has had have he she it we they my our his her their me us them to of in on
at for with from by if so as not no yes said says told lives lived goes went came comes hits hit hurts hurt
who what when where why how this that there here men women people all everyone someone nobody
""".split())


# A name followed by one of these is a place or an institution ("Mary Stevens Park", "Stanley Road"), and a name
# after one of the titles below is a saint, a royal or a hospital ("St John", "Queen Mary's", "Prince Albert").
_PLACE_WORDS = frozenset("""
park road street st lane avenue ave close drive way place crescent court gardens grove terrace hill square walk
row mews rise view green estate school academy college university hospital centre center church chapel mosque
temple gurdwara house hall trust foundation day library surgery clinic practice ward unit bridge station
""".split())
_PLACE_TITLES = frozenset("st saint queen king prince princess lady lord sir".split())
_AFTER_ARTICLE = re.compile(r"\b(?:the|a|an)\s+$", re.IGNORECASE)
_TITLES = frozenset("mr mrs ms miss dr mx sir madam".split())  # never a name themselves ("Miss Clarke")


# Cheap tests that let most answers skip the word-by-word pass: no listed name in them, no capitalised word inside a
# sentence (other than "I") and no "X is my key worker" shape means no name to find.
_MID_SENTENCE_CAPITAL = re.compile(r"[^\W\d_,;:)]\s+(?!I\b|I[’'])[^\W\d_a-z]|[,;:)]\s*[A-Z]")
_IS_MY = re.compile(r"\b(?:is|was|who is)\s+(?:my|our|the|a)\b", re.IGNORECASE)


_PUNCTUATION_TO_SPACE = str.maketrans({c: " " for c in "!\"#$%&'()*+,./:;<=>?@[\\]^_`{|}~’‘“”0123456789"})


def _may_have_names(text: str) -> bool:
    plain, _ = _name_lists()
    if "-" in text or not plain.isdisjoint(text.lower().translate(_PUNCTUATION_TO_SPACE).split()):
        return True
    if _IS_MY.search(text):
        return True
    rest = text[1:]
    return rest != rest.lower() and bool(_MID_SENTENCE_CAPITAL.search(text))  # no capital after the first: no name


def _names(text: str, taken: list[tuple[int, int]]) -> list[Span]:
    if not _may_have_names(text):
        return []
    plain, ambiguous = _name_lists()
    spans: list[Span] = []
    last_end = -1
    for match in _WORD.finditer(text):
        start, end = match.span()
        if start < last_end or any(a <= start < b for a, b in taken):
            continue
        word = match.group(0)
        key = word.lower()
        first = key.split("-", 1)[0]
        capitalised = word[0].isupper()
        parts = key.split("-")
        if len(parts) > 1 and all(p in plain or p in ambiguous for p in parts):
            in_plain, in_ambiguous = True, False  # "Ruby-Mae", "Lilly-May": a double first name
        else:
            in_plain = key in plain or first in plain
            in_ambiguous = key in ambiguous or first in ambiguous
        is_name = False
        if in_plain and not in_ambiguous:
            # A listed name: capitalised anywhere, or written in lower case when long enough not to be text-speak
            # and not straight after an article ("takes the mick" is an idiom, not Mick).
            is_name = capitalised or (len(key) >= 4 and not _AFTER_ARTICLE.search(text, 0, start))
        elif capitalised and not (word.isupper() and len(word) > 1 and not in_ambiguous):
            # An ordinary-word name ("Will", "Hope") or an unlisted one: only when the context says a person.
            before = text[max(0, start - 40):start]
            after = text[end:end + 60]
            is_name = bool(_CONTEXT_BEFORE.search(before) or _CONTEXT_AFTER.match(after)
                           or (in_ambiguous and _CONTEXT_WEAK.search(before)))
        if not is_name or key in _NOT_SURNAME or key in _TITLES:
            continue
        previous = _WORD.findall(text[max(0, start - 12):start])
        if previous and previous[-1].lower() in _PLACE_TITLES and text[start - 1:start] == " ":
            continue
        # A capitalised word straight after a name is taken as the surname ("Jake Smith").
        follow = _WORD.match(text, end + 1) if text[end:end + 1] == " " else None
        if follow and follow.group(0)[0].isupper() and follow.group(0).lower() not in _NOT_SURNAME \
                and follow.group(0).lower() not in _PLACE_WORDS and follow.group(0).lower() not in _PLACE_TITLES:
            end = follow.end()
            follow = _WORD.match(text, end + 1) if text[end:end + 1] == " " else None
        if follow and follow.group(0).lower() in _PLACE_WORDS:
            continue
        spans.append(Span(start, end, "name"))
        last_end = end
    return spans


# --- putting it together --------------------------------------------------------------------------------------------


def _regex_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    def add(start: int, end: int, kind: str) -> None:
        spans.append(Span(start, end, kind))
        taken.append((start, end))

    if "@" in text or "(at)" in text or "[at]" in text:
        for m in _EMAIL.finditer(text):
            add(m.start(), m.end(), "email")
    if " at " in text or " AT " in text or " At " in text:
        for m in _EMAIL_WORDS.finditer(text):
            if free(*m.span()):
                add(m.start(), m.end(), "email")
    if "@" in text or ":" in text or "-" in text:
        for m in _HANDLE.finditer(text):
            group = "h" if m.group("h") else "h2"
            if free(*m.span(group)):
                add(m.start(group), m.end(group), "name")
    has_digit = any(c.isdigit() for c in text)
    if has_digit:
        for m in _POSTCODE.finditer(text):
            if free(*m.span()):
                add(m.start(), m.end(), "postcode")
        for m in _PHONE.finditer(text):
            if free(*m.span()) and "".join(c for c in m.group(0) if c.isdigit()) not in HELPLINES:
                add(m.start(), m.end(), "phone")
        for m in _ADDRESS.finditer(text):
            words = m.group(1).split()
            if words == ["The"] or words[:1] == ["The"] and len(words) > 1:  # "6 The Green", "2 The Old Mill Close"
                words = words[1:]
            if any(w.lower().strip("'’-") in _NOT_STREET_NAME for w in words) or not free(*m.span()):
                continue
            add(m.start(), m.end(), "address")
    return spans


def find_personal_details(text: str) -> list[Span]:
    """Every personal detail in `text`, in order, not overlapping. Never raises.

    Should the detectors fail on some input, the whole text is one span of kind "unredacted", so that redact()
    withholds the answer rather than let a personal detail through.
    """
    if not isinstance(text, str) or not text:
        return []
    try:
        spans = _regex_spans(text)
        spans += _names(text, [(s.start, s.end) for s in spans])
    except Exception:  # noqa: BLE001 - redaction runs inside every save; it must not take a save down
        log.exception("redaction failed; the answer is stored with a fully masked redacted text")
        return [Span(0, len(text), "unredacted")]
    spans.sort(key=lambda s: (s.start, -s.end))
    kept: list[Span] = []
    for span in spans:
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept


def redact(text: str) -> str:
    """`text` with personal details replaced by placeholders such as [phone] and [email]."""
    if not isinstance(text, str):
        return "" if text is None else redact(str(text))
    spans = find_personal_details(text)
    if not spans:
        return text
    out: list[str] = []
    position = 0
    for span in spans:
        out.append(text[position:span.start])
        out.append(PLACEHOLDERS[span.kind])
        position = span.end
    out.append(text[position:])
    result = "".join(out)
    # "flat 3, [address]": the flat number belongs to the address.
    return _FLAT_ONLY.sub("", result) if "[address]" in result else result
