"""Redaction of personal details from answers: the text used everywhere outside the safeguarding queue.

Replaces phone numbers, e-mail addresses, UK postcodes, social media handles, street addresses and personal names with
placeholders. Matching runs on a normalised copy of the text (NFKC, zero-width and bidi controls removed, Unicode
spaces, dashes and digits mapped to ASCII) and every span is mapped back, so that the redacted text keeps what was
typed outside the replaced spans. Phones: the `phonenumbers` library (libphonenumber) plus a fail-safe rule: any run of
nine or more digits (spaces, dots, dashes, slashes, brackets and the letter O between or among them) is a phone
unless it is a listed national helpline.

Names come from a first-name list shipped in analysis/resources/first_names.txt plus context ("my son X", "ask for X",
"X is my key worker"). Names that are also ordinary words ("Will", "Hope", "Grace", "Said") are redacted only when
the context says a person is meant, so "hope" and "faith groups" stay as they are. Redaction never raises and is
idempotent: redact(redact(x)) == redact(x).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

try:  # the maintained port of libphonenumber; without it the fail-safe digit-run rule still redacts every number
    import phonenumbers
except ImportError:  # pragma: no cover - pinned in requirements.txt
    phonenumbers = None

log = logging.getLogger(__name__)
RESOURCES = Path(__file__).resolve().parent / "resources"
NAMES_FILE = RESOURCES / "first_names.txt"
KNOWN_WORDS_FILE = RESOURCES / "lexicon.known_words.txt"
STOPWORDS_FILE = RESOURCES / "stopwords_en.txt"

PLACEHOLDERS = {"phone": "[phone]", "email": "[email]", "postcode": "[postcode]", "handle": "[handle]",
                "address": "[address]", "name": "[name]", "unredacted": "[answer withheld: redaction failed]"}


@dataclass(frozen=True)
class Span:
    """A personal detail found in a text: text[start:end] is of `kind` (phone, email, postcode, handle, address,
    name)."""

    start: int
    end: int
    kind: str


# --- normalisation ---------------------------------------------------------------------------------------------

# Characters that change nothing a reader sees but split a number or a postcode for a regular expression.
_INVISIBLE = frozenset("\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u3164\uffa0")


def _normalise(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """(normalised text, start in `text` of each normalised character, end in `text` of each), maps None if unchanged.

    NFKC per base character and its combining marks (full-width forms, ligatures, compatibility digits); format
    characters (zero-width spaces and joiners, bidi controls, soft hyphens, byte-order marks) dropped; every Unicode
    space becomes " ", every dash and the minus sign "-", and every decimal digit of any script its ASCII digit.
    """
    if text.isascii():
        return text, None, None
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        for ch in unicodedata.normalize("NFKC", text[i:j]):
            category = unicodedata.category(ch)
            if category == "Cf" or ch in _INVISIBLE:
                continue
            if category == "Zs":
                ch = " "
            elif category == "Pd" or ch == "\u2212":
                ch = "-"
            elif category == "Nd" and not ch.isascii():
                ch = str(unicodedata.decimal(ch))
            out.append(ch)
            starts.append(i)
            ends.append(j)
        i = j
    return "".join(out), starts, ends


# --- e-mail, handles and phone numbers ---------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}(?:@|\s?\(at\)\s?|\s?\[at\]\s?| {1,2}@ {1,2}|@ {1,2})[\w-]{1,63}"
    r"(?:(?:\.|\s?\(dot\)\s?|\s?\[dot\]\s?)[\w-]{1,63}){0,3}(?:\.|\s?\(dot\)\s?|\s?\[dot\]\s?)[A-Za-z]{2,24}\b"
)
# "jake at gmail dot com": an address spelt out in words, as people type them to dodge spam filters; "kai 2009 at
# gmail dot com" has a space in its first part.
_EMAIL_WORDS = re.compile(
    r"(?<![\w.+-])(?:[A-Za-z]{2,20} (?=\d{1,6} ))?[\w.+-]{2,64} (?:at|\(at\)|\[at\]) "
    r"(?:gmail|googlemail|hotmail|yahoo|ymail|outlook|icloud|live|aol|btinternet|sky|virginmedia|protonmail|msn|mail)"
    r"(?: (?:dot|\(dot\)|\[dot\]) [a-z]{2,6}){1,3}\b",
    re.IGNORECASE,
)
# Social media handles ("@jake_99", "snap: jakey123", "discord jay#1234") and profile addresses identify a person as
# surely as a name does.
_AT_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_][A-Za-z0-9_.]{1,29}(?:#\d{1,5})?")
_PROFILE_URL = re.compile(
    r"(?:https?://)?(?:www\.|m\.|vm\.|mobile\.)?"
    r"(?:instagram\.com|instagr\.am|tiktok\.com|facebook\.com|fb\.com|fb\.me|twitter\.com|x\.com|youtube\.com|"
    r"youtu\.be|twitch\.tv|snapchat\.com|threads\.net|linkedin\.com/in|t\.me|reddit\.com/u(?:ser)?|pinterest\.com|"
    r"pinterest\.co\.uk|github\.com|onlyfans\.com|kik\.me|discord\.com/users|discordapp\.com/users|bsky\.app/profile|"
    r"roblox\.com/users|steamcommunity\.com/id|soundcloud\.com|vsco\.co|linktr\.ee)"
    r"/[^\s<>\"'),]+",
    re.IGNORECASE,
)
# A platform named before a handle. Long platform names may carry an inflection ("na snapie", "na tiktoku").
_PLATFORM = re.compile(
    r"\b(?:(?P<long>snap\s?chat|snap|insta\s?gram|insta|tik\s?tok|discord|twitter|facebook|roblox|xbox|gamertag|"
    r"twitch|youtube|threads|telegram|steam|bereal|pinterest|fortnite|minecraft|psn|kik)\w{0,4}"
    r"|(?P<short>sc|ig|tt|x|fb|yt|ps))\b"
    r"(?P<link>\s*(?:[:=]|-(?!\w))\s*|\s+)"
    r"(?P<words>(?:(?:is|its|it's|it’s|me|on|at|name|username|user|handle|id|tag|add|=|-|:)\s+){0,3})"
    r"(?P<h>@?[A-Za-z0-9_][A-Za-z0-9_.]{1,29}(?:#\d{1,5})?)",
    re.IGNORECASE,
)
_HANDLE_SHAPED = re.compile(r"^@|[0-9_.#]")
_PLATFORM_WORDS = frozenset("snap snapchat insta instagram tiktok tik tok discord twitter facebook fb x ig sc tt yt "
                            "roblox xbox psn twitch youtube threads telegram steam bereal kik whatsapp".split())

# The fail-safe phone rule: tokens of digits (the letter O among them stands for zero) joined by up to three of
# space . - / ( ) + ; a run of nine or more such digits is a phone. Possessive quantifiers keep it linear.
_RUN = re.compile(
    r"(?:\(\+?|\+)?(?:(?<![A-Za-z0-9_])[Oo]++)?(?<![0-9])[0-9][0-9Oo]*+"
    r"(?:[ .\-/()+]{1,3}+[Oo]*+[0-9][0-9Oo]*+)*+"
)
_STRONG_SEPARATOR = re.compile(r"[ .\-()+]{2,3}|/|\s\+")
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
# A local number without its area code ("landline 496 0912") counts only after a word that says a phone is meant.
_LOCAL_PHONE = re.compile(
    r"\b(?:phone|fone|number|num|tel|telephone|landline|land\s?line|mobile|mob|ring|call|text|txt|whatsapp|"
    r"contact|numer|telefon|număr|numărul|numarul|نمبر|فون|رقم|رقمي|ਨੰਬਰ|ਫ਼ੋਨ|ਫੋਨ)\b[^.!?\n\d£$€]{0,24}?"
    r"(?<![\d£$€])(?P<n>\d(?:[ .\-]?\d){5,7})(?![ .\-]?\d|:)",
    re.IGNORECASE,
)

# National helplines are not personal details, and answers that point to them are worth keeping as typed.
# Published numbers of UK national services, from their own sites (general knowledge, checked November 2026).
HELPLINES = frozenset({
    "08001111",  # Childline
    "08088005000",  # NSPCC helpline
    "08000280285",  # NSPCC whistleblowing advice line
    "116123",  # Samaritans
    "08081640123",  # Samaritans Welsh-language line
    "116000",  # Runaway Helpline
    "08000684141",  # Papyrus HOPELINEUK
    "08082000247",  # National Domestic Abuse Helpline
    "0800555111",  # Crimestoppers
    "08005551111",  # Crimestoppers as the old list had it
    "08088084994",  # The Mix
    "03001236600",  # FRANK
    "08088004444",  # Shelter
    "08088002222",  # Family Lives
    "08088025544",  # YoungMinds parents helpline
    "03001233393",  # Mind infoline
    "0800585858",  # CALM
    "08088010327",  # Men's Advice Line
    "08081000900",  # Stop It Now
    "08085002222",  # Rape Crisis
    "08009995428",  # Galop LGBT+ abuse helpline
    "08088020133",  # National Gambling Helpline
})


def _digits(s: str) -> str:
    return "".join("0" if c in "Oo" else c for c in s if c.isdigit() or c in "Oo")


def _helpline_and_short(run: str) -> bool:
    """True for a helpline written next to a short number ("Childline 0800 1111 999"): not a phone."""
    for sep in re.finditer(r"[ .\-/()+]+", run):
        left, right = _digits(run[:sep.start()]), _digits(run[sep.end():])
        if (left in HELPLINES and len(right) < 9) or (right in HELPLINES and len(left) < 9):
            return True
    return False


def _phone_runs(text: str) -> list[tuple[int, int]]:
    """Spans of digit runs that must be phones: nine or more digits, not a helpline. Long runs ("07700 900123 /
    0121 496 0000") are split at slashes and wide gaps into phone-sized parts."""
    found: list[tuple[int, int]] = []
    for m in _RUN.finditer(text):
        digits = _digits(m.group(0))
        if len(digits) < 9 or digits in HELPLINES or len(digits) <= 24 and _helpline_and_short(m.group(0)):
            continue
        pieces = [(m.start(), m.end())]
        if len(digits) > 13:
            pieces, start = [], m.start()
            for sep in _STRONG_SEPARATOR.finditer(text, m.start(), m.end()):
                pieces.append((start, sep.start()))
                start = sep.end()
            pieces.append((start, m.end()))
            merged: list[tuple[int, int]] = []
            counts: list[int] = []
            for piece in pieces:  # a part too short to be a phone stays with its neighbour
                count = len(_digits(text[piece[0]:piece[1]]))
                if merged and (counts[-1] < 9 or count < 9):
                    merged[-1] = (merged[-1][0], piece[1])
                    counts[-1] += count
                else:
                    merged.append(piece)
                    counts.append(count)
            pieces = merged
        for a, b in pieces:
            while a < b and text[a] in " ./-":
                a += 1
            while b > a and text[b - 1] in " ./-(":
                b -= 1
            if _digits(text[a:b]) not in HELPLINES:
                found.append((a, b))
    return found


def _library_phones(text: str) -> list[tuple[int, int]]:
    if phonenumbers is None:
        return []
    found = []
    try:
        for match in phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.POSSIBLE,
                                                     max_tries=200):
            digits = _digits(match.raw_string)
            # Shorter numbers only with a 0 or + in front: "2020 2021" is two years, not a phone
            if (len(digits) >= 9 or len(digits) >= 7 and match.raw_string[:1] in "0+(") and digits not in HELPLINES:
                found.append((match.start, match.end))
    except Exception:  # noqa: BLE001 - the fail-safe rule below still runs
        log.warning("phonenumbers failed on an answer; relying on the digit-run rule", exc_info=True)
    return found


# Speed gates (issue 11): each skips a search that cannot match, so results are unchanged; tests/
# test_screening_equivalence.py replaces them with the full path and compares every result.
def _may_hold_url(text: str) -> bool:
    """Every profile address _PROFILE_URL matches holds a "." and a "/"."""
    return "/" in text and "." in text


def _may_hold_at(text: str) -> bool:
    """Every handle _AT_HANDLE matches starts with "@"."""
    return "@" in text


def _handles(text: str, words: frozenset[str]) -> list[tuple[int, int]]:
    found = [m.span() for m in _PROFILE_URL.finditer(text)] if _may_hold_url(text) else []
    if _may_hold_at(text):
        found += [m.span() for m in _AT_HANDLE.finditer(text)]
    for m in _PLATFORM.finditer(text):
        handle = m.group("h").rstrip(".")
        key = handle.lower().lstrip("@")
        explicit = bool(re.search(r"[:=\-]", m.group("link"))) or bool(re.search(
            r"\b(?:is|its|it's|it’s|name|username|handle|id|tag)\b", m.group("words"), re.IGNORECASE))
        if m.group("short") and not (explicit or handle.startswith("@")):
            if not _HANDLE_SHAPED.search(handle) or handle.replace(".", "").isdigit():
                continue
        if not any(c.isalpha() for c in handle) or key in _PLATFORM_WORDS:
            continue
        if not _HANDLE_SHAPED.search(handle) and (not explicit or key in words or len(key) < 3):
            continue
        found.append((m.start("h"), m.start("h") + len(handle)))
    return found


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
                 "chase|mount|passage|precinct|approach|cross|oval|circle|circus|crest|dale|drove|fields|grange|"
                 "hollow|lawn|lawns|leys|nook|orchard|paddock|path|quay|ridge|spinney|wynd|close|causeway|embankment|"
                 "broadway|highway|bypass|glade|gardens|brow|banks|link|loop|pathway|promenade|side|village")
_ADDRESS = re.compile(
    r"(?<![\w£$.,])(?<!\d )(?<!\d-)(?:(?:flat|apartment|apt|unit|room|house|no\.?)\s*\d{1,4}[a-z]?\s*,?\s*)?"
    r"(?:(?:no\.?|number|num|house|nr\.?)\s*)?\d{1,4}[a-z]?,?\s+"
    r"((?:[A-Za-z][A-Za-z'’\-]*\s+){1,3}?)"
    r"(?:" + _STREET_WORDS + r")\b\.?"
    r"(?:\s+(?:" + _STREET_WORDS + r"|east|west|north|south|upper|lower)\b\.?)?",
    re.IGNORECASE,
)
# "age 15 the green", "about 20 the park": a number after these words is not a house number.
_COUNT_BEFORE = re.compile(r"\b(?:age|aged|ages|year|years|yr|yrs|about|over|under|around|approx|nearly|almost|only|"
                           r"like|top|than|since|till|until)\s+$", re.IGNORECASE)
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
star kids' go goes going went play plays playing live lives living lived lane lanes
""".split())


# Street words of the other languages councils serve, written before the street's name (Polish "ul. Długa 5",
# Romanian "Strada Florilor 12", "str. Mihai Viteazu nr. 14"): a number must follow within the next few words.
_LATIN_WORD = r"[^\W\d_][^\W\d_'’\-.]*(?:-[^\W\d_]+)*\.?"
_ADDRESS_BEFORE = re.compile(
    r"(?<!\w)(?:ul\.|ulica|ulicy|ulicę|al\.|aleja|alei|aleje|os\.|osiedle|osiedlu|pl\.|plac|placu|"
    r"strada|str\.|bulevardul|bd\.|b-dul|bdul\.?|calea|aleea|șoseaua|şoseaua|soseaua|splaiul|piața|piaţa|piata|"
    r"intrarea|str)(?:(?<=\.)|(?![^\W\d_]))\s*"
    r"(?:" + _LATIN_WORD + r"\s+){0,3}?"
    r"(?:nr\.?\s*|numărul\s+|numarul\s+)?\d{1,4}[a-zA-Z]?(?:\s*/\s*\d{1,4}|\s+m\.\s*\d{1,4}|\s+(?:bl|bloc|sc|ap)\.?\s*\w{1,4})*",
    re.IGNORECASE,
)
# Arabic, Urdu and Shahmukhi: "شارع النخيل 15", "15 شارع النخيل", "گلی نمبر 4", "مکان نمبر 12، گلی 3", "23 سٹیشن روڈ";
# Gurmukhi: "45 ਗ੍ਰੀਨ ਲੇਨ", "ਗਲੀ ਨੰ. 5". Words are runs of non-space characters (the scripts' vowel signs are marks).
_SCRIPT_WORD = r"[^\s\d.,،؛:!?؟()\[\]]+"
_NUMBER_WORD = r"(?:رقم|نمبر|ਨੰ\.?|ਨੰਬਰ|no\.?)"
_STREET_AFTER = ("روڈ|رود|سٹریٹ|اسٹریٹ|سڑک|لین|گلی|ایونیو|کلوز|ڈرائیو|کریسنٹ|گرین|ٹیرس|وے|"
                 "ਰੋਡ|ਸਟਰੀਟ|ਸਟ੍ਰੀਟ|ਲੇਨ|ਸੜਕ|ਗਲੀ|ਕਲੋਜ਼|ਡਰਾਈਵ|ਐਵੇਨਿਊ|ਗਰੋਵ|ਵੇ|ਕ੍ਰੇਸੈਂਟ")
_ARABIC_STREET = "شارع|طريق"  # "street", "road": the street's name follows, then the number, or the number first
_LANE = "گلی|سڑک|ਗਲੀ|ਸੜਕ"  # "lane", "road" (Urdu, Punjabi): a number follows at once ("گلی نمبر 4", "گلی 3")
_HOUSE = "مکان|گھر|فلیٹ|ਮਕਾਨ|ਘਰ|ਫਲੈਟ"  # "house", "home", "flat": only with "number" ("مکان نمبر 12")
_ADDRESS_SCRIPT = re.compile(unicodedata.normalize("NFKC",
    r"(?<!\w)(?:"
    r"\d{1,4}\s+(?:" + _SCRIPT_WORD + r"\s+){0,2}(?:" + _STREET_AFTER + r")(?!\w)"
    r"|\d{1,4}\s+(?:" + _ARABIC_STREET + r")(?:\s+" + _SCRIPT_WORD + r"){1,2}"
    r"|(?:" + _ARABIC_STREET + r")\s+(?:" + _SCRIPT_WORD + r"\s+){1,3}?(?:" + _NUMBER_WORD + r"\s*)?\d{1,4}"
    r"|(?:(?:" + _HOUSE + r")\s*" + _NUMBER_WORD + r"|" + _LANE + r")\s*(?:" + _NUMBER_WORD + r"\s*)?\d{1,4}"
    r"(?:\s*[،,]\s*(?:" + _LANE + r")\s*(?:" + _NUMBER_WORD + r"\s*)?\d{1,4})?"
    r")"), re.IGNORECASE)
_SCRIPT_LETTER = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u0a00-\u0a7f]")

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
_MODIFIER = r"(?:(?:little|lil|big|old|young|fat|mad|tall|wee)\s+)?"

# Common short words and text-speak, which the known-word list (four letters and more) does not hold.
_SHORT_WORDS = frozenset("""
a i am an as at be by do go he if in is it me my no of oh ok on or so to up us we ya ye yh u ur r n x xx
ace act add ago aid aim air all and ant any ape arm art ask ate awe bad bag ban bar bat bay bed bee beg bet bid big
bin bit bob box boy bra bro bud bug bum bun bus but buy bye cab can cap car cat cos coz cow cry cub cud cup cut dad
day den did die dig dim din dip doc doe dog dot dry due dug dye ear eat egg ego end era eve eye fab fag fam fan far
fat fed fee few fit fix fly fog for fox fry fun fur gap gas gay gel get gig gin god got gum gun gut guy gym had ham
has hat hav hay hen her hey hid him hip his hit hmm hob hog hot how hub hug huh hut ice icy ill imo ink inn its jab
jam jar jaw jet job jog joy jug kid kin kit lab lad lag lap law lay led leg let lid lie lip lit lol lot low luv mad
man map mat may men met mix mob mom mop mud mug mum nag nah nan nap net new nil nit nod nor not now nut oak oar odd
off oil old one our out owe own pad pal pan par pat paw pay pea peg pen pet pie pig pin pit pls plz pop pot pro pub
put rag ram ran rap rat raw ray red rib rid rip rob rod rot row rub rug run sad sat saw say sea see set sew she shy
sin sip sir sis sit six ski sky sly sob son soz spa spy sub sue sum sun tab tag tan tap tar tax tea ten the tho thx
tie tin tip toe ton too top toy try tub tug two ugh urn use van vet via vow wag war was wax way web wed wee wet who
why wig win wit wiv woe wok won wot wow yes yet you zip zoo idk tbh smh omg wtf brb ngl rn fr ppl bcz bc dnt cnt
wnt wud cud shud gna gon wer iz wen cba lil wee gtg hbu wyd wbu ffs jk lmao rofl ily ty tyt np nvm btw fyi asap
""".split())


@lru_cache(maxsize=1)
def _ordinary_words() -> frozenset[str]:
    """Lower-case words that are not names when written in lower case: the known-word list (SCOWL, four letters
    and more), the stop-word list, the lexicon's text-speak and slang, and the short words above."""
    words: set[str] = set(_SHORT_WORDS)
    for path in (KNOWN_WORDS_FILE, STOPWORDS_FILE):
        try:
            words.update(line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines()
                         if line.strip() and not line.startswith("#"))
        except OSError:
            log.warning("word list %s is missing; lower-case names after a title are not redacted", path.name)
    try:
        for line in (RESOURCES / "lexicon.csv").read_text(encoding="utf-8").splitlines()[1:]:
            words.add(line.split(",", 1)[0].strip().lower())
    except OSError:
        pass
    return frozenset(words)


# Contexts after which a word in lower case is a name unless it is an ordinary word ("coach baz", "miss kaur",
# "ask for dave", "my mate tommo"): titles, roles and friends, not "my mum" (which verbs follow: "my mum works").
_CONTEXT_LOWER = re.compile(
    r"(?:\b(?:my|our|me|ma)\s+(?:best\s+|old\s+|new\s+|ex\s?-?\s?)?(?:mate|friend|bestie|bezzie|bff|pal|cousin|bf|gf|"
    r"boyfriend|girlfriend|ex|bro|sis|lad|fella|teacher|tutor|coach|key\s?worker|social\s?worker|youth\s?worker|"
    r"support\s?worker)(?:\s+(?:called|named))?\s*" + _MODIFIER +
    r"|\b(?:called|named|name\s+is|name's|ask\s+for|asking\s+for|mr|mrs|ms|miss|dr|mx|sgt|pc|coach|nurse|"
    r"teacher|pastor|imam|uncle|auntie|aunty|keyworker|key\s?worker|social\s?worker|youth\s?worker|"
    r"support\s?worker|cllr)\.?\s*" + _MODIFIER + r")[ \t]*,?[ \t]*$",
    re.IGNORECASE,
)
_CONTEXT_BEFORE = re.compile(
    r"(?:\b(?:my|our|his|her|their|your|me|ma)\s+(?:little\s+|big\s+|older\s+|younger\s+|baby\s+|best\s+|eldest\s+|"
    r"youngest\s+|step\s?-?|ex\s?-?\s?|twin\s+|form\s+|head\s+|new\s+|old\s+)?(?:son|daughter|child|kid|boy|girl|"
    r"brother|sister|bro|sis|mate|friend|bestie|bezzie|bff|pal|cousin|nephew|niece|husband|wife|partner|boyfriend|"
    r"girlfriend|bf|gf|ex|baby|mum|mom|mam|mother|dad|father|nan|nanna|nanny|gran|granny|grandad|grandpa|grandma|"
    r"grandson|granddaughter|uncle|auntie|aunty|aunt|neighbour|teacher|tutor|key\s?worker|social\s?worker|"
    r"support\s?worker|youth\s?worker|worker|carer|foster\s?carer|coach|manager|boss|sons|daughters|kids|children|"
    r"friends|twins|girls|boys|lads|grandkids|grandchildren|stepdad|stepmum|stepbrother|stepsister|doctor|gp|"
    r"nurse|counsellor|mentor|lad|fella|bloke|missus|mrs|hubby|housemate|flatmate|landlord|landlady)"
    r"(?:'s)?(?:\s+(?:called|named|is))?\s*" + _MODIFIER +
    r"|\b(?:called|named|name\s+is|name's|names|ask\s+for|asking\s+for|mr|mrs|ms|miss|dr|mx|prof|sgt|pc|dc|cllr|"
    r"coach|nurse|teacher|pastor|imam|father|fr|sister|brother|reverend|rev|vicar|rabbi|uncle|auntie|aunty|aunt|"
    r"nan|nanna|grandad|grandma|gran|keyworker|key\s?worker|social\s?worker|youth\s?worker|support\s?worker|"
    r"officer|sergeant|inspector|councillor|mentor|counsellor|tutor|bestie|midwife|health\s?visitor|"
    r"receptionist|caretaker|dinner\s?lady|lollipop\s?lady)\.?\s*" + _MODIFIER +
    r"|\bi\s*(?:'m|am)\s+called|\bmy\s+name\s+is"
    # Polish: "mój kolega X", "pani X", "pan X"; Romanian: "prietenul meu X", "doamna X", "domnul X"
    r"|\b(?:mój|moj|moja|mojego|mojej|moją)\s+(?:kolega|kolegą|koleżanka|kolezanka|przyjaciel|przyjaciółka|"
    r"przyjaciolka|brat|siostra|syn|córka|corka|chłopak|chlopak|dziewczyna|tata|mama|wujek|ciocia|dziadek|babcia|"
    r"kuzyn|kuzynka|sąsiad|sąsiadka|nauczyciel|nauczycielka|trener|mąż|żona)"
    r"|\b(?:pani|pan|panią|pana|panem|panu|panie)"
    r"|\b(?:prietenul|prietena|fratele|sora|fiul|fiica|colegul|colega|iubitul|iubita|vărul|verișoara|vecinul|"
    r"vecina|soțul|soția|tatăl|mama|bunicul|bunica|profesorul|profesoara|antrenorul)\s+(?:meu|mea|nostru|noastră)"
    r"|\b(?:doamna|domnul|dna\.?|dl\.?|d-na|d-l|doamnei|domnului|profesorul|profesoara|antrenorul|doctorul|"
    r"doctora|părintele))"
    r"[ \t]*,?[ \t]*$",
    re.IGNORECASE,
)
# The same for scripts without capital letters (Arabic, Urdu, Shahmukhi, Gurmukhi): the word after the context is the
# name, unless it is one of the small words listed below.
_CONTEXT_SCRIPT = re.compile(unicodedata.normalize("NFKC",
    r"(?<!\w)(?:"
    r"(?:میرا|میری|میرے|ہمارا|ہماری|ہمارے|اسدا|ساڈا|ساڈی)\s+(?:دوست|یار|سہیلی|بھائی|بھرا|بہن|بھین|بیٹا|بیٹی|"
    r"پتر|دھی|کزن|ابو|امی|چچا|ماموں|خالہ|پھوپھو|نانی|دادی|استاد|ٹیچر|شوہر|بیوی|بوائے\s?فرینڈ|گرل\s?فرینڈ)"
    r"|مسز|مسٹر|مس|ڈاکٹر|استاد|ٹیچر|باجی|آنٹی|انکل|کوچ|نرس"
    r"|(?:صديقي|صديقتي|أخي|اخي|أختي|اختي|ابني|ابنتي|زوجي|زوجتي|عمي|خالي|عمتي|خالتي|جاري|جارتي|ابن\s+عمي)"
    r"|(?:الأستاذ|الاستاذ|الأستاذة|الاستاذة|السيد|السيدة|الآنسة|المعلم|المعلمة|الدكتور|الدكتورة|المدرب|الشيخ|أستاذ|"
    r"استاذ|سيد|سيدة)"
    r"|(?:ਮੇਰਾ|ਮੇਰੀ|ਮੇਰੇ|ਸਾਡਾ|ਸਾਡੀ)\s+(?:ਦੋਸਤ|ਯਾਰ|ਸਹੇਲੀ|ਭਰਾ|ਭੈਣ|ਪੁੱਤਰ|ਪੁੱਤ|ਧੀ|ਬੇਟਾ|ਬੇਟੀ|ਕਜ਼ਨ|ਚਾਚਾ|ਮਾਮਾ|ਮਾਸੀ|"
    r"ਭੂਆ|ਅਧਿਆਪਕ|ਟੀਚਰ|ਪਤੀ|ਪਤਨੀ)"
    r"|ਮਿਸਿਜ਼|ਮਿਸਜ਼|ਮਿਸਟਰ|ਮਿਸ|ਡਾਕਟਰ|ਟੀਚਰ|ਕੋਚ|ਨਰਸ|ਆਂਟੀ|ਅੰਕਲ"
    r")\s+(?P<w>[^\s\d.,،؛:!?؟()\[\]\"'«»]+)"), re.IGNORECASE)
_SCRIPT_STOP = frozenset(unicodedata.normalize("NFKC", """
ہے ہیں تھا تھی تھے بھی نے کو کا کی کے اور نہیں میں سے پر بہت میرا میری میرے ہم وہ یہ جو کہ تو ہی نال دا دی دے اے نیں نوں
تے وی سی جی اک ایک بہت بڑا چھوٹا
في من على هو هي لا لم لن ما عن مع إلى الى أن ان كان كانت قد هذا هذه ذلك التي الذي كل بعد قبل أيضا جدا
ਹੈ ਹਨ ਸੀ ਵੀ ਨੇ ਨੂੰ ਦਾ ਦੀ ਦੇ ਤੇ ਅਤੇ ਨਹੀਂ ਵਿੱਚ ਤੋਂ ਬਹੁਤ ਮੇਰਾ ਮੇਰੀ ਮੇਰੇ ਜੀ ਇੱਕ ਉਹ ਇਹ ਜੋ ਕਿ
""").split())
# Weaker context ("contact X", "call X", "me and X") counts only for listed names, so that "call Childline" and
# "contact Barnardo's" stay as they are while "call Will" and "me and Faith" do not.
_CONTEXT_WEAK = re.compile(
    r"\b(?:contact|speak\s+to|speak\s+with|talk\s+to|call|ring|text|message|email|phone|thanks\s+to|thank\s+you|"
    r"thank|me\s+(?:and|&|n)|with\s+my\s+\w+)[ \t]*,?[ \t]*$",
    re.IGNORECASE,
)
_CALENDAR = frozenset("monday tuesday wednesday thursday friday saturday sunday january february march april june "
                      "july august september october november december christmas easter eid diwali".split())
# Titles after which even an ordinary word is a surname ("Mr Brown", "coach Baker").
_TITLE_BEFORE = re.compile(
    r"\b(?:mr|mrs|ms|miss|dr|mx|prof|sgt|pc|dc|cllr|coach|nurse|teacher|pastor|imam|reverend|rev|vicar|rabbi|"
    r"officer|sergeant|inspector|councillor|pani|pan|doamna|domnul)\.?\s*$", re.IGNORECASE)
# "me and X": a person, unless X is an ordinary word ("me and Mum"); "call X" is not enough ("call Childline").
_CONTEXT_COMPANION = re.compile(r"\bme\s+(?:and|&|n)[ \t]*$", re.IGNORECASE)
_CONTEXT_AFTER = re.compile(
    r"^(?:'s)?\s+(?:is|was|who\s+is|,)\s*(?:my|our|the|a)\s+(?:key\s?worker|social\s?worker|support\s?worker|"
    r"youth\s?worker|worker|teacher|carer|foster\s?carer|tutor|coach|mentor|counsellor|nurse|doctor|gp|"
    r"health\s?visitor|manager|friend|mate|neighbour|son|daughter|sister|brother|cousin|mum|dad)\b"
    r"|^\s+(?:and|&|n)\s+(?:me|i|my)\b",
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
council services service team club group centre's
""".split())
_PLACE_TITLES = frozenset("st saint queen king prince princess lady lord sir".split())
_AFTER_ARTICLE = re.compile(r"\b(?:the|a|an)\s+$", re.IGNORECASE)
_TITLES = frozenset("mr mrs ms miss dr mx sir madam".split())  # never a name themselves ("Miss Clarke")


# Cheap tests that let most answers skip the word-by-word pass: no listed name in them, no capitalised word inside a
# sentence (other than "I") and no "X is my key worker" shape means no name to find.
_MID_SENTENCE_CAPITAL = re.compile(r"[^\W\d_,;:)]\s+(?!I\b|I[’'])[^\W\d_a-z]|[,;:)]\s*[A-Z]")
_IS_MY = re.compile(r"\b(?:is|was|who is)\s+(?:my|our|the|a)\b", re.IGNORECASE)
_LOWER_HINT = re.compile(r"\b(?:mate|friend|bestie|bezzie|bff|pal|cousin|bf|gf|boyfriend|girlfriend|ex|bro|sis|lad|"
                         r"fella|teacher|tutor|coach|worker|keyworker|called|named|name|ask|asking|mr|mrs|ms|miss|dr|"
                         r"mx|sgt|pc|nurse|pastor|imam|uncle|auntie|aunty|cllr)\b|\b(?:and|&|n)\s+(?:me|i)\b",
                         re.IGNORECASE)


_PUNCTUATION_TO_SPACE = str.maketrans({c: " " for c in "!\"#$%&'()*+,./:;<=>?@[\\]^_`{|}~’‘“”0123456789"})


def _may_have_names(text: str) -> bool:
    plain, _ = _name_lists()
    if "-" in text or not plain.isdisjoint(text.lower().translate(_PUNCTUATION_TO_SPACE).split()):
        return True
    if _IS_MY.search(text) or _LOWER_HINT.search(text):
        return True
    rest = text[1:]
    return rest != rest.lower() and bool(_MID_SENTENCE_CAPITAL.search(text))  # no capital after the first: no name


def _names(text: str, taken: list[tuple[int, int]]) -> list[Span]:
    if not _may_have_names(text):
        return []
    plain, ambiguous = _name_lists()
    ordinary = _ordinary_words()  # the same frozenset each call (lru_cache); looked up once here for speed
    spans: list[Span] = []
    last_end = -1
    for match in _WORD.finditer(text):
        start, end = match.span()
        if start < last_end or taken and any(a <= start < b for a, b in taken):
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
            is_name = capitalised or (len(key) >= 4 and not _AFTER_ARTICLE.search(text, max(0, start - 8), start))
        elif capitalised and not (word.isupper() and len(word) > 1 and not in_ambiguous):
            # An ordinary-word name ("Will", "Hope") or an unlisted one: only when the context says a person.
            before = text[max(0, start - 40):start]
            after = text[end:end + 60]
            after_match = _CONTEXT_AFTER.match(after)
            if after_match and after_match.group(0).lstrip()[:1] in "&an" and key in ordinary:
                after_match = None  # "Mum and me", "Football and me": only an unknown word is a name by that
            if not (in_plain or in_ambiguous) and (key in _CALENDAR or key in ordinary
                                                   and not _TITLE_BEFORE.search(before)):
                continue  # "my mum Saturday", "my son Football": an ordinary word, unless a title says otherwise
            is_name = bool(_CONTEXT_BEFORE.search(before) or after_match
                           or (in_ambiguous and _CONTEXT_WEAK.search(before))
                           or (key not in ordinary and key not in _PLACE_WORDS
                               and _CONTEXT_COMPANION.search(before)))
        elif not capitalised and len(key) >= 3 and key not in ordinary and key not in _TITLES:
            # A word in lower case after a title, a role or "my mate": a name unless it is an ordinary word.
            is_name = bool(_CONTEXT_LOWER.search(text[max(0, start - 40):start]))
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
    return spans + _coordinated(text, spans, taken, plain | ambiguous)


_COORD_AFTER = re.compile(r"\s+(?:and|n|&)\s+([^\W\d_]+(?:-[^\W\d_]+)*)", re.IGNORECASE)
_COORD_BEFORE = re.compile(r"([^\W\d_]+(?:-[^\W\d_]+)*)\s+(?:and|n|&)\s+$", re.IGNORECASE)


def _coordinated(text: str, spans: list[Span], taken: list[tuple[int, int]], listed: frozenset[str]) -> list[Span]:
    """Names joined to a name found ("Sukhpreet and Harpreet", "Rio and Kenzie", "Harvey n Mason"): a listed name,
    a capitalised word that is not an ordinary word, or a lower-case word that is neither ordinary nor short."""
    found: list[Span] = []
    busy = list(taken) + [(s.start, s.end) for s in spans]

    def consider(start: int, end: int) -> None:
        word = text[start:end]
        key = word.lower()
        if key in _NOT_SURNAME or key in _TITLES or key in _PLACE_WORDS or key in _PLACE_TITLES:
            return
        if not (key in listed or key not in _ordinary_words() and (word[0].isupper() or len(key) >= 3)):
            return
        if any(a < end and start < b for a, b in busy):
            return
        found.append(Span(start, end, "name"))
        busy.append((start, end))

    for span in spans:
        after = _COORD_AFTER.match(text, span.end)
        if after:
            consider(*after.span(1))
        before = _COORD_BEFORE.search(text, max(0, span.start - 40), span.start)
        if before:
            consider(*before.span(1))
    return found


# --- putting it together --------------------------------------------------------------------------------------------


_ASCII_DIGIT = re.compile(r"[0-9]")
_ASCII_DIGITS = "0123456789"


def _has_digit(text: str) -> bool:
    """any(c.isdigit() for c in text), without a Python loop over an ASCII text (where only 0-9 are digits)."""
    if text.isascii():
        return _ASCII_DIGIT.search(text) is not None
    return any(c.isdigit() for c in text)


def _digit_count(text: str) -> int:
    """sum(c.isdigit() for c in text), the same way."""
    if text.isascii():
        return sum(map(text.count, _ASCII_DIGITS))
    return sum(c.isdigit() for c in text)


def _regex_spans(text: str) -> list[Span]:
    """Every detail but names in `text` (already normalised), in the order that settles overlaps."""
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    def add(start: int, end: int, kind: str) -> None:
        if start < end and free(start, end):
            spans.append(Span(start, end, kind))
            taken.append((start, end))

    if "@" in text or "(at)" in text or "[at]" in text:
        for m in _EMAIL.finditer(text):
            add(m.start(), m.end(), "email")
    if " at " in text or " AT " in text or " At " in text:
        for m in _EMAIL_WORDS.finditer(text):
            add(m.start(), m.end(), "email")
    for start, end in _handles(text, _ordinary_words()):
        add(start, end, "handle")
    if _has_digit(text):
        for m in _POSTCODE.finditer(text):
            # "see u b4 6pm" is a time, not the postcode B4 6PM (which someone would write in capitals)
            if m.group(0)[-2:].lower() in ("am", "pm") and not m.group(0).isupper():
                continue
            add(m.start(), m.end(), "postcode")
        if _digit_count(text) >= 6:
            # Helplines, alone or beside a short number ("0800 1111 or 999"), are off limits to every phone rule.
            helplines = [m.span() for m in _RUN.finditer(text) if _digits(m.group(0)) in HELPLINES
                         or len(_digits(m.group(0))) <= 24 and _helpline_and_short(m.group(0))]

            def add_phone(start: int, end: int) -> None:
                if all(end <= a or start >= b for a, b in helplines):
                    add(start, end, "phone")

            for start, end in _phone_runs(text):  # first: it takes a leading "O" the library leaves out
                add_phone(start, end)
            # The library sees only what the digit-run rule left (and not a whole book pasted in by mistake).
            rest = list(text)
            for start, end in taken:
                rest[start:end] = " " * (end - start)
            rest_text = "".join(rest)
            if len(rest_text) <= 20_000 and _digit_count(rest_text) >= 7:
                for start, end in _library_phones(rest_text):
                    add_phone(start, end)
            for m in _PHONE.finditer(text):
                if _digits(m.group(0)) not in HELPLINES:
                    add_phone(m.start(), m.end())
            for m in _LOCAL_PHONE.finditer(text):
                if _digits(m.group("n")) not in HELPLINES:
                    add_phone(m.start("n"), m.end("n"))
        for m in _ADDRESS.finditer(text):
            words = m.group(1).split()
            if re.match(r"(?:(?:19|20)\d\d|999)\b", m.group(0)) or _COUNT_BEFORE.search(text, max(0, m.start() - 12),
                                                                               m.start()):
                continue  # "in 2026 the green", "age 15 the green", "999 the high street": not a house number
            if words[:1] and words[0].lower() == "the":
                words = words[1:]  # "6 The Green", "12 the green", "2 The Old Mill Close"
            if any(w.lower().strip("'’-") in _NOT_STREET_NAME for w in words):
                continue
            add(m.start(), m.end(), "address")
        for m in _ADDRESS_BEFORE.finditer(text):
            add(m.start(), m.end(), "address")
        if _SCRIPT_LETTER.search(text):
            for m in _ADDRESS_SCRIPT.finditer(text):
                add(m.start(), m.end(), "address")
    return spans


def _script_names(text: str, taken: list[tuple[int, int]]) -> list[Span]:
    if not _SCRIPT_LETTER.search(text):
        return []
    spans = []
    for m in _CONTEXT_SCRIPT.finditer(text):
        start, end = m.span("w")
        if m.group("w") in _SCRIPT_STOP or any(a < end and start < b for a, b in taken):
            continue
        spans.append(Span(start, end, "name"))
    return spans


def _map_back(spans: list[Span], starts: list[int] | None, ends: list[int] | None) -> list[Span]:
    if starts is None or ends is None:
        return spans
    return [Span(starts[s.start], ends[s.end - 1], s.kind) for s in spans if s.end > s.start]


def find_personal_details(text: str) -> list[Span]:
    """Every personal detail in `text`, in order, not overlapping, as positions in `text` itself. Never raises.

    Should the detectors fail on some input, the whole text is one span of kind "unredacted", so that redact()
    withholds the answer rather than let a personal detail through.
    """
    if not isinstance(text, str) or not text:
        return []
    try:
        norm, starts, ends = _normalise(text)
        spans = _regex_spans(norm)
        taken = [(s.start, s.end) for s in spans]
        spans += _names(norm, taken)
        spans += _script_names(norm, taken + [(s.start, s.end) for s in spans if s.kind == "name"])
        spans = _map_back(spans, starts, ends)
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


# The last line of defence, run over the redacted text itself: nothing that looks like an e-mail address or a phone
# number may remain, whatever the detectors above missed or however their spans collided.
_EMAIL_LIKE = re.compile(r"[\w.%+-]{1,64}@[\w.-]{1,255}\.[A-Za-z]{2,}")


def _leftovers(text: str) -> list[Span]:
    norm, starts, ends = _normalise(text)
    spans = [Span(a, b, "phone") for a, b in _phone_runs(norm)] if _has_digit(norm) else []
    if "@" in norm:
        spans += [Span(*m.span(), "email") for m in _EMAIL_LIKE.finditer(norm)]
    spans = _map_back(spans, starts, ends)
    spans.sort(key=lambda s: (s.start, -s.end))
    kept: list[Span] = []
    for span in spans:
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


def _replace(text: str, spans: list[Span]) -> str:
    out: list[str] = []
    position = 0
    for span in spans:
        out.append(text[position:span.start])
        out.append(PLACEHOLDERS[span.kind])
        position = span.end
    out.append(text[position:])
    return "".join(out)


def redact(text: str) -> str:
    """`text` with personal details replaced by placeholders such as [phone] and [email]; the rest as typed."""
    if not isinstance(text, str):
        return "" if text is None else redact(str(text))
    spans = find_personal_details(text)
    result = _replace(text, spans) if spans else text
    try:
        leftovers = _leftovers(result)
    except Exception:  # noqa: BLE001 - as in find_personal_details: withhold rather than leak
        log.exception("redaction failed in its last check; the answer is withheld")
        return PLACEHOLDERS["unredacted"]
    if leftovers:
        result = _replace(result, leftovers)
    # "flat 3, [address]": the flat number belongs to the address.
    return _FLAT_ONLY.sub("", result) if "[address]" in result else result
