"""Checks an answer for a possible disclosure of harm, so that it reaches a safeguarding lead at once.

Favours recall: a false alarm costs a lead a minute; a missed disclosure can cost a child far more.

How it decides, in plain steps (so a lead can follow a reason string back to the rule):
1. normalise: undo hiding and stretching (Unicode NFKC, zero-width characters and soft hyphens dropped, leetspeak
   "h1ts"/"k!ll"/"my5elf", letters split by dots, dashes or spaces "b.e.a.t.s"/"h i t s", stretched letters
   "hiiiits"/"sooo"; each only when the result is a word the checks know), lower case, drop apostrophes, expand
   text-speak ("scared 2 go" -> to, "kms" -> kill myself, "sum1" -> someone, "r" -> our) and repair one-slip
   misspellings of the words the expressions use ("touchd", "hitz", "scard");
2. find harm concepts: each category is a list of expressions (hit, touched me, left alone, no food, kicked out,
   made to work for no money, sent to sell, asked for pictures, ...); a child's age beside an adult partner's
   ("im 14 and my boyfriend is 22") is exploitation;
3. within the same sentence, look for a personal or specific reference (I, me, my, we, our, my mate, he/she, the kid
   next door, last night, yesterday, a bare "mum"/"dad") against generic markers (children, kids, parents,
   "is neglect", "when", "being ..."). Opinion frames ("I think", "in my opinion", "we need") are not personal.
   An answer to a question that asks what something is ("What is neglect?", DEFINING_QUESTIONS) with no personal
   reference is a definition ("house is freezing"); with one ("my house is freezing") it is judged as always.
4. a harm concept with a personal reference near it, or with a personal reference and no generic marker, is a possible
   disclosure; some expressions are disclosures on their own ("kill myself", "touched me", "scared to go home").
5. wider nets, still only for personal, non-generic, non-reassuring sentences: a worrying topic word ("bruises",
   "heroin", "nowhere"), then any personal statement with an unease signal (never, have to, hate, always, nobody...).
Strength: "strong" for a stand-alone expression or a main-list harm concept beside a personal reference (confidence
"high"); "possible" for the wider nets, a harm concept without a personal reference near it, a worrying topic word
("medium") and the personal-statement net ("low").
First-person statements in Polish, Romanian, Punjabi (Gurmukhi, Shahmukhi, romanised), Urdu and Arabic are checked
first; those rules need a native speaker's check. If the check itself fails, the answer is flagged for a person to
read: a missed disclosure is the worse error.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Disclosure:
    """Why an answer looks like a possible disclosure (shown to the safeguarding lead)."""

    reason: str
    category: str = "harm"
    words: str = ""
    confidence: str = "high"  # "high" strong evidence; "medium" weaker; "low" only the personal-statement net (_judge)

    @property
    def strength(self) -> str:
        """How strong the evidence is, as stored on the flag and sorted by in the queue: "strong" or "possible"."""
        return "strong" if self.confidence == "high" else "possible"


#: Strengths a flag can carry, strongest first.
STRENGTHS = ("strong", "possible")

#: Categories that may mean a child is at immediate risk: the safeguarding queue puts them first.
URGENT_CATEGORIES = frozenset({"sexual", "self_harm", "physical", "thrown_out", "exploitation"})


CATEGORY_LABELS = {
    "physical": "being hit or hurt",
    "sexual": "sexual abuse",
    "left_alone": "being left alone",
    "no_food_heating": "no food, heating or basic care",
    "scared_home": "scared at home",
    "thrown_out": "thrown out or homeless",
    "self_harm": "self-harm or suicidal thoughts",
    "exploitation": "exploitation",
    "parent_cannot_cope": "a parent unable to cope",
    "emotional": "emotional abuse",
    "concern": "a worrying personal statement",
    "personal": "a personal account on a sensitive topic (low confidence)",
    "unchecked": "not checked automatically",
}

# --- normalisation -------------------------------------------------------------------------------------------------

# Text-speak and contractions (apostrophes are already dropped). Values may be several words.
_SPEAK = {
    "r": "are", "in2": "into", "2gether": "together", "b": "be", "c": "see", "u": "you", "ur": "your", "ya": "you", "yr": "your", "n": "and",
    "im": "i am", "ive": "i have", "id": "i would", "iam": "i am", "i m": "i am",
    "me": "me", "mi": "my", "ma": "my", "mah": "my", "mii": "my", "meself": "myself", "mysef": "myself",
    "wiv": "with", "wid": "with", "wit": "with", "w": "with", "wen": "when", "wat": "what", "wot": "what",
    "dat": "that", "dis": "this", "da": "the", "tha": "the", "th": "the", "b4": "before", "bc": "because",
    "cos": "because", "coz": "because", "cuz": "because", "cause": "because", "bcoz": "because",
    "sum1": "someone", "some1": "someone", "sumone": "someone", "sum": "some", "som1": "someone",
    "ne1": "anyone", "any1": "anyone", "every1": "everyone", "evry1": "everyone", "no1": "no one", "noone": "no one",
    "nobody": "nobody", "nuthin": "nothing", "nothin": "nothing", "nuffin": "nothing", "nowt": "nothing",
    "nite": "night", "nites": "nights", "2nite": "tonight", "2night": "tonight", "tonite": "tonight",
    "2day": "today", "2moro": "tomorrow", "yday": "yesterday", "yest": "yesterday", "lst": "last",
    "wanna": "want to", "wana": "want to", "gonna": "going to", "gotta": "got to", "hafta": "have to",
    "kms": "kill myself", "kmsf": "kill myself", "kys": "kill yourself", "unalive": "kill", "unalived": "killed",
    "sh": "self harm", "selfharm": "self harm", "selfharming": "self harming", "od": "overdose", "oded": "overdosed",
    "ppl": "people", "pple": "people", "peeps": "people", "hse": "house", "hom": "home", "hme": "home",
    "mom": "mum", "mam": "mum", "mummy": "mum", "mommy": "mum", "mother": "mum", "ma mum": "my mum",
    "daddy": "dad", "father": "dad", "da dad": "the dad", "stepdad": "step dad", "stepmum": "step mum",
    "stepmom": "step mum", "sis": "sister", "bro": "brother", "bruv": "brother", "m8": "mate", "m8s": "mates",
    "bf": "boyfriend", "gf": "girlfriend", "nan": "nan", "nana": "nan", "grandad": "grandad",
    "dont": "do not", "doesnt": "does not", "didnt": "did not", "cant": "can not", "cannot": "can not",
    "wont": "will not", "aint": "not", "isnt": "is not", "wasnt": "was not", "havent": "have not",
    "hasnt": "has not", "dnt": "do not", "dun": "do not", "dosnt": "does not", "carnt": "can not",
    "nobodys": "nobody is", "noones": "no one is", "somethings": "something is", "everyones": "everyone is",
    "nt": "not", "ain": "not", "idk": "i do not know", "idc": "i do not care", "tbh": "", "lol": "", "pls": "please",
    "hes": "he is", "shes": "she is", "theres": "there is", "thats": "that is", "its": "it is", "whats": "what is",
    "were": "were", "weve": "we have", "theyre": "they are", "youre": "you are", "hed": "he would",
    "gunna": "going to", "goin": "going", "havin": "having", "gettin": "getting", "bein": "being",
    "wif": "with", "ov": "of", "frm": "from", "fr": "for", "thru": "through", "luv": "love",
    "skool": "school", "skl": "school", "sch": "school", "evry": "every", "evrey": "every", "evey": "every",
    "alwys": "always", "allways": "always", "alwayz": "always", "neva": "never", "nevr": "never",
    "bcuz": "because", "becuz": "because", "becos": "because", "cus": "because", "wud": "would", "cud": "could",
    "shud": "should", "h8": "hate", "h8s": "hates", "gr8": "great", "l8": "late", "l8r": "later", "ded": "dead",
    "skared": "scared", "scard": "scared", "scerd": "scared", "scaired": "scared", "scarred": "scared",
    "frightend": "frightened", "fritened": "frightened", "afriad": "afraid", "afrad": "afraid",
    "bettz": "beats", "betz": "beats", "bets": "beats", "beatz": "beats", "hitz": "hits", "hittz": "hits",
    "hitin": "hitting", "hittin": "hitting", "beatin": "beating", "hurtin": "hurting", "punchin": "punching",
    "kickin": "kicking", "touchin": "touching", "cuttin": "cutting", "fightin": "fighting", "shoutin": "shouting",
    "batterd": "battered", "kikd": "kicked", "kickd": "kicked", "punchd": "punched", "slapd": "slapped",
    "smackd": "smacked", "touchd": "touched", "tuched": "touched", "tutched": "touched", "tuch": "touch",
    "tuches": "touches", "touchs": "touches", "rapd": "raped", "abusd": "abused", "chuckd": "chucked",
    "hungy": "hungry", "hungery": "hungry", "hungree": "hungry", "starvin": "starving", "starvn": "starving",
    "nofood": "no food", "foood": "food", "fud": "food", "fod": "food", "heatin": "heating", "eatin": "eating",
    "alown": "alone", "aloan": "alone", "alon": "alone", "allone": "alone", "lonley": "lonely",
    "drunkk": "drunk", "drnk": "drunk", "drinkin": "drinking", "stonned": "stoned", "wasted": "wasted",
    "sucide": "suicide", "suiside": "suicide", "suicidle": "suicidal", "suisidal": "suicidal",
    "suicidel": "suicidal", "killin": "killing", "dieing": "dying", "dyin": "dying",
    "cutt": "cut", "cuts": "cuts", "mysel": "myself", "myslef": "myself", "myelf": "myself", "meslf": "myself",
    "hurtz": "hurts", "hurst": "hurts", "hrt": "hurt", "hrts": "hurts", "tocuhed": "touched",
    "nayber": "neighbour", "naybor": "neighbour", "neighbor": "neighbour", "neighbors": "neighbours",
    "naber": "neighbour", "neibour": "neighbour", "nabour": "neighbour", "freind": "friend", "frend": "friend",
    "freinds": "friends", "frends": "friends", "mates": "mates", "m8z": "mates", "bruva": "brother",
    "sista": "sister", "cuzin": "cousin", "cuz1": "cousin", "cousen": "cousin", "uncel": "uncle",
    "nvr": "never", "nevar": "never", "jus": "just", "jst": "just", "pik": "pick", "pikd": "picked",
    "boyfrend": "boyfriend", "bofriend": "boyfriend", "boyfreind": "boyfriend", "stepdads": "step dads",
}

# Canonical spellings of the words that matter; misspellings within one slip of these are repaired (see _variants).
_KEYWORDS = """
hitting beating beaten beats batters battered battering punched punches punching kicked kicks kicking slapped slaps
slapping smacked smacks smacking hurts hurting bruises bruised strangled strangles choked chokes burnt burned
touched touches touching touch rape raped raping sexual sexually abused abusing abuses molested groomed grooming
alone lonely nobody ourselves myself himself herself themselves
hungry hunger starving starved starve nothing heating freezing electric fridge cupboards
scared frightened terrified afraid scary shouting screaming fighting violence
kicked thrown chucked homeless sleeping nowhere rough sofa
suicide suicidal killing cutting overdose overdosed dying
drugs dealing county older threaten threatens threatened weapons knife
drunk drinks drinking depressed struggling coping cope breaking
friend friends cousin sister brother neighbour neighbours boyfriend girlfriend uncle auntie
school because always never every night tonight yesterday weekend morning someone anyone
""".split()

# Common words that a one-slip variant of a keyword could collide with; these are never "repaired".
_REAL_WORDS = set("""
hiking hitching batter batters bating bathing beaten beaker punches kicks kiss slaps slap smack smacks hurts hurls
touch touche tough couch rape rapes raper ripe sexual abuse abuses abused alone along atone alike lonely lovely
nobody nothing heating hearing heading eating seating hating beating fridge ridge scare scared scares sacred
scary score fighting lighting sighting violence violent shouting screaming kicked kicker thrown throne throw
chucked chuckled homeless sleeping slipping nowhere rough rouge sofa soft suicide killing kidding cutting cuttings
dying dyeing drugs dealing county count older order elder threaten weapons knife drunk drank drink drinks
depressed struggling coping cope copse breaking baking friend fiend friends fiends cousin sister brother
neighbour boyfriend girlfriend uncle auntie school because always never fever sever every ever very night nigh
tonight yesterday weekend morning mourning someone anyone bruises bruised burnt burned burn brunt choked chokes
herself himself myself ourselves themselves starving starved starve stare stove hunger hungry groomed grooming
molested electric freezing frizzing cupboards overdose overdosed raping reaping abusing amusing abuser terrified
terrific frightened afraid battered bettered batted battering bettering punched punches punching slapped slapping
smacked smacking smacking hurting hunting hurtling touches touched touching sexually strangled strangles mangled
nowhere somewhere rough though through trough sofas depressed desserts broking cousins sisters brothers
""".split())

_VOWELS = "aeiou"
_SOUND_ALIKE = (("z", "s"), ("s", "z"), ("ck", "k"), ("k", "ck"), ("c", "k"), ("ph", "f"), ("ee", "ea"),
                ("ea", "ee"), ("ie", "y"), ("y", "ie"), ("ed", "d"), ("ed", "t"), ("ou", "u"), ("our", "or"))


def _variants(word: str) -> set[str]:
    """Plausible one-slip misspellings of `word`: a letter dropped, doubled or swapped, an e added, sound-alikes.

    The first letter is kept: people rarely get it wrong, and dropping it turns "heating" into "eating".
    """
    out: set[str] = set()
    for i in range(1, len(word)):
        out.add(word[:i] + word[i + 1:])  # dropped
        if i < len(word) - 1:
            out.add(word[:i] + word[i + 1] + word[i] + word[i + 2:])  # swapped
    for i in range(len(word)):
        out.add(word[:i + 1] + word[i] + word[i + 1:])  # doubled
    for i in range(1, len(word)):
        out.add(word[:i] + "e" + word[i:])
    for a, b in _SOUND_ALIKE:
        start = word.find(a, 1)
        while start != -1:
            out.add(word[:start] + b + word[start + len(a):])
            start = word.find(a, start + 1)
    out.discard(word)
    return out


# Correct English words (SCOWL british-english-small, 4+ letters, shipped for analysis/text.py): a slip that makes
# another real word ("hits" -> "hats") is not repaired. Read directly, so this module stays free of nltk.
_KNOWN_WORDS_FILE = Path(__file__).resolve().parent / "resources" / "lexicon.known_words.txt"


def _known_words() -> frozenset[str]:
    try:
        lines = _KNOWN_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    except OSError:
        return frozenset()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _build_repairs(vocabulary: list[str]) -> dict[str, str]:
    """misspelling -> word, for one-slip misspellings of the words the harm expressions are written with."""
    repairs: dict[str, str] = {}
    words = set(vocabulary)
    known = _KNOWN
    for word in vocabulary:
        if len(word) < 4 or (len(word) < 5 and word not in _ANCHOR_EXACT):
            continue
        for variant in _variants(word):
            if (len(variant) < 4 or variant in words or variant in known or variant in _REAL_WORDS
                    or variant in _SPEAK):
                continue
            repairs.setdefault(variant, word)
    repairs.update(_SPEAK)
    return repairs


_KNOWN = _known_words()
_REPAIRS: dict[str, str] = dict(_SPEAK)  # completed below, once the harm expressions and their words are known
_REPEATS = re.compile(r"([a-z])\1{2,}")
_TOKEN = re.compile(r"[a-z0-9]+|[.!?;:\n]+")
# Words people split in two: "my self", "no where", "some one", "home less".
_OUR_OWN = re.compile(r"\bon (?:are|r|owr) own\b")
_THEIR_OWN = re.compile(r"\bon (?:there|thier|ther) own\b")
# "r" is "are" ("kids r scared") except before the words of a home ("no food in r house"), where it is "our".
_R_OUR = re.compile(r"\br(?= (?:house|home|flat|room|bedroom|mum|mom|dad|nan|family|fridge|kitchen|street|bro|sis|"
                    r"brother|sister|kids|baby|cupboards?|garden|car)\b)")
# "2" and "4" as words ("scared 2 go home", "4 me"), not as numbers ("2 sisters", "4 kids").
_DIGIT_WORD = re.compile(
    r"(?<![\w.,£$])[24](?= (?:go|goes|be|do|get|see|tell|talk|eat|sleep|say|stay|school|home|me|him|her|them|us|"
    r"the|my|bed|die|kill|hurt|hit|leave|live|come|run|sell|carry|you|u|ya|anyone|any1|sum1|some1|nobody|no1)\b)"
)
_JOINED = re.compile(r"\b(my|your|him|her|them|our|no|some|any|every|home) (self|selves|where|ones|one|body|less)\b")
_BOUNDARY = frozenset(".!?;:\n")


_DROP_APOSTROPHES = str.maketrans("", "", "'’‘`´")
_JOIN_TAILS = ("self", "selves", "where", "one", "body", "less")


# --- obfuscation: how people hide or stretch a word ("h\u200bits", "k1ll", "h i t s", "b.e.a.t.s", "hiiiits") -------
# Characters that change nothing visible: zero-width space/joiners, word joiner, BOM, soft hyphen, bidi marks.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c"
                                    "\u202d\u202e\u2066\u2067\u2068\u2069\u180e"))
# Letters written as digits and symbols; "1" may stand for i or l, so both are tried.
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "!": "i", "$": "s",
         "€": "e", "£": "l", "|": "l"}
_LEET_WORD = re.compile(r"(?<![\w@!$€£|])(?=[\w@!$€£|]{0,24}[a-z])(?=[\w@!$€£|]{0,24}[013457@!$€£|8])"
                        r"[a-z0-9@!$€£|]{2,25}(?![\w@$€£])(?<![!|])")
# Letters split by dots, dashes, stars or underscores ("b.e.a.t.s", "s-c-a-r-e-d") or by single spaces ("h i t s").
_DOTTED = re.compile(r"(?<![\w.])(?:[a-z][.\-*_~]){2,}[a-z](?![\w])\.?")
_SPACED = re.compile(r"(?<!\S)(?:[a-z] ){2,}[a-z](?!\S)")
_INNER_MARK = re.compile(r"(?<=[a-z])[.\-*_~]+(?=[a-z])")
# Short words the checks read (the shipped word list starts at four letters).
_SHORT_WORDS = frozenset("""a i me my us we he she him her our out off hit hits cut die dad mum bf gf sex kms kys od
so no not nor got get kid kids sad mad bad ill run eat ate fed bed way own all day top bum leg arm lip eye
hurt kill rape beat slap kick punch touch alone drunk hungry scared home house feed feeds left want wanna""".split())


def _is_word(word: str) -> bool:
    """A word the checks would read: a harm expression's word, a known English word, or a short common word."""
    return word in _SHORT_WORDS or word in _REPAIRS or word in _ANCHOR_EXACT or word in _KNOWN


def _unleet(match: re.Match[str]) -> str:
    token = match.group(0)
    if token in _REPAIRS or token.isdigit():  # text-speak ("sum1", "b4", "m8") and numbers stay as they are
        return token
    plain = token.translate(_LEET_TABLE)
    if _is_word(plain):
        return plain
    with_l = token.replace("1", "l").replace("!", "i").translate(_LEET_TABLE)
    return with_l if _is_word(with_l) else token


def _join_letters(match: re.Match[str]) -> str:
    run = match.group(0)
    letters = re.sub(r"[^a-z]", "", run)
    if _is_word(letters) or len(letters) >= 5:  # a word spelt out, even one the lists do not know
        return letters
    # "i c u t myself": a pronoun before the spelt-out word
    if letters[0] in "ia" and _is_word(letters[1:]):
        return letters[0] + " " + letters[1:]
    return run


def _stretched(match: re.Match[str]) -> str:
    """"hiiiits" -> "hits", "sooooo" -> "so", "feeeed" -> "feed": the first of two, one letter that is a word."""
    word = match.group(0)
    doubled = _REPEATS.sub(r"\1\1", word)
    if _is_word(doubled):
        return doubled
    single = _REPEATS.sub(r"\1", word)
    return single if _is_word(single) else doubled


_STRETCHED_WORD = re.compile(r"(?<![a-z])[a-z]{0,20}?([a-z])\1{2,}[a-z]{0,20}")


def _deobfuscate(text: str) -> str:
    """Undo the common ways of hiding or stretching a word; runs only where a cheap test says one may be present."""
    return _undo_hiding(_visible(text))


def _visible(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFKC", text.translate(_INVISIBLE))


def _undo_hiding(text: str) -> str:
    if _HAS_LEET.search(text):
        text = _LEET_WORD.sub(_unleet, text)
    if _HAS_MARK.search(text):
        text = _DOTTED.sub(_join_letters, text)
        text = _inner_join(text)
    if _HAS_SPACED.search(text):
        text = _SPACED.sub(_join_letters, text)
    if _HAS_REPEAT.search(text):
        text = _STRETCHED_WORD.sub(_stretched, text)
    return text


def _inner_join(text: str) -> str:
    """"sc-ared", "hi.ts": a mark inside a word goes when the joined word is one the checks read."""
    def join(match: re.Match[str]) -> str:
        joined = _INNER_MARK.sub("", match.group(0))
        return joined if _is_word(joined) and not all(_is_word(p) for p in _INNER_MARK.split(match.group(0))) \
            else match.group(0)
    return _MARKED_WORD.sub(join, text)


_MARKED_WORD = re.compile(r"[a-z]+(?:[.\-*_~]+[a-z]+)+")
_LEET_TABLE = str.maketrans(_LEET)
_HAS_LEET = re.compile(r"[a-z][013457@!$€£|8]|[013457@!$€£|8][a-z]")
_HAS_MARK = re.compile(r"[a-z][.\-*_~][a-z]")
_HAS_SPACED = re.compile(r"(?<!\S)[a-z] [a-z] [a-z](?!\S)")
_HAS_REPEAT = re.compile(r"([a-z])\1\1")
# One search for all four (speed, issue 11): where none of them matches, _undo_hiding and the squeeze of stretched
# letters in normalise() change nothing, so both are skipped.
_MAY_BE_HIDDEN = re.compile(f"{_HAS_LEET.pattern}|{_HAS_MARK.pattern}|{_HAS_SPACED.pattern}|(?P<rep>[a-z])(?P=rep)(?P=rep)")


def _may_be_hidden(text: str) -> bool:
    """Speed gate: could one of _undo_hiding's steps (or a run of three letters) apply? Tested against the full
    path in tests/test_screening_equivalence.py."""
    return _MAY_BE_HIDDEN.search(text) is not None


# --- a child with an adult partner ("im 14 and my boyfriend is 22", "a 30 year old man messages me ... im 13") ------
_PARTNER = (r"(?:boyfriend|girlfriend|partner|fella|bloke|man|guy|lad|woman|"
            r"chlopak|dziewczyna|facet|mezczyzna|prietenul|iubitul|prietena|iubita|barbat|baiat)")
_ADULT_AGE = re.compile(
    r"\b(?:" + _PARTNER + r"s?(?: who| that| meu| mea)?(?: is| s| was| ma| are| has| aged| of| de)? (?P<a>1[89]|[2-9][0-9])(?! "
    r"(?:minutes|hours|days|weeks|months|times|quid|pounds|p|miles|percent))|(?P<b>1[89]|[2-9][0-9]) ?(?:year|yr|y)s?"
    r" ?old (?:\w+ )?" + _PARTNER + r"|whos (?P<c>1[89]|[2-9][0-9]))\b")
_CHILD_AGE = re.compile(
    r"\b(?:(?:i am|i was|i m|she is|he is|mam|am|im) (?:only |just |nearly |almost )?(?P<a>[5-9]|1[0-7])(?! (?:minutes|"
    r"hours|days|weeks|months|times|quid|pounds|p|miles|percent|sisters?|brothers?|kids|children))(?: (?:lat|ani|years?"
    r" old|yrs?|yo))?|(?P<b>[5-9]|1[0-7]) ?(?:year|yr|y)s? ?old (?:girl|boy|daughter|son|child|kid|me|and i|on my|in my))"
    r"\b")


_ASCII_DIGIT = re.compile(r"[0-9]")


def _may_hold_age(norm: str) -> bool:
    """Speed gate: both age expressions need a digit 0-9 (once any(str.isdigit()), a Python loop per character).
    tests/test_screening_equivalence.py compares the results with and without it."""
    return _ASCII_DIGIT.search(norm) is not None


def _age_gap(norm: str) -> str | None:
    """The words giving a child's age and an adult partner's, when a child (under 16, or 16-17 with a partner five or
    more years older) names an adult partner or an adult who takes a romantic or sexual interest."""
    if not _may_hold_age(norm):
        return None
    adult = _ADULT_AGE.search(norm)
    child = _CHILD_AGE.search(norm)
    if not adult or not child:
        return None
    older = int(next(v for v in adult.groupdict().values() if v))
    younger = int(next(v for v in child.groupdict().values() if v))
    if younger < 16 or older - younger >= 5:
        return f"{child.group(0)} … {adult.group(0)}" if child.start() < adult.start() else \
            f"{adult.group(0)} … {child.group(0)}"
    return None


def normalise(text: str) -> str:
    """Lower-cased words separated by single spaces, text-speak expanded, sentences separated by " | "."""
    # Each rewrite runs only when a cheap test says it could apply: this runs on every answer of an import.
    text = _visible(text.lower().translate(_DROP_APOSTROPHES))
    if _may_be_hidden(text):
        text = _REPEATS.sub(r"\1\1", _undo_hiding(text))
    if any(tail in text for tail in _JOIN_TAILS):
        text = _JOINED.sub(lambda m: m.group(1) + m.group(2), text)
    if " own" in text:
        text = _THEIR_OWN.sub("on their own", _OUR_OWN.sub("on our own", text))
    if "r " in text:
        text = _R_OUR.sub("our", text)
    if "2" in text or "4" in text:
        text = _DIGIT_WORD.sub(lambda m: "to" if m.group(0) == "2" else "for", text)
    get = _REPAIRS.get
    words = ["|" if token[0] in _BOUNDARY else get(token, token) for token in _TOKEN.findall(text)]
    return " ".join(w for w in words if w)


# --- harm concepts -------------------------------------------------------------------------------------------------
# Each entry: (category, pattern, strength). "self" patterns already contain the personal reference (e.g. "kill
# myself", "touched me") and are disclosures on their own unless framed generically; "event" patterns describe
# something happening and need a personal/specific reference or the absence of generic markers; "topic" patterns are
# the words of the topic itself (abuse, neglect, self harm) and need a personal reference close by.

_ME = r"(?:me|us|my|our|him|her|them)"

_HARM: list[tuple[str, str, str]] = [
    # physical
    ("thrown_out", r"(?:kick\w*|thr[eo]w\w*|chuck\w*|lock\w*|put|told) (?:me|us|him|her) out", "self"),
    ("physical", r"(?:hit|hits|hitz|hitting|slap\w*|smack\w*|punch\w*|kick\w*|beat|beats|beating|beaten|batter\w*|"
                 r"whack\w*|thump\w*|pinch\w*|strangl\w*|chok\w*|hurt\w*|push|pushes|pushed|pushing|shov\w*|"
                 r"burnt|burned|burns|belt\w*|bit|bites|bitten|scratch\w*|stab\w*|spits? on|slams?) "
                 r"(?:me|us|my|our|him|her)", "self"),
    ("physical", r"(?:throws?|threw|throwing) (?:\w+ ){0,2}at (?:me|us|him|her)|(?:pulls?|pulled|drags?|dragged) "
                 r"(?:me|us|him|her|my)", "self"),
    ("physical", r"(?:i|we|he|she|they) (?:am|was|were|is|are|get|gets|got|been|getting|have been|has been) "
                 r"(?:hit|beat|beaten|battered|punched|kicked(?! out)|slapped|smacked|hurt|bruised|strangled|choked|"
                 r"burnt|burned|pushed|thrown(?! out)|whacked|thumped)", "self"),
    ("physical", r"(?:hit|hits|hitting|(?<!making )(?<!make )(?<!drop )beats|beating|beaten|batters|battered|punched|punches|kicks|slaps|slapped|"
                 r"smacks|smacked|hurts|hurt|hurting|bruises|bruised|black eye|marks on|belt|strangled|choked|burnt"
                 r"|violent|violence|physical abuse|pushed|whacked)", "event"),
    # sexual
    ("sexual", r"(?:touch|touches|touched|touching|feels|felt|grabs|grabbed|fiddles with|rubs) (?:me|us|her|him|my)",
     "self"),
    ("sexual", r"(?:i|she|he) (?:was|am|is|got|been|have been|has been) (?:raped|touched|abused|molested|sexually "
               r"assaulted|assaulted|groomed)", "self"),
    ("sexual", r"(?:raped|rape|raping|molest\w*|sexual\w*|sex|nudes?|porn\w*|privates|private parts|inappropriate\w*"
               r"|touches|touched|touching|comes in my room|in my bed|our secret|pictures of my body|pics of)", "event"),
    ("sexual", r"(?:abused|abuses|abusing|abuse)", "topic"),
    ("sexual", r"(?:abus\w*|molest\w*|rap(?:e|es|ed|ing)|groom\w*|assault\w*) (?:me|us|her|him)|"
               r"(?:do|does|did|done|doing|tried|try) (?:\w+ )?(?:stuff|things|something|sexual things|bad things|it)"
               r" (?:to|with) (?:me|us|her|him)|(?:sends?|sending|sent|asks?|asking|asked|wants?|showed|shows?) "
               r"(?:me|us|her|him) (?:\w+ ){0,3}(?:pics|pictures|photos|nudes|videos|privates|willy|penis|body)",
     "self"),
    ("sexual", r"(?:makes?|made|making|forces?|forced|gets?) (?:me|us|her|him) (?:to )?(?:do (?:things|stuff|it)|"
               r"watch|touch|send|take (?:my|her|his) clothes|kiss|sleep with|have sex)", "self"),
    ("exploitation", r"(?:makes?|made|making|forces?|forced) (?:me|us|her|him) (?:to )?(?:go|carry|sell|run|hold|"
                     r"deliver|steal|move|take|bring|drop|keep|hide|stash|answer|work|beg|clean|graft|pick|serve|wash)",
     "self"),
    # left alone
    ("left_alone", r"(?:leaves?|left|leaving) (?:me|us|my|our|him|her|them)\b(?: \w+){0,5} "
                   r"(?:alone|on (?:my|our|his|her|their) own|by (?:my|our|him|her|them)sel\w*|with nobody|with no one)",
     "self"),
    ("left_alone", r"(?:alone|on (?:my|our|his|her|their|there) own|by (?:my|our|him|her|them)sel\w*|home alone|"
                   r"nobody (?:is |was )?(?:in|home|there|picks)|no one (?:is |was )?(?:in|home|there|picks)"
                   r"|no one home|nobody home|never (?:in|home|there|comes home|come home|back)|do not come (?:home|back)"
                   r"|does not come (?:home|back)|locks? (?:me|us) in|left (?:me|us) in|look after my (?:little |baby |"
                   r"younger )?(?:brothers?|sisters?|siblings)|leaves? (?:me|us)|left (?:me|us)|"
                   r"go(?:es)? (?:out|away) and leaves?|for days|till morning|all night)", "event"),
    # no food, heating, basic care
    ("no_food_heating", r"(?:hungry|starving|starve|starved|no food|not (?:got |have |had )?(?:any |no )?food|"
                        r"nothing to eat|not eaten|have not eaten|never (?:have|got|any) food|"
                        r"no (?:heating|heat|gas|electric|electricity|hot water|money for food|dinner|tea|breakfast|"
                        r"beds?|clean clothes)|not (?:got |have )?(?:any )?(?:heating|electric|gas|beds?)|freezing|"
                        r"cold house|house is cold|(?:do not|does not|never|not) (?:feed|feeds|cook|cooks|buy food)|"
                        r"feed (?:us|me)|only eat at school|eat out of the bin|eats out of the bin|sleep on the floor|"
                        r"same clothes|nothing in the fridge|no food in the fridge|food in (?:the|our) (?:fridge|house)|"
                        r"not (?:washed|clean)|dirty|sleep in (?:our|my) coats)", "event"),
    # scared at home
    ("scared_home", r"(?:scared|afraid|frightened|terrified|fear|fearful|frighten|scary|not safe|unsafe|do not feel safe"
                    r"|hide|hiding) (?:\w+ ){0,3}(?:go(?:ing)? home|get home|go back|home|at home|in my house|of my|of "
                    r"(?:him|her|them)|when i get)", "alarm"),
    ("scared_home", r"(?:i am|im|i|am) (?:so |really |very )?(?:scared|afraid|frightened|terrified|not safe|unsafe)",
     "self"),
    ("scared_home", r"(?:home|house) (?:is|it is|its) (?:so |really |very )?(?:scary|not safe|horrible|hell)|"
                    r"at home (?:\w+ ){0,2}(?:scary|not safe)", "event"),
    ("scared_home", r"(?:my |our )?(?:home|house) (?:is|it is|its) (?:like )?(?:a )?(?:war ?zone|nightmare|prison|living hell)",
     "self"),
    ("scared_home", r"(?:do not|dont|never) (?:want|wanna) (?:to )?go (?:back )?home", "event"),
    ("scared_home", r"(?:dad|mum|step dad|boyfriend|he|she) (?:hits|beats|hurts|batters) (?:my )?(?:mum|dad|mom|"
                    r"sister|brother)", "self"),
    ("scared_home", r"(?:fight|fights|fighting|shouts|shouting|screams|screaming|arguing|police come|kill me|violence)",
     "event"),
    ("scared_home", r"(?:stay out|sleep at|stay at) (?:\w+ ){0,3}(?:so i|so we|because)", "event"),
    # thrown out
    ("thrown_out", r"(?:kicked|thrown|threw|chucked|locked|put|told) (?:\w+ ){0,2}out|get out and|nowhere to "
                   r"(?:go|sleep|live|stay)|homeless|sleeping (?:rough|in the park|on the street|on (?:my|a) "
                   r"(?:mates|friends) sofa)|sofa surfing|slept rough|sleep rough|sleep outside|not come back|"
                   r"no where to (?:go|sleep|live|stay)", "event"),
    # self-harm and suicidal thoughts
    ("self_harm", r"(?:kill|killing|hurt|hurting|hang|hanging|harm|harming|cut|cutting|burn|burning|starve|starving)"
                  r" myself|kill yourself|end (?:it|it all|my life)|ending (?:it|it all|my life)|(?:i|me) (?:\w+ )?(?:want|wish)"
                  r" (?:to )?(?:die|be dead|disappear)|better off (?:without me|dead)|"
                  r"(?:do not|dont) want to (?:be here|live|be alive|wake up)|still alive|no point (?:in )?(?:me )?"
                  r"(?:living|being alive)|took an overdose|(?:i|me) (?:\w+ )?(?:self harm|self harming|overdosed)|"
                  r"jump(?:ing)? off|(?:my|her|his) life (?:to )?end|want it to end|tried to (?:kill|hang)", "self"),
    ("self_harm", r"(?:kill|killing|kills|hurt|hurting|hurts|hang|hanging|harm|harming|harms|cut|cutting|cuts|burn|"
                  r"burning|burns|starve|starving|starves|end) (?:herself|himself|her life|his life)|"
                  r"(?:i|she|he) (?:\w+ ){0,2}(?:cut|cuts|cutting)(?= (?:my|myself|herself|himself|again|sometimes|when|"
                  r"at night)|$)", "self"),
    ("self_harm", r"point (?:in |of )?(?:me )?(?:living|life|being alive|going on|being here|carrying on)|"
                  r"(?:cuts|cutting|cut|harms|harming|hurts|hurting|burns) (?:themselves)|"
                  r"(?:suicid\w*|self harm\w*|overdose\w*|cutting|(?:want|wanting|wish) (?:to )?(?:die|be dead)|depressed|"
                  r"depression)", "event"),
    # exploitation
    ("exploitation", r"(?:sell|selling|sold|carry|carrying|run|running|deliver|delivering|hold|holding|move|moving|"
                     r"drop|dropping) (?:\w+ ){0,3}(?:drugs|stuff|packages?|parcels?|bags?|knife|knives|weapons?|"
                     r"for (?:them|him|some|older|my))|owe (?:them|him|money)|"
                     r"(?:gives?|gave|buys?|bought) (?:me|us|her|him) (?:\w+ ){0,2}(?:money|weed|drugs|vapes?|drink|"
                     r"alcohol|phones?|trainers|presents|gifts)|(?:older|grown) (?:men|man|boys|lads|guys|girls)|"
                     r"boyfriend is (?:1[89]|[2-9][0-9])|met (?:a|an|this) (?:\w+ )?(?:man|guy|person|boy) online|"
                     r"not tell my (?:mum|dad|parents)|threaten\w*|groom\w*|pick (?:me|us) up in cars?|"
                     r"(?:go|goes|going) to (?:his|their) (?:flat|house)|(?:meet|meeting) (?:him|them|up|me)|"
                     r"keep (?:it|this) (?:a )?secret|not to tell|(?:do not|dont) tell (?:anyone|my|nobody)|"
                     r"our (?:little )?secret", "event"),
    ("exploitation", r"county lines|criminal exploitation|sexual exploitation|exploitation|exploited", "topic"),
    # a parent who cannot cope
    ("parent_cannot_cope", r"(?:can not|cant|not|struggling to|unable to) (?:cope|coping|look after|afford food|feed)|"
                           r"not coping|breaking point|(?:always|is|gets|got|always is|always gets|off) "
                           r"(?:drunk|high|stoned|wasted|off (?:his|her) head)|off (?:his|her) head|"
                           r"(?:drinks|drinking|smokes weed|takes drugs|on drugs|uses drugs|doing drugs) "
                           r"(?:\w+ ){0,2}(?:every day|all day|all the time|every night|and|so|too)|"
                           r"(?:takes|on|uses|doing) drugs|drinks every|drunk every|too depressed|"
                           r"(?:sleeps|cries|in bed) all day|does not get up|(?:is|always) (?:ill|poorly|sick|depressed)"
                           r"|look after my (?:mum|dad|mom)|forgets to feed|(?:too|so) (?:ill|poorly|sick|depressed|drunk|tired|high|"
                           r"stoned|sad) (?:to|that)|to look after (?:us|me)", "event"),
    # emotional abuse
    ("emotional", r"(?:hates|hate) me|calls? me (?:a |an )?(?:\w+ )?(?:names|stupid|fat|ugly|worthless|useless|idiot|pig|cow|bitch|slag|retard|mistake|waste|freak|loser)|(?:says|said|tells|told)"
                  r" (?:me )?(?:i am|im|i was) (?:stupid|worthless|useless|a mistake)|wish(?:es)? i was never born|"
                  r"nobody (?:cares|loves) (?:about )?(?:me|us)|no one (?:cares|loves) (?:about )?(?:me|us)",
     "self"),
]

# The wide net: broader concept words that, near a personal reference, are worth a lead's minute. Written from how
# young people describe these things ("lashes out at me", "pack my bags", "not wake up", "off her face").
_LACK = r"(?:no|not|never|nothing|only|without|any|can not afford|cannot afford|can not pay|go without|going without|skip|"  \
        r"miss|steal|stole|stealing|none|hardly|barely)"
_NEED = r"(?:food|fed|feed|feeds|meals?|eat|eats|eaten|eating|dinner|lunch|breakfast|tea|hungry|electric|electricity|"  \
        r"heating|heat|gas|meter|hot water|wash|washed|bath|shower|clean|clothes|shoes|coat|bed|beds|money for)"
_WIDE: list[tuple[str, str, str]] = [
    ("physical", r"lash\w* out|lays? into|laid into|goes for (?:me|us)|went for (?:me|us)|attack\w*|knock\w*|"
                 r"grab\w*|dragg?\w*|throat|round the head|(?:broke|broken) my|bleed\w*|blood|injur\w*|slipper|"
                 r"wooden spoon|hands on|(?:gets|got|is|goes) (?:really )?(?:angry|violent|aggressive|nasty)|"
                 r"scars?|marks?|bruis\w*|hide my", "event"),
    ("sexual", r"(?:comes?|came|walks?|walked) (?:in|into) (?:\w+ ){0,2}(?:bathroom|bedroom|room|shower|bath)|"
               r"shower|bathroom|naked|undress\w*|kiss\w*|strok\w*|private\w*|sleep with|sex\w*|nudes?|creepy|"
               r"weird (?:things|stuff)|uncomfortable|forced|force[sd]? (?:me|us|her|him)|does stuff|did stuff|"
               r"done stuff|do stuff", "event"),
    ("left_alone", r"(?:mum|dad|she|he|they|parents|mom|nan|step dad|step mum) (?:is|are|was|were|goes|go|went|"
                   r"stays|stayed) (?:\w+ )?(?:out|away|at the pub|down the pub|clubbing|partying)"
                   r"|put (?:\w+ ){0,3}to bed|babysit\w*|look after|looking after|empty house|by myself|on my own|"
                   r"get myself|make my own (?:tea|dinner|food|breakfast|lunch|meals?)|nobody (?:is |was )?(?:ever |never )?(?:at home|"
                   r"home|in|there|around|looks after|cares|feeds|notices)|no one (?:is |was )?(?:ever |never )?(?:at home|home|in|there|"
                   r"around|looks after|cares|feeds|notices)|till late|all night|comes? (?:home|back) late", "event"),
    ("no_food_heating", _LACK + r" (?:\w+ ){0,4}" + _NEED + r"|" + _NEED + r" (?:\w+ ){0,4}" + _LACK +
     r"|sit in the dark|in the dark|cold|freezing|smell\w*|nits|mould\w*|damp|rats|mice|filthy|dirty", "event"),
    ("scared_home", r"scared|afraid|frightened|terrified|fear\w*|unsafe|not safe|(?:not|never) feel safe|hide|hiding|"
                    r"nervous|panic\w*|dread\w*|shak\w*", "event"),
    ("thrown_out", r"pack (?:my|our|his|her) (?:bags|stuff|things)|(?:want|wants|wanted) (?:me|us|him|her) "
                   r"(?:there|anymore|any more|no more|home|gone|out)|(?:do not|does not|did not) want (?:me|us)|"
                   r"told (?:me|us|him|her) to (?:go|leave|get out|get lost|pack)|staying (?:at|with) (?:my|a) "
                   r"(?:mates|friends|mate|friend)|sofa|hostel|on the streets?|"
                   r"nowhere(?! (?:safe |good |decent |nice )?(?:to |for (?:us|kids|children|young people) to )?"
                   r"(?:hang|play|chill|meet|go out|socialise|skate|sit|ride))", "event"),
    ("self_harm", r"not wake up|never wake up|sleep forever|(?:not )?worth living|pills|tablets|overdose\w*|blades?|"
                  r"razors?|die|dying|dead|kill\w*|hang(?!\w* (?:out|around|about|on))\w*|bridge|train tracks|give up|giving up|no point|disappear|"
                  r"not be here|burden|numb|hate myself|hurt myself|harm myself|scars|cutting (?:my|myself|again)|suicid\w*|"
                  r"self harm\w*", "event"),
    ("exploitation", r"do jobs|jobs for|work for (?:him|them|some)|(?:got|get|given) (?:a )?(?:new )?phone (?:from|off)|"
                     r"(?:gave|give|gives|bought|buys) (?:me|us|her|him) (?:a )?(?:new )?phone|owe\w*|debt|(?:come|go|going|went) (?:round )?to (?:his|their|a) (?:house|flat|"
                     r"place|car)|meet up|met (?:\w+ )?(?:on|online)|snap\w*|insta\w*|tiktok|discord|online|"
                     r"drives? (?:me|us) (?:around|about)|trap house|deal\w*|drugs|weed|bags? to|older (?:boys|men|lads"
                     r"|guys|man|boy)|secret|(?:do not|dont) tell", "event"),
    ("parent_cannot_cope", r"off (?:his|her|their) (?:face|head|tits|nut)|bottles|drunk|drink\w*|drugs|"
                           r"passed out|asleep (?:all day|on the sofa)|can not do this|can not cope|not coping|"
                           r"not managing|going without|struggl\w*|breakdown|depress\w*|cry|cries|crying|"
                           r"in bed all day|does not get up|too ill|mental health", "event"),
]
_WIDE += [
    ("physical", r"(?:leather\w*|twat\w*|lamp(?:s|ed)?|deck(?:s|ed)?|clobber\w*|wallop\w*|thrash\w*|belted|"
                 r"knocks|knocked|bash\w*|slapt|smakd|smackt|kickt) (?:me|us|him|her|my)|"
                 r"(?:gives?|gave|giving) (?:me|us|him|her) a (?:good )?(?:hiding|beating|slap|smack|kicking)|"
                 r"beats? the (?:crap|hell|shit|life) out of", "self"),
    ("self_harm", r"goodbye (?:letters?|notes?|messages?)|suicide notes?|say(?:ing)? goodbye to every\w*|"
                  r"giv(?:e|en|ing) (?:away )?(?:all )?my (?:stuff|things) away|(?:will not|wont|not going to) be "
                  r"(?:around|here) (?:much )?longer", "event"),
    ("sexual", r"(?:get|gets|got|getting|come|comes|came|coming|climb\w*) in(?:to)? (?:the |my |our )?(?:bath|shower|bed)"
               r" with (?:me|us|her|him)|(?:get|gets|got|getting|come|comes|came|coming|climb\w*|creep\w*|crept) "
               r"in(?:to)? (?:my|her|his) (?:bed|bedroom|room)|(?:sleeps?|slept|sleeping|lies|lay|lying) in (?:my|her|his) bed",
     "self"),
    ("no_food_heating", r"coats? (?:to|in) bed|sleep in (?:my|our|a) coats?|sold (?:the|our|my) (?:fridge|cooker|beds?|"
                        r"heater|washing machine|tv|cot)|candles|(?:electric|gas|power|heating|water) (?:is|was|got|has "
                        r"been) (?:off|cut off)|only (?:have|got|eat) (?:bread|cereal|crisps|noodles|toast)|"
                        r"(?:no|nothing but|only) (?:bread|cereal|crisps|noodles|toast) (?:in|for)", "event"),
    ("thrown_out", r"(?:living|sleeping|slept|sleep|live|lived|stay|staying|stayed) (?:in|on|at|under) (?:a|the|my|some)"
                   r" (?:\w+ )?(?:tent|car|van|park|stairwell|street|streets|garage|shed|bus station|doorway|hostel|"
                   r"bridge|bench)", "event"),
    ("self_harm", r"(?:ending|end|finish|finishing) (?:everything|it all|things)|take my (?:own )?life|"
                  r"(?:thinking|think|thought) about (?:dying|death|ending|not being here)", "event"),
    ("exploitation", r"(?:going|go|went|gone|keep going) missing", "event"),
    ("left_alone", r"no (?:adult|adults|grown up|grown ups|grownups|parent|parents|one older) (?:in|at|around)",
     "event"),
    ("thrown_out", r"not allowed (?:home|back home|back in|in the house|to go home|to come home)|"
                   r"(?:sleeping|staying|stopping) (?:at|round) (?:different|other|random) (?:mates|friends|peoples)",
     "event"),
    ("no_food_heating", r"choos\w* between (?:heating|heat|food|eating|electric|gas)|heat or eat|(?:heating|heat) or "
                        r"(?:food|eating)|(?:food|eating) or (?:heating|heat)|rott\w* teeth|teeth (?:are )?rott\w*|"
                        r"never (?:been|taken) to (?:the |a )?(?:dentist|doctor|gp)|nits|head lice|smell\w* of wee|"
                        r"no (?:shoes|coat|uniform)", "event"),
    ("physical", r"thr[eo]w\w* (?:me|us|him|her) (?:against|at|down|across|into|on|off)", "self"),
    ("thrown_out", r"(?:i|we|he|she) (?:have|had|has|got) to (?:leave|go|get out|move out)(?: and| now| home|$)|"
                   r"(?:living|sleeping|slept|sleep|live|lived|stay|staying|stayed) (?:in|on|at|under) (?:a|the|my|some)"
                   r" (?:tent|car|park|stairwell|street|streets|garage|shed|bus station|doorway|hostel|bridge|bench)",
     "event"),
    ("self_harm", r"(?:not|stop|stopped) (?:being|be) alive|stop existing|not exist\w*|(?:if|when) i (?:was|were|am)"
                  r"(?: not| nt)? (?:gone|dead|not here|not around)|(?:better|happier) (?:off )?(?:if i|without me)|"
                  r"(?:i|me) (?:was|were) (?:gone|dead)", "event"),
    ("exploitation", r"(?:i|we|he|she) (?:have|had|has|got) to (?:go|carry|stay|deliver|hold|sell|run|drop|take|do)|"
                     r"other (?:cities|towns|places)|out of town|(?:gives?|gave|buys?|bought) (?:me|us|her|him) "
                     r"(?:\w+ ){0,2}(?:vodka|cider|beer|booze|fags|cigarettes|pills|coke|cash|alcohol|drink)|"
                     r"takes? (?:me|us|her|him) to (?:parties|his|their|flats|houses)", "event"),
    ("parent_cannot_cope", r"alcoholics?|addict\w*|(?:i am|i was) (?:a |the )?(?:young )?carer for (?:my|our)|"
                           r"forgets? to (?:feed|cook|pick|collect|buy food|get food)|too many (?:tablets|pills|drinks)|(?:sleeps|sleeping|asleep|in bed|"
                           r"on the sofa|lies in bed) all day|forgets? (?:we|us|me|about (?:us|me))", "event"),
    ("scared_home", r"lock (?:the|my) (?:door|room)|go (?:in|to) my room and|barricade\w*", "event"),
    ("left_alone", r"(?:i|we) (?:have|had|has|got) to (?:look after|feed|make|put|get|take care)", "event"),
]
# Exploitation and grooming (issue 8): work for no pay, being sent or made to carry and sell, favours owed for gifts,
# being asked for pictures, adults collecting children in cars. Written from how these are commonly described.
_HARM += [
    ("exploitation", r"(?:i am|i was|we are|we were|he is|she is|i get|i got|we get) (?:made|forced) to (?:work|clean|"
                     r"beg|graft|pick|serve|wash|sell|cook)|(?:not|never|do not|does not|did not|will not) (?:\w+ )?"
                     r"(?:pay|pays|paid) (?:me|us|him|her)|(?:never|not|do not|did not|does not) (?:get|got|getting|"
                     r"gets) (?:paid|any money|money for it|wages)|(?:keep|keeps|kept|took|takes|taken|have|has) "
                     r"(?:my|our|his|her) passports?", "self"),
    ("exploitation", r"(?:work|works|working|worked|clean|cleans|cleaning|graft\w*|slave|slaving) (?:\w+ ){0,7}"
                     r"(?:for (?:no money|nothing|free|no pay)|without (?:pay|money|being paid|wages)|unpaid|no wages)|"
                     r"(?:have|has|had|got) to (?:work|clean|beg|graft|cook|serve) (?:\w+ ){0,5}(?:instead of|not) "
                     r"(?:going to |go to |being at |at )?school|(?:sent|send|sends|sending) (?:me|us|him|her|them)? ?"
                     r"(?:out )?(?:to )?beg\w*", "event"),
    ("exploitation", r"(?:sent|send|sends|sending|took|takes) (?:me|us|him|her) (?:\w+ ){0,8}to (?:sell|deal|shot|graft|"
                     r"trap)|(?:take|took|taking|takes|bring|brought|drop|dropped|dropping) (?:a|the|these|this|their|"
                     r"his|some) (?:bags?|parcels?|packages?|packs?|boxes) (?:to|for|up|down|round|on|across)|"
                     r"(?:flat|house|town|city|trap) (?:\w+ ){0,4}to (?:sell|deal|shot)|(?:paid|pay|pays|paying|given|"
                     r"get|got|gets) (?:\w+ ){0,2}(?:weed|drugs|cash|money|[0-9]+) (?:\w+ )?to (?:run|take|carry|hold|"
                     r"drop|sell|deliver|move)", "event"),
    ("exploitation", r"(?:want|wants|wanted|expect\w*|ask\w* for|owe|owes|owed) (?:\w+ ){0,2}favou?rs?|favou?rs? "
                     r"(?:back|in return)|in return for", "event"),
    ("exploitation", r"(?:asks?|asking|asked|keeps asking|begs|begging|wants?|wanted|pressur\w*|told|tells) (?:me|us|her|"
                     r"him) (?:\w+ ){0,2}(?:for|to send|to take|send) (?:\w+ ){0,3}(?:pics|pictures|photos|nudes|"
                     r"videos?|selfies|snaps)|or (?:he|she|they) will (?:show|send|post|share|leak)|(?:show|send|post|"
                     r"share|leak) (?:\w+ )?(?:my|our) (?:pics|pictures|photos|nudes|videos?) to", "self"),
    ("exploitation", r"(?:asks?|asking|asked|keeps asking|begs|begging|pressur\w*) (?:\w+ ){0,1}(?:for|to send) "
                     r"(?:\w+ ){0,2}(?:pics|pictures|photos|nudes|videos?|selfies)", "event"),
    ("exploitation", r"(?:picked|collected|picks|pick|picking) (?:me |us |him |her |them )?up (?:\w+ ){0,2}(?:in|by) "
                     r"(?:\w+ )?(?:different|random|older|strange|unknown) (?:cars|men|adults|lads|people|vans|drivers)",
     "self"),
    ("self_harm", r"(?:took|take|taken|swallowed|swallow) (?:\w+ ){0,3}(?:pills|tablets|paracetamol|painkillers)", "event"),
]
_CORE_COUNT = len(_HARM)  # expressions before the wider nets: a match near a personal reference is strong evidence
_HARM = _HARM + _WIDE

# The widest net: words of the topic that, in a sentence that is about the speaker or a specific person and has no
# generic marker at all, are enough to ask a lead to look ("my trainers have holes", "mum is on heroin").
_CONCERN_WORDS = (
    r"lip|eye|nose|arm|arms|leg|legs|neck|face|head|wrist|wrists|blood|bleed\w*|bruise\w*|mark|marks|scar\w*|"
    r"a and e|injur\w*|pain|painful|sore|limp\w*|broken|broke|swollen|burn\w*|hurt\w*|hit\w*|beat\w*|"
    r"pressur\w*|photos?|pics?|pictures?|videos?|camera|webcam|snapchat|message\w*|dm|dms|naked|nude\w*|clothes off|"
    r"bedroom|bathroom|shower|toilet|secret\w*|promise|tell anyone|tell no one|tell nobody|"
    r"nothing (?:at home|in|to eat)|none|ran out|run out|empty|holes?|too small|hand me downs|laughed at|smell\w*|stink\w*|dirty|nits|lice|"
    r"hungry|starv\w*|not fed|not eaten|skint|debt|no money|"
    r"no electric\w*|no gas|no heating|cold|freez\w*|damp|mould\w*|rats?|mice|cockroach\w*|on the floor|mattress|"
    r"alone|lonely|nobody (?:cares|loves|wants)|no one (?:cares|loves|wants)|by myself|on my own|left|leave\w*|"
    r"leaving|gone|away|out all|late|dark|"
    r"scared|scary|afraid|fright\w*|terrif\w*|fear\w*|unsafe|not safe|jumpy|every time the door|nervous|panic\w*|mood|moods|temper|"
    r"angry|anger|rage|mad|shout\w*|scream\w*|yell\w*|swear\w*|fight\w*|argu\w*|police|social worker|"
    r"welcome|kicked|thrown|chucked|locked|locks|homeless|sofa|street|streets|tent|hostel|nowhere|sleep\w*|slept|"
    r"die|dying|dead|kill\w*|suicid\w*|overdose\w*|pills|tablets|blade\w*|razor\w*|noose|rope|end it|"
    r"worthless|useless|hate me|hates me|burden|give up|gave up|disappear|numb|empty inside|"
    r"drugs?|weed|heroin|cocaine|coke|crack|spice|ketamine|ket|pills|meth|needles?|smack head|druggie|junkie|"
    r"drunk|drink\w*|alcohol\w*|booze|vodka|cider|wine|beer|cans|bottles?|hungover|pub|"
    r"gang\w*|county|lines|run|runs|running|deliver\w*|package\w*|parcel\w*|owe\w*|threat\w*|knife|knives|weapon\w*|"
    r"older (?:man|men|lads|guys|boys|girls)|grown (?:man|men)|stranger|groom\w*|"
    r"cope|coping|struggl\w*|depress\w*|ill|poorly|sick|cry|cries|crying|tired|asleep|bed all day|"
    r"abus\w*|neglect\w*|rape\w*|touch\w*|sex\w*|assault\w*|harm\w*|violen\w*|bully\w*|bullied"
)
# A sentence that is plainly about care and comfort is not raised on the widest net alone.
# (Only when the sentence has no negation: "i do not feel safe" is not reassuring.)
_REASSURING = re.compile(r"\b(?:help|helps|helped|helping|love|loves|loved|happy|ok|okay|fine|nice|good|great|fun|"
                         r"makes sure|look after me|looks after me|cooks|support|supports|care about me|cares about me|"
                         r"proud|enjoy|enjoys|like|likes|safe|listen|listens|listened|talk to|club|park|play|playing|"
                         r"football|birthday|holiday|christmas|exams?|homework|grow up|want to be|kind|best|favourite|always there|"
                         r"there for me|music|beats)\b")
_NEGATION = re.compile(r"\b(?:not|never|no|nobody|nothing|without|none|no one|hate|hates)\b")
# What makes a personal statement uneasy rather than merely personal ("my dad is in the army" is not a flag; "my dad
# is never here" may be): negation, compulsion, persistence and distress words.
_UNEASE = re.compile(
    r"\b(?:not|never|no|nobody|nothing|none|without|no one|anymore|any more|no more|hate|hates|have to|has to|"
    r"had to|got to|make me|makes me|made me|making me|told me|tells me|says i|said i|keep|keeps|kept|always|"
    r"every night|every day|all the time|all day|all night|weird|wrong|horrible|awful|bad|worse|worst|sad|upset|"
    r"cry|cries|crying|scared|angry|mad|hurt|hurts|pain|wish|please|help me|tired|sick|ill|afraid|alone|lonely|"
    r"shout\w*|scream\w*|threat\w*|secret|missing|gone|left|leave|leaves|away|out|late|dark|cold|hungry|"
    r"police|prison|jail|trouble|owe|paid|money|worried|worry|stress\w*|struggl\w*|lost|losing|can not|could not|"
    r"do not|does not|did not|will not|would not|wont|dont|nowhere|anyone|someone|somebody|man|men|older|stranger)\b"
)
_NOTHING_TO_SAY = re.compile(r"^(?:~ )?(?:i do not know|not sure|i am not sure|no comment|pass|i do not mind)\b")
_CONCERN = re.compile(r"\b(?:" + _CONCERN_WORDS + r")\b")

_HARM_COMPILED = [(cat, re.compile(r"\b(?:" + pat + r")\b"), strength) for cat, pat, strength in _HARM]

# Speed: trying forty-odd expressions on every sentence costs ~40 us an answer. Each expression is indexed by the
# words it is written with ("anchors"); a sentence is tried only against expressions one of whose anchors it
# contains, found with a few dictionary look-ups per word. The result is the same as trying them all.
_GLUE = frozenset("i me my we us our he she him her his they them their the a an to of in on at and or is am are "
                  "was were be it its so for with up as by".split())
_ANCHOR_EXACT: dict[str, set[int]] = {}
_ANCHOR_PREFIX: dict[str, set[int]] = {}


def _index_anchors() -> None:
    for index, (_, pattern, _) in enumerate(_HARM):
        anchors = 0
        # Words of the expression; letters right after a backslash (\\w, \\b) or a class/group are not words.
        for match in re.finditer(r"(?<![\\a-z\])])([a-z]+)(\\w[*+]|\?|\(|\[)?", pattern):
            word, suffix = match.group(1), match.group(2)
            if word in _GLUE:
                continue
            anchors += 1
            if suffix:  # "slap\w*", "belts?", "strangle[sd]?": a prefix of the word
                stem = word[:-1] if suffix == "?" else word
                _ANCHOR_PREFIX.setdefault(stem, set()).add(index)
            else:
                _ANCHOR_EXACT.setdefault(word, set()).add(index)
        if not anchors:
            raise ValueError(f"harm expression {index} has no anchor words")


_index_anchors()
_REPAIRS = _build_repairs(_KEYWORDS + sorted(w for w in _ANCHOR_EXACT if w.isalpha()))
_SELF_CONTAINED = frozenset(i for i, (_, _, strength) in enumerate(_HARM) if strength == "self")
_PREFIX_LENGTHS = sorted({len(stem) for stem in _ANCHOR_PREFIX})


_WORD_ANCHORS: dict[str, frozenset[int]] = {}  # memo: word -> expressions it anchors (words repeat across answers)


def _anchored_by(word: str) -> frozenset[int]:
    found: set[int] = set(_ANCHOR_EXACT.get(word, ()))
    for length in _PREFIX_LENGTHS:
        if length > len(word):
            break
        found.update(_ANCHOR_PREFIX.get(word[:length], ()))
    if len(_WORD_ANCHORS) > 100_000:  # bound the memo on unusual inputs
        _WORD_ANCHORS.clear()
    result = _WORD_ANCHORS[word] = frozenset(found)
    return result


def _candidates(sentence: str) -> list[int]:
    """Indices into _HARM of the expressions that could match somewhere in `sentence`, in list order."""
    found: set[int] = set()
    memo = _WORD_ANCHORS.get
    for word in set(sentence.split()):
        hit = memo(word)
        if hit is None:
            hit = _anchored_by(word)
        if hit:
            found |= hit
    return sorted(found)


# --- personal/specific vs generic references -----------------------------------------------------------------------

# Opinion and wish frames: first person that is about the speaker's view, not about something that happened to them.
_FRAMES = re.compile(
    r"\b(?:i (?:think|believe|reckon|guess|suppose|feel that|would say|would like|wish there|want there|want more|"
    r"want to see|know that|hope)|in my (?:opinion|view|eyes|experience)|my (?:opinion|view|answer) is|^(?:for|to) me|"
    r"i would|we (?:need|should|could|must|want|would|can)|our (?:community|area|town|city|schools?|estate|borough|"
    r"society|country|neighbourhood|local|youth|council|children|kids|young people|government)|i do not think|"
    r"i am not sure|i agree|i feel like (?:there|kids|children|parents)|my (?:mum|dad|parents|family) "
    r"(?:help|helps|love|loves|support|supports)|help me|"
    # practitioners speak in the first person about their work, not about harm to themselves
    r"(?:i|we) (?:see|saw|have seen|often see|notice|noticed|meet|work with|support|supported|help|run|get|"
    r"deal with|come across|worry about|have|had) (?=(?:a lot of |lots of |many |some |loads of |more |the )?"
    r"(?:children|kids|families|parents|pupils|students|young people|teenagers|mums|dads|carers|clients|referrals|"
    r"cases|people))|"
    r"as an? (?:teacher|social worker|youth worker|support worker|nurse|health visitor|practitioner|volunteer|"
    r"family worker|police officer|officer|parent|mum|dad|carer|foster carer|worker|staff member|governor|"
    r"childminder|school nurse|teaching assistant|ta|senco|head teacher)|in my (?:job|work|role|class|school|"
    r"experience|caseload)|at (?:work|church|the mosque|the food bank|school) we|"
    r"(?:my|our) (?:pupils|students|class|caseload|families|clients|service users|young people) "
    r"(?=(?:are|come|have|who|often|sometimes|get))|i volunteer)\b"
)
_PERSONAL = re.compile(
    r"\b(?:i|me|my|mine|myself|we|us|our|ours|ourselves|he|she|him|her|his|hers|himself|herself|"
    r"next door|this (?:girl|boy|kid|lad|child)|a (?:girl|boy|kid|lad) (?:in|at|from) my|someone i know|"
    r"last night|last week|last year|yesterday|tonight|this morning|right now|at the moment)\b"
)
# Bare "mum", "dad" at the start of a sentence (no article) mean the speaker's own parent.
_KIN_START = re.compile(r"(?:^|\| )(?:(?:mum|dad|step dad|step mum|nan|grandad) |(?:mums|dads) (?:been|is|gone|got|always|"
                        r"never|not|on|off|in|out|new|boyfriend|girlfriend|partner|mate|friend))")
_GENERIC = re.compile(
    r"\b(?:children|child|kids|kid|young people|young person|youngsters|teenagers|teens|babies|baby|people|"
    r"parents|families|family|adults|communities|society|a person|pupils|students|carers|clients|"
    r"(?:mums|dads)(?! (?:been|is|gone|got|always|never|not|on|off|in|out|new|boyfriend|girlfriend|partner|mate))|"
    r"service users|young carers|referrals|cases|"
    r"being|not having|not being|when(?! (?:i|we|my|he|she|me|mum|dad|our))|if(?! (?:i|we|my|he|she|me|mum|dad|our))|"
    r"is neglect|neglect is|neglect|is abuse|can be|could be|should|means|such as|eg|e g|lack of|lots of|"
    r"support for|help for|that are|which are|who are)\b"
)
# Weaker generic words ("they", "you", "someone") only make a sentence generic when it has no first person in it:
# "they make me sell drugs" is about the speaker; "when someone hits you" is not.
_GENERIC_WEAK = re.compile(r"\b(?:their|they|them|your|you|someone|some|who|which|like|houses|homes|schools|areas|"
                           r"everyone|anyone)\b")
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|myself|we|us|our|ourselves)\b")
# Words of a statement about something that is happening (not a label for a topic): "there is", "got", "ever".
_FINITE = re.compile(r"\b(?:is|are|was|were|am|gets|got|comes|came|has|had|have|does|did|ever|always|again|keeps|"
                     r"still|never|every|all the time|been|keep|keeps)\b")
# An answer that starts with "being ...", "living ...", "wearing ..." names a situation rather than telling one.
_GERUND_START = re.compile(
    r"(?:~ )?(?!(?:nothing|something|everything|anything|morning|evening|thing|king|ring|sing|bring|ceiling)\b)"
    r"\w{3,}ing\b")
_WINDOW = 6  # words either side of a harm concept in which a personal reference counts as "near"


def _sentences(norm: str) -> list[str]:
    return [s.strip() for s in norm.split("|") if s.strip()]


def _near(sentence: str, start: int, end: int) -> bool:
    left = sentence[:start].split()[-_WINDOW:]
    right = sentence[end:].split()[:_WINDOW]
    return bool(_PERSONAL.search(" ".join(left + [sentence[start:end]] + right)))


def _reassuring(sentence: str) -> bool:
    """Plainly about care and comfort, with no negation (only asked about personal, non-generic sentences)."""
    return bool(_REASSURING.search(sentence)) and not _NEGATION.search(sentence)


def _judge(sentence: str, defining: bool = False) -> tuple[str, str, str] | None:
    """(category, triggering words, confidence) for the first harm concept in `sentence` that reads as personal or
    specific. Confidence is "high" for a stand-alone expression ("kill myself", "touched me") or a harm concept of the
    main list with a personal reference beside it, "medium" for weaker evidence, "low" for the personal-statement net.

    `defining`: the answer was given to a question asking what something is ("What is neglect?"): a sentence with no
    personal reference at all is then read as a definition (generic); a personal one is judged as always.
    """
    unframed = _FRAMES.sub(" ~ ", sentence)
    personal = bool(_PERSONAL.search(unframed)) or bool(_KIN_START.search(unframed))
    candidates = _candidates(unframed)
    if not candidates and not personal:
        return None  # the common case: nothing harmful named and nobody in particular
    generic = bool(_GENERIC.search(unframed) or _GERUND_START.match(unframed)
                   or (_GENERIC_WEAK.search(unframed) and not _FIRST_PERSON.search(unframed))
                   or (defining and not personal))
    if generic and not personal:
        # A generic sentence about nobody in particular: only expressions that carry their own subject can fire.
        candidates = [index for index in candidates if index in _SELF_CONTAINED]
    for index in candidates:
        category, pattern, strength = _HARM_COMPILED[index]
        match = pattern.search(unframed)
        if not match:
            continue
        words = match.group(0)
        if strength == "self" or (strength == "alarm" and not generic):
            return category, words, "high"
        near = _near(unframed, match.start(), match.end())
        if near and (strength in ("event", "alarm") or not generic):
            return category, words, ("high" if index < _CORE_COUNT and strength != "topic" else "medium")
        if strength == "event" and not generic and (personal or _FINITE.search(unframed)):
            return category, words, "medium"
    if personal and not generic and not _reassuring(sentence):
        match = _CONCERN.search(unframed)
        if match:
            return "concern", match.group(0), "medium"
        # Lowest tier: a personal account that is neither generic nor reassuring. These answers are about neglect
        # and harm, so an unexplained personal statement is worth a lead's look; the lead sees "low confidence".
        if len(sentence.split()) >= 4 and not _NOTHING_TO_SAY.search(sentence) and _UNEASE.search(unframed):
            return "personal", sentence, "low"
    return None


def check(text: str, question_id: str | None = None) -> Disclosure | None:
    """A Disclosure if `text` may be a first-person or specific statement of harm, else None. Never raises.

    `question_id` is the question the answer was given to (e.g. "neglect_is"), or None when unknown.
    """
    if not text or not isinstance(text, str):
        return None
    try:
        return _check(text, question_id)
    except Exception:  # noqa: BLE001 - runs inside every save and import; a person reads what the rules could not
        log.exception("disclosure check failed; the answer is flagged for a person to read")
        return Disclosure("possible disclosure: the automatic check failed on this answer; please read it",
                          "unchecked", "", "low")


# --- other languages -----------------------------------------------------------------------------------------------
# First-person statements of harm in the languages councils serve: Polish, Romanian, Punjabi (Gurmukhi script,
# Shahmukhi script and romanised), Urdu (Urdu script and romanised) and Arabic. Written by the developers from
# general knowledge of how these things are said; THEY NEED A NATIVE SPEAKER'S CHECK (tests/data/
# disclosure_languages.csv carries the examples and says so). Each rule needs a first-person form (an object pronoun
# such as "mnie", "mă", "ਮੈਨੂੰ", "مینوں", "مجھے", a verb ending "-ني", or "I want to die"), so that a sentence about
# children in general ("children should not be beaten") is not raised. Text is matched folded: Polish and Romanian
# without diacritics (people often type without them), Arabic-script letter variants and short vowels unified.
_PL_OBJ = r"(?:mnie|nas|mna|ja)"
_RO_CL = r"(?:ma|m-a|m-au|ne|ne-a|ne-au|o|l-a|il)"
_GU_OBJ = r"(?:ਮੈਨੂੰ|ਸਾਨੂੰ|ਉਹਨੂੰ|ਉਸਨੂੰ)"
_AS_OBJ = r"(?:مجھے|ہمیں|مجھ کو|مینوں|سانوں|اونوں|اوہنوں)"  # Urdu and Shahmukhi: me, us (him/her in Punjabi)
_LA_OBJ = r"(?:mujhe|mujhay|mujhko|mujh ko|hame|hamein|humein|hume|mainu|menu|mennu|mainoo|sanu|saanu|sannu)"
_GAP = r"(?:\S+\s+){0,3}"
_END = r"(?=\s|$|[،۔.!?؟,])"

_OTHER_LANGUAGES: list[tuple[str, str, str]] = [
    # Polish (matched without diacritics; ł as l)
    ("Polish", "physical", r"\b(?:" + _PL_OBJ + r" (?:\w+ ){0,2}(?:bij\w*|bil[aiy]?|pobi\w*|uderz\w*|kop\w*|szarp\w*|"
     r"dusi\w*|popych\w*|popchn\w*|krzywdz\w*|skrzywdz\w*|lej[ae]|lal[ai]?|tlucz\w*|tluk\w*|spoliczk\w*)|(?:bij\w*|"
     r"bil[aiy]?|pobi\w*|uderz\w*|kop\w*|szarp\w*|dusi\w*|popych\w*|krzywdz\w*|skrzywdz\w*|lej[ae]|tlucz\w*|"
     r"spoliczk\w*) (?:\w+ ){0,2}" + _PL_OBJ + r"|rzuca\w* (?:\w+ ){0,2}we? mnie)\b"),
    ("Polish", "sexual", r"\b(?:" + _PL_OBJ + r" (?:\w+ ){0,2}(?:dotyk\w*|molest\w*|zgwalc\w*|gwalc\w*|obmac\w*|rozbier\w*)"
     r"|(?:dotyk\w*|molest\w*|zgwalc\w*|obmac\w*) (?:\w+ ){0,2}" + _PL_OBJ + r"|zmusza\w* (?:mnie|nas) do (?:rzeczy|seksu|"
     r"dotyk\w*|rozbier\w*|ogladania)|zmusil\w* (?:mnie|nas) do (?:rzeczy|seksu|dotyk\w*))\b"),
    ("Polish", "exploitation", r"\b(?:(?:pracuj\w*|pracowac|pracowal\w*|robie|sprzatam) (?:\w+ ){0,5}(?:za darmo|bez "
     r"(?:pieniedzy|zaplaty|wyplaty|kasy))|nie plac(?:i|a) (?:mi|nam)|prosi\w* (?:mnie|nas) o (?:\w+ )?(?:zdjec\w*|nagie|"
     r"fotk\w*|filmik\w*|nagr\w*)|(?:kaze|kazal\w*|zmusza\w*) (?:mi|mnie|nas) (?:do )?(?:sprzeda\w*|nosic|noszenia|"
     r"przewo\w*|pracowac|pracy|krasc|kradziezy)|kazal\w* mi nikomu nie mowic|mam nikomu nie mowic)\b"),
    ("Polish", "left_alone", r"\b(?:(?:zostaje|zostajemy|jestem|siedze|siedzimy|zostawia\w* (?:mnie|nas)) (?:\w+ ){0,2}"
     r"sam[aiey]? (?:w domu|na noc|na cala noc|przez|na weekend|na kilka dni)|zostawia\w* (?:mnie|nas) (?:\w+ ){0,3}"
     r"sam\w*)\b"),
    ("Polish", "no_food_heating", r"\b(?:nie (?:mam|mamy) (?:co|nic do) (?:jesc|zjesc|jedzenia)|nie ma (?:nic )?(?:do )?"
     r"(?:jedzenia|jesc) w domu|w domu nie ma (?:nic )?(?:do )?(?:jedzenia|jesc)|jestem glodn\w*|chodze (?:\w+ ){0,2}"
     r"glodn\w*|nie (?:mamy|ma) (?:ogrzewania|pradu|cieplej wody)|w domu jest (?:bardzo )?zimno)\b"),
    ("Polish", "scared_home", r"\b(?:boj[ea] sie (?:\w+ ){0,2}(?:wracac|isc|wrocic|do domu|ojca|taty|mamy|matki|ojczyma|"
     r"macochy|jego|jej|ich|brata|wujka|w domu)|boimy sie (?:ojca|taty|go|jego|wracac)|nie czuje sie bezpieczn\w* w "
     r"domu)\b"),
    ("Polish", "thrown_out", r"\b(?:wyrzuci\w* (?:mnie|nas)|nie mam gdzie (?:spac|mieszkac|isc|sie podziac)|spie na "
     r"ulicy|mieszkam na ulicy)\b"),
    ("Polish", "self_harm", r"\b(?:chce (?:sie )?(?:zabic|umrzec)|chcial\w* (?:sie )?(?:zabic|umrzec)|nie chce (?:juz )?"
     r"zyc|tne sie|okaleczam sie|samookalecz\w*|mysl\w* o samobojstwie|zabije sie|popelni\w* samobojstwo)\b"),
    ("Polish", "parent_cannot_cope", r"\b(?:(?:mama|tata|ojciec|matka|ojczym|rodzice) (?:\w+ ){0,2}(?:pije|pija|pijan\w*|"
     r"cpa|cpaja|bierze narkotyki|biora narkotyki)|nie zajmuj\w* sie (?:nami|mna)|nie dba\w* o (?:nas|mnie)|nie radzi "
     r"sobie z nami)\b"),
    # Romanian (matched without diacritics: ă â → a, î → i, ș → s, ț → t)
    ("Romanian", "physical", r"(?<![\w-])" + _RO_CL + r" (?:mai )?(?:bate|batea|batut|bat|loveste|lovesc|lovea|lovit|"
     r"plesneste|plesnit|palmuieste|palmuit|impinge|impins|strange de gat|sugruma|sugrumat|arde|ars|raneste|ranit)\b"),
    ("Romanian", "sexual", r"(?<![\w-])(?:" + _RO_CL + r" (?:mai )?(?:atinge|atingea|atins|pipaie|pipait|violat|violeaza|"
     r"abuzeaza|abuzat|saruta|sarutat|dezbraca|dezbracat)|" + _RO_CL + r" (?:obligat|obliga|fortat|forteaza) sa (?:fac|"
     r"facem) (?:\w+ )?(?:lucruri|chestii|sex))\b"),
    ("Romanian", "exploitation", r"\b(?:(?:lucrez|muncesc|lucram|muncim|am lucrat|am muncit) (?:\w+ ){0,5}(?:fara bani|"
     r"fara plata|gratis|pe degeaba|pe gratis|fara sa fiu platit\w*)|nu (?:ma|ne) plateste|nu (?:ma|ne) platesc|(?:imi|ne|"
     r"mi-a|mi a|mi-au) (?:tot )?(?:cere|cer|cerut) (?:\w+ )?(?:poze|fotografii|filmulete|video|videoclipuri)|(?:ma|ne) "
     r"(?:pune|pun|obliga|trimite|trimit) sa (?:vand|vindem|duc|car|cersesc|muncesc)|cersesc|sa nu (?:zic|spun) nimanui)\b"),
    ("Romanian", "left_alone", r"\b(?:(?:raman|stau|sunt|ramanem|stam) (?:\w+ ){0,2}singur\w* (?:acasa|in casa|noaptea|"
     r"zile|toata)|(?:ma|ne) (?:lasa|lasau|lasa mereu) (?:\w+ ){0,2}singur\w*)\b"),
    ("Romanian", "no_food_heating", r"\b(?:(?:nu avem|nu am|n-avem|n-am) (?:\w+ ){0,2}(?:mancare|de mancare|ce sa mancam|"
     r"ce sa mananc|caldura|curent|apa calda)|mi-e foame|mi e foame|mie foame|sunt flamand\w*|(?:ma culc|merg) "
     r"(?:\w+ )?flamand\w*|e frig in casa)\b"),
    ("Romanian", "scared_home", r"\b(?:(?:mi-e|mi e|mie|imi este|imi e) (?:\w+ )?(?:frica|teama) (?:\w+ ){0,2}(?:acasa|sa "
     r"merg|sa ma intorc|de tata|de mama|de el|de ea|de ei|de tatal|de vitreg\w*)|ma tem (?:\w+ ){0,2}(?:acasa|de tata|"
     r"de mama|de el|de ea|de ei|de vitreg\w*|sa merg)|nu ma simt in siguranta acasa)\b"),
    ("Romanian", "thrown_out", r"(?<![\w-])(?:(?:m-a|m-au|ma|ne|ne-au|ne-a) (?:dat|da|dau) afara|(?:n-am|nu am) unde "
     r"sa (?:dorm|stau|merg)|dorm (?:pe strada|in parc|in masina))\b"),
    ("Romanian", "self_harm", r"\b(?:vreau sa mor|vreau sa ma (?:sinucid|omor)|ma gandesc (?:la sinucidere|sa ma omor)|"
     r"nu (?:mai )?vreau sa (?:mai )?traiesc|ma tai(?: pe)?|ma ranesc|imi fac rau|ma omor)\b"),
    ("Romanian", "parent_cannot_cope", r"\b(?:(?:mama|tata|tatal|parintii) (?:\w+ ){0,2}(?:bea|beau|e beat\w*|este beat\w*|"
     r"se drogheaza|ia droguri)|nu (?:are|au) grija de (?:noi|mine)|nu se ocupa de (?:noi|mine))\b"),
    # Punjabi in Gurmukhi
    ("Punjabi (Gurmukhi)", "physical", _GU_OBJ + r"\s+" + _GAP + r"(?:ਮਾਰ(?:ਦਾ|ਦੀ|ਦੇ|ਿਆ|ੀ|ੇ)?|ਕੁੱਟ|ਕੁਟ|ਥੱਪੜ|ਚਪੇੜ|ਧੱਕ)"),
    ("Punjabi (Gurmukhi)", "sexual", _GU_OBJ + r"\s+(?:\S+\s+){0,4}(?:ਛੂ|ਛੋਹ|ਹੱਥ ਲਾ|ਗਲਤ ਤਰੀਕੇ|ਗੰਦੀ|ਗੰਦੇ)|ਬਲਾਤਕਾਰ|ਜਿਨਸੀ ਸ਼ੋਸ਼ਣ"),
    ("Punjabi (Gurmukhi)", "self_harm", r"ਮਰਨਾ ਚਾਹੁੰਦ|ਮਰ ਜਾਣਾ ਚਾਹੁੰਦ|ਜੀਣਾ ਨਹੀਂ ਚਾਹੁੰਦ|ਖੁਦਕੁਸ਼ੀ|ਖ਼ੁਦਕੁਸ਼ੀ|ਆਤਮ ?ਹੱਤਿਆ|"
     r"ਆਪਣੇ ਆਪ ਨੂੰ (?:\S+\s+)?(?:ਨੁਕਸਾਨ|ਮਾਰ|ਕੱਟ)"),
    ("Punjabi (Gurmukhi)", "thrown_out", r"ਘਰੋਂ (?:\S+\s+)?(?:ਕੱਢ|ਬਾਹਰ)|ਘਰ ਤੋਂ (?:\S+\s+)?(?:ਕੱਢ|ਬਾਹਰ ਕੱਢ)|" + _GU_OBJ +
     r"\s+(?:\S+\s+){0,2}ਕੱਢ ਦਿੱਤਾ"),
    ("Punjabi (Gurmukhi)", "left_alone", _GU_OBJ + r"\s+(?:\S+\s+){0,4}(?:ਇਕੱਲਾ|ਇਕੱਲੀ|ਇਕੱਲੇ|ਕੱਲਾ|ਕੱਲੀ)|(?:ਮੈਂ|ਅਸੀਂ)\s+"
     r"(?:\S+\s+){0,3}(?:ਇਕੱਲਾ|ਇਕੱਲੀ|ਇਕੱਲੇ)\s+(?:\S+\s+)?ਰਹਿ"),
    ("Punjabi (Gurmukhi)", "no_food_heating", r"ਖਾਣ ਨੂੰ ਕੁਝ ਨਹੀਂ|ਖਾਣ ਲਈ ਕੁਝ ਨਹੀਂ|" + _GU_OBJ + r"\s+(?:\S+\s+)?ਭੁੱਖ|"
     r"(?:ਭੁੱਖਾ|ਭੁੱਖੀ)\s+(?:\S+\s+)?(?:ਹਾਂ|ਸੌਂ)"),
    ("Punjabi (Gurmukhi)", "scared_home", r"(?:ਘਰ|ਪਿਤਾ|ਪਿਓ|ਡੈਡੀ|ਪਾਪਾ|ਮੰਮੀ|ਮਾਂ|ਚਾਚ|ਭਰਾ|ਉਸ|ਉਹਨਾਂ)\S*\s+(?:\S+\s+){0,3}"
     r"(?:ਤੋਂ|ਕੋਲੋਂ)\s+(?:\S+\s+)?ਡਰ"),
    ("Punjabi (Gurmukhi)", "exploitation", r"(?:ਬਿਨਾਂ|ਬਿਨਾ|ਬਗੈਰ)\s+(?:ਪੈਸ|ਤਨਖਾਹ)\S*\s+(?:\S+\s+){0,2}ਕੰਮ|ਮੁਫ਼ਤ ਕੰਮ|"
     r"(?:ਫੋਟੋ|ਤਸਵੀਰ)\S*\s+(?:\S+\s+)?ਮੰਗ"),
    ("Punjabi (Gurmukhi)", "parent_cannot_cope", r"(?:ਸਾਡਾ|ਮੇਰਾ) ਖਿਆਲ ਨਹੀਂ|(?:ਸ਼ਰਾਬ|ਨਸ਼ਾ|ਨਸ਼ੇ)\s+(?:\S+\s+)?(?:ਪੀਂਦ|ਕਰਦ)"
     r"\S*\s+(?:\S+\s+)?(?:ਰਹਿੰਦ|ਹਰ ਰੋਜ਼|ਸਾਰਾ ਦਿਨ)"),
    # Urdu and Punjabi in Shahmukhi (the same script; many forms are shared)
    ("Urdu or Punjabi (Shahmukhi)", "physical", _AS_OBJ + r"\s+" + _GAP + r"(?:مار(?:تا|تی|تے|دا|دی|دے|ا|ی|ے|یں)?|"
     r"پیٹ(?:تا|تی|تے|دا|دی|دے|ا)?|کٹ(?:دا|دی|دے|تا|تی|تے)|کوٹ(?:تا|تی|تے)|چپیڑ\S*|تھپڑ|دھکا|دھکے)" + _END),
    ("Urdu or Punjabi (Shahmukhi)", "sexual", _AS_OBJ + r"\s+(?:\S+\s+){0,4}(?:چھو|چھوہ|غلط طریقے|غلط جگہ|گندی|گندے|"
     r"ہاتھ لگا)|زیادتی کی|ریپ کیا"),
    ("Urdu or Punjabi (Shahmukhi)", "self_harm", r"مرنا چاہت|مرنا چاہند|مر جانا چاہت|خودکشی|خود کشی|"
     r"(?:خود|اپنے آپ|آپنے آپ) (?:کو|نوں) (?:\S+\s+)?(?:نقصان|مار|کاٹ|زخمی)|جینا (?:نہیں|نئیں) چاہت|"
     r"(?:جینا|جیونا) (?:نہیں|نئیں) چاہند"),
    ("Urdu or Punjabi (Shahmukhi)", "thrown_out", r"گھر سے (?:\S+\s+)?نکال|گھروں (?:\S+\s+)?(?:کڈ|کڈھ|باہر|نکال)|" +
     _AS_OBJ + r"\s+(?:\S+\s+){0,2}(?:نکال دیا|کڈ دتا|کڈھ دتا)"),
    ("Urdu or Punjabi (Shahmukhi)", "left_alone", _AS_OBJ + r"\s+(?:\S+\s+){0,4}(?:اکیلا|اکیلی|اکیلے|کلا|کلی|کلے)" + _END),
    ("Urdu or Punjabi (Shahmukhi)", "no_food_heating", r"کھانے کو کچھ نہیں|کھان نوں کجھ (?:نئیں|نہیں)|" + _AS_OBJ +
     r"\s+(?:\S+\s+)?(?:بھوک|بھکھ)|(?:بھوکا|بھوکی|بھکھا|بھکھی)\s+(?:\S+\s+)?(?:ہوں|ہاں|آں|سوتا|سوتی|سوندا|سوندی)"),
    ("Urdu or Punjabi (Shahmukhi)", "scared_home", r"گھر جانے سے ڈر|(?:گھر|ابو|ابا|والد|باپ|امی|ماں|پیو|چاچ|ماموں|"
     r"بھائی|اس|ان)\S*\s+(?:\S+\s+){0,3}(?:سے|توں|کولوں)\s+(?:\S+\s+){0,2}ڈر"),
    ("Urdu or Punjabi (Shahmukhi)", "exploitation", r"(?:بغیر|بنا|بلا)\s+(?:\S+\s+)?(?:پیسوں|پیسے|پیسیاں|تنخواہ|معاوضہ|"
     r"اجرت)\S*\s+(?:\S+\s+){0,2}(?:کام|کم)" + _END + r"|مفت (?:میں )?کام|(?:تصویریں|تصویر|فوٹو|تصاویر)\s+(?:\S+\s+)?"
     r"مانگ"),
    ("Urdu or Punjabi (Shahmukhi)", "parent_cannot_cope", r"(?:ہمارا|میرا|ساڈا) خیال (?:نہیں|نئیں) رکھ|(?:شراب|نشہ|نشے)\s+"
     r"(?:\S+\s+){0,2}(?:پیت|پیند|کرت|کرد)\S*\s+(?:\S+\s+)?(?:رہت|رہند|ہر وقت|روز)"),
    # Urdu and Punjabi written in Latin letters
    ("Urdu or Punjabi (romanised)", "physical", r"\b" + _LA_OBJ + r" (?:\w+ ){0,3}(?:(?:maar|mar)(?:ta|ti|te|da|di|de|"
     r"a|e|o|ya)?|peet(?:a|ta|te|ti)?|peet te|pitai|kutt?(?:a|da|di|de|ta|te)?|chap(?:air|eda|eir|er)|thapp?ar|dhakk?a)\b"),
    ("Urdu or Punjabi (romanised)", "sexual", r"\b" + _LA_OBJ + r" (?:\w+ ){0,4}(?:chhoo|chhu|choo|chhoon?da|chhon?da|"
     r"chhoota|chhute|chhuta|galat (?:tareeke|tarike|jagah)|gandi|ganda)\w*"),
    ("Urdu or Punjabi (romanised)", "self_harm", r"\b(?:marna chah\w*|mar jana chah\w*|jeena (?:nahi|nahin|nai|ni) "
     r"chah\w*|khud ?kushi|(?:khud|apne aap) (?:ko|nu) (?:\w+ )?(?:nuqsan|nuksan|maar|kaat))"),
    ("Urdu or Punjabi (romanised)", "thrown_out", r"\b(?:ghar (?:se|ton|tu) (?:\w+ )?(?:nikal|nikaal|kadd|kad|kaddh|"
     r"bahar)|gharon (?:\w+ )?(?:kadd|kad|kaddh|bahar|nikal)|" + _LA_OBJ + r" (?:\w+ ){0,2}(?:nikal diya|kadd? dita|"
     r"kadh dita))"),
    ("Urdu or Punjabi (romanised)", "left_alone", r"\b" + _LA_OBJ + r" (?:\w+ ){0,4}(?:akela|akeli|akele|kalla|kalli|"
     r"kalle)\b"),
    ("Urdu or Punjabi (romanised)", "no_food_heating", r"\b(?:(?:khaane|khane|khaan|khan) (?:ko|nu|noo) (?:kuch|kuj|"
     r"kujh) (?:nahi|nahin|nai|ni)|" + _LA_OBJ + r" (?:\w+ )?(?:bhook|bhookh|bhukh|bhuk)|(?:bhooka|bhooki|bhukha|bhukhi) "
     r"(?:\w+ )?(?:hoon|hun|haan|aan|sota|soti))\b"),
    ("Urdu or Punjabi (romanised)", "scared_home", r"\b(?:(?:ghar|abbu|abba|papa|pyo|ammi|mummy)\w* (?:\w+ ){0,3}(?:se|"
     r"ton|tu|toh) (?:\w+ ){0,2}(?:dar|darr|darta|darti|darda|dardi)|" + _LA_OBJ + r" (?:\w+ ){0,3}(?:dar|darr) "
     r"lag(?:ta|da|di|ti))\b"),
    ("Urdu or Punjabi (romanised)", "exploitation", r"\b(?:(?:bina|bagair|baghair|bin) (?:\w+ )?(?:paise|paisay|paiseyan|"
     r"paisian|paisiyan|paison|tankhwah|tankhah)\w* (?:\w+ ){0,3}(?:kam|kaam)|(?:kam|kaam) (?:\w+ ){0,3}(?:bina|bagair) "
     r"(?:paise|paison|paiseyan)|(?:photos?|tasveer\w*|pics|tasvir\w*) (?:\w+ )?maa?ng\w*)\b"),
    # Arabic
    ("Arabic", "physical", r"(?:ي|ت)?(?:ضرب|ركل|صفع|يؤذ|عنف|دفع)(?:ني|وني|ونني|نا)" + _END + r"|ضربوني|يضربونني"),
    ("Arabic", "sexual", r"(?:ي|ت)?(?:لمس|اغتصب|تحرش ب)(?:ني|وني|ي|نا)" + _END + r"|يلمس جسمي|(?:يجبرني|أجبرني|اجبرني) على"),
    ("Arabic", "self_harm", r"[أا]ريد [أا]ن [أا]موت|[أا]قتل نفسي|(?:^|\s)[أا]نتحر|(?:أفكر|افكر|فكرت) (?:في|ب) الانتحار|"
     r"(?:أجرح|اجرح|أؤذي|اؤذي|أذيت|جرحت) نفسي|لا (?:أريد|اريد) (?:أن |ان )?(?:أعيش|اعيش)"),
    ("Arabic", "scared_home", r"خائف(?:ة)? من (?:العودة|الرجوع) (?:إلى|الى) (?:البيت|المنزل)|(?:أخاف|اخاف|خائف|خائفة|خايف|"
     r"خايفة)\s+(?:\S+\s+){0,3}(?:البيت|المنزل|أبي|ابي|أمي|امي|منه|منها|منهم|زوج)"),
    ("Arabic", "thrown_out", r"(?:طردني|طردوني|طردتني|يطردني|طردنا)|(?:ليس لدي|ما عندي) مكان (?:أنام|للنوم|أذهب)"),
    ("Arabic", "left_alone", r"(?:يتركونني|تركوني|يتركني|تتركني|تركني|يتركوننا|تركونا)\s+(?:\S+\s+)?وحد|(?:أبقى|ابقى|"
     r"أظل|نبقى) وحد(?:ي|نا)"),
    ("Arabic", "no_food_heating", r"لا يوجد (?:أكل|اكل|طعام)|ما في (?:أكل|اكل)|ما عندنا (?:أكل|طعام)|ليس لدينا (?:طعام|"
     r"أكل|تدفئة|كهرباء)|(?:أنا|انا) (?:\S+\s+)?(?:جائع|جوعان|جوعانة|جائعة)|أنام جائع"),
    ("Arabic", "exploitation", r"(?:أعمل|اعمل|أشتغل|اشتغل|نعمل)\s+(?:\S+\s+){0,4}(?:بدون|بلا|من غير) (?:أي )?(?:أجر|مال|"
     r"فلوس|مقابل|راتب)|(?:أعمل|اعمل|أشتغل) (?:\S+\s+){0,4}مجانا|(?:يطلب|طلب|يطلبون) مني (?:\S+\s+)?(?:صور|فيديو)"),
    ("Arabic", "parent_cannot_cope", r"لا (?:تستطيع|يستطيع|يقدر|تقدر) (?:\S+\s+)?(?:الاعتناء|العناية|الاهتمام) بنا|"
     r"لا (?:يهتم|تهتم|يهتمون) بنا|(?:أبي|ابي|أمي|امي) (?:\S+\s+)?(?:يشرب|تشرب|سكران|سكرانة|مدمن|مدمنة)"),
]

# Arabic-script letters that vary between keyboards and languages, and short vowels/tatweel, are unified before
# matching (in the rules and in the text alike).
_ARABIC_FOLD = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ه": "ہ", "ة": "ہ", "أ": "ا", "إ": "ا", "آ": "ا",
                              "ٱ": "ا", "ـ": None, **{chr(c): None for c in range(0x064B, 0x0660)}, "\u0670": None})
_LATIN_FOLD = str.maketrans({"ł": "l", "ß": "ss"})


def _fold(text: str) -> str:
    """Text as the language rules read it: NFC, Arabic-script variants unified, Latin letters without diacritics."""
    text = unicodedata.normalize("NFC", text).translate(_ARABIC_FOLD).translate(_LATIN_FOLD)
    if any("\u00c0" <= ch <= "\u024f" for ch in text):  # Latin letters with diacritics (Polish, Romanian)
        text = "".join(ch for ch in unicodedata.normalize("NFD", text) if not "\u0300" <= ch <= "\u036f")
        text = unicodedata.normalize("NFC", text)
    return text


_OTHER_LANGUAGE_RULES = [(language, category, re.compile(_fold(pattern))) for language, category, pattern in
                         _OTHER_LANGUAGES]
# Words that suggest an answer in Latin letters may be Polish, Romanian or romanised Urdu/Punjabi (a cheap gate
# before the rules: most answers are English).
_LATIN_HINTS = frozenset("""mnie nas mna ja nie chce boje jestem mam zostaje pracuje wyrzucil wyrzucila wyrzucili
ma m ne il o vreau nu sunt raman stau lucrez muncesc cere dat singur singura foame frica mi bate loveste lovit atinge
mujhe mujhay mujhko hame hamein humein hume mainu menu mennu mainoo sanu saanu sannu ghar gharon khud marna jeena
bina bagair baghair bhook bhukh akela kalla photo tasveer""".split())
_LATIN_WORD = re.compile(r"[a-z]+")


def _other_language(text: str) -> Disclosure | None:
    lowered = text.lower()
    if lowered.isascii() and not _LATIN_HINTS.intersection(_LATIN_WORD.findall(lowered)):
        return None
    folded = _fold(lowered)
    gap = _age_gap(folded)
    if gap:
        return Disclosure(f"possible disclosure ({CATEGORY_LABELS['exploitation']}, an adult partner of a child): "
                          f"“{gap}”; rules for other languages await a native speaker's check", "exploitation", gap)
    for language, category, rule in _OTHER_LANGUAGE_RULES:
        match = rule.search(folded)
        if match:
            label = CATEGORY_LABELS.get(category, category)
            return Disclosure(f"possible disclosure ({label}, in {language}; rules await a native speaker's check): "
                              f"“{match.group(0)}”", category, match.group(0))
    return None


# Questions that ask what something is: an answer written in general terms there is a definition, not a disclosure.
DEFINING_QUESTIONS = frozenset({"neglect_is"})


def _check(text: str, question_id: str | None = None) -> Disclosure | None:
    found = _other_language(text)
    if found:
        return found
    norm = normalise(text)
    gap = _age_gap(norm)
    if gap:
        return Disclosure(f"possible disclosure ({CATEGORY_LABELS['exploitation']}, an adult partner of a child): "
                          f"“{gap}”", "exploitation", gap)
    defining = question_id in DEFINING_QUESTIONS
    low: tuple[str, str, str] | None = None
    best: tuple[str, str, str] | None = None
    for sentence in _sentences(norm):
        found = _judge(sentence, defining)
        if found and found[0] != "personal":
            if found[2] == "high":
                best = found
                break
            best = best or found
        low = low or found
    if best:
        category, words, confidence = best
        label = CATEGORY_LABELS.get(category, category)
        return Disclosure(f"possible disclosure ({label}): “{words}”", category, words, confidence)
    if low:
        words = low[1] if len(low[1]) <= 80 else low[1][:77] + "..."
        return Disclosure(f"possible disclosure ({CATEGORY_LABELS['personal']}): “{words}”", "personal", words, "low")
    return None


# --- scoring against a labelled set (one scorer for the tests that assert targets and the benchmark) --------------


@dataclass(frozen=True)
class DisclosureScore:
    """How check() did on labelled rows: disclosures caught, general statements flagged, and the strengths given."""

    caught: int
    disclosures: int
    alarms: int
    general: int
    strengths: dict[str, int]  # strength -> caught disclosures given it
    alarm_strengths: dict[str, int]  # strength -> false alarms given it
    strength_agrees: int  # caught disclosures whose strength is the one labelled
    strength_labelled: int  # caught disclosures that carry a labelled strength
    missed: tuple[str, ...]
    false_alarms: tuple[str, ...]

    @property
    def recall(self) -> float:
        return self.caught / self.disclosures if self.disclosures else float("nan")

    @property
    def false_alarm_rate(self) -> float:
        return self.alarms / self.general if self.general else float("nan")


def read_labelled(path: Path) -> list[dict[str, str]]:
    """Rows of a labelled CSV (text, label, category, ...); lines starting with "#" are notes, not rows."""
    import csv

    with Path(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


def score_disclosures(rows: list[dict[str, str]]) -> DisclosureScore:
    """Score check() on rows labelled "disclosure"/"general", passing each row's question_id when it has one."""
    caught = alarms = agrees = labelled = 0
    strengths: dict[str, int] = {}
    alarm_strengths: dict[str, int] = {}
    missed: list[str] = []
    false: list[str] = []
    for row in rows:
        found = check(row["text"], row.get("question_id") or None)
        if row["label"] == "disclosure":
            if not found:
                missed.append(row["text"])
                continue
            caught += 1
            strengths[found.strength] = strengths.get(found.strength, 0) + 1
            if row.get("expected_strength"):
                labelled += 1
                agrees += found.strength == row["expected_strength"]
        elif found:
            alarms += 1
            alarm_strengths[found.strength] = alarm_strengths.get(found.strength, 0) + 1
            false.append(row["text"])
    disclosures = sum(1 for r in rows if r["label"] == "disclosure")
    return DisclosureScore(caught, disclosures, alarms, len(rows) - disclosures, strengths, alarm_strengths, agrees,
                           labelled, tuple(missed), tuple(false))
