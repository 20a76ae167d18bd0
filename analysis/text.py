"""Text processing for short, informal answers: normalise, expand text-speak, correct spelling, tokenise, stem.

Deterministic and offline: the lexicon, stop words and known-word list ship in analysis/resources/.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

RESOURCES = Path(__file__).resolve().parent / "resources"

_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc\u02b9`\u00b4\u2032"})
_QUOTES = str.maketrans({c: '"' for c in "\u201c\u201d\u201e\u00ab\u00bb"})
_REPEATS = re.compile(r"([a-z])\1{2,}")  # "sooooo" -> "soo", "loveeee" -> "lovee"
_APOSTROPHE_RUN = re.compile(r"(?<=[a-z0-9])'(?=[a-z0-9])")
_WORD = r"[^\W_]+(?:&[^\W_]+)*"  # letters and digits of any script; "a&e" stays one word
# the pattern nltk's RegexpTokenizer was given, compiled with `re` (RegexpTokenizer.tokenize is this findall):
# identical tokens, no per-call overhead, and tokenising never imports nltk (nltk imports scipy.stats: seconds,
# paid by the report's quotes)
_FINDALL = re.compile(_WORD).findall


@functools.cache
def _stemmer():
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer("english")


class Word(NamedTuple):
    """One word of an answer after lexicon expansion and spelling correction, with where it came from."""

    text: str  # the normalised word ("alcohol")
    surface: str  # what was typed ("bevvies")
    how: str = ""  # "", "lexicon" or "spelling"


def _read_lines(name: str) -> list[str]:
    path = RESOURCES / name
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


@functools.cache
def stopwords() -> frozenset[str]:
    """The shipped English stop words (analysis/resources/stopwords_en.txt)."""
    return frozenset(_read_lines("stopwords_en.txt"))


@functools.cache
def known_words() -> frozenset[str]:
    """Correct English words that spelling correction must leave alone."""
    return frozenset(_read_lines("lexicon.known_words.txt"))


@functools.cache
def lexicon() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Everyday and young people's words mapped to plain words: ("bevvies",) -> ("bevvies", "alcohol")."""
    entries: dict[tuple[str, ...], tuple[str, ...]] = {}
    with (RESOURCES / "lexicon.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            term = tuple(_FINDALL(fold(row["term"])))
            if term:
                entries[term] = tuple(_FINDALL(fold(row["means"] or "")))
    return entries


@functools.cache
def _lexicon_longest() -> int:
    return max((len(k) for k in lexicon()), default=1)


def plain_words(text: str) -> str:
    """`text` with the lexicon's everyday and young people's words replaced by their plain meaning ("no brekkie b4
    school" -> "no breakfast before school"), for a model that never saw the slang. Text in another script is
    returned as it is (the lexicon is English; folding would drop what the model can still read)."""
    if not text or not text.isascii():
        return text or ""
    words = tokens(text)
    entries, longest = lexicon(), _lexicon_longest()
    out: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            meaning = entries.get(tuple(words[i:i + n]))
            if meaning:
                out.extend(meaning)
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)


def fold(text: str) -> str:
    """Lower-case, unicode-normalise, strip accents, unify quotes, drop apostrophes in words ("don't" -> "dont")."""
    text = unicodedata.normalize("NFKC", text or "").translate(_APOSTROPHES).translate(_QUOTES).lower()
    if not text.isascii():  # "café" -> "cafe": accents are dropped so that either spelling matches
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _APOSTROPHE_RUN.sub("", text)
    return _REPEATS.sub(r"\1\1", text)


def tokens(text: str) -> list[str]:
    """Folded word tokens, before lexicon expansion."""
    return _FINDALL(fold(text))


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of one lower-case word (numbers as they are)."""
    return word if word.isdigit() or len(word) < 3 else _stemmer().stem(word)


def damerau(a: str, b: str, limit: int = 2) -> int:
    """Optimal-string-alignment edit distance (insert, delete, substitute, swap neighbours), capped at limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


class TextProcessor:
    """Turns an answer into words, stemmed terms and n-grams; corrects misspellings towards a vocabulary.

    The vocabulary (codebook words, lexicon meanings, frequent words of coded answers) is what a misspelt
    word may be corrected to; words in the known-word list, the lexicon or the vocabulary are never changed.
    """

    def __init__(self, vocabulary: Iterable[str] = ()):
        self._lexicon = lexicon()
        self._max_term = max((len(k) for k in self._lexicon), default=1)
        self._phrase_starts = {k[0] for k in self._lexicon if len(k) > 1}
        self._stop = stopwords()
        self._known: set[str] = set(known_words()) | self._stop | {w for k in self._lexicon for w in k}
        self._targets: set[str] = set()
        self._index: dict[str, set[str]] = {}
        self._corrections: dict[str, str | None] = {}
        self._words_cache: dict[str, tuple[Word, ...]] = {}
        self._token_cache: dict[str, tuple[Word, ...]] = {}
        meanings = {w for v in self._lexicon.values() for w in v if len(w) >= 4 and w.isalpha()}
        self.add_vocabulary(meanings | set(vocabulary))

    # -- vocabulary and spelling ----------------------------------------------------------------------------------

    def add_vocabulary(self, words: Iterable[str]) -> None:
        """Words a misspelling may be corrected to (alphabetic, 4+ letters)."""
        added = False
        for word in words:
            for token in tokens(word):
                if len(token) >= 4 and token.isalpha() and token not in self._targets:
                    self._targets.add(token)
                    self._known.add(token)
                    for key in _deletes(token, 1 if len(token) < 8 else 2):
                        self._index.setdefault(key, set()).add(token)
                    added = True
        if added:
            self._corrections.clear()
            self._words_cache.clear()
            self._token_cache.clear()

    def correct(self, word: str) -> str | None:
        """The vocabulary word a misspelt `word` most likely meant, or None (known, too short or no close match)."""
        if word in self._corrections:
            return self._corrections[word]
        result = None
        if len(word) >= 5 and word.isalpha() and word not in self._known:
            limit = 1 if len(word) < 8 else 2
            candidates: set[str] = set()
            for key in _deletes(word, limit):
                candidates |= self._index.get(key, set())
            best: tuple[int, int, int, str] | None = None
            for candidate in candidates:
                distance = damerau(word, candidate, limit)
                if distance > limit or (distance == 2 and len(candidate) < 8):
                    continue
                prefix = len(_common_prefix(word, candidate))
                # closest first, then the same first letter, then the longer shared prefix, then alphabetical
                key = (distance, 0 if candidate[0] == word[0] else 1, -prefix, candidate)
                if best is None or key < best:
                    best = key
            result = best[3] if best else None
        self._corrections[word] = result
        return result

    # -- analysis ---------------------------------------------------------------------------------------------------

    def words(self, text: str) -> tuple[Word, ...]:
        """The answer's words, stop words included, after lexicon expansion and spelling correction."""
        cached = self._words_cache.get(text)
        if cached is not None:
            return cached
        raw = tokens(text)
        out: list[Word] = []
        i = 0
        single = self._token_cache
        while i < len(raw):
            token = raw[i]
            if token not in self._phrase_starts:
                found = single.get(token)
                if found is None:
                    found = single[token] = self._one_token(token)
                out.extend(found)
                i += 1
                continue
            for size in range(min(self._max_term, len(raw) - i), 0, -1):
                key = tuple(raw[i:i + size])
                meaning = self._lexicon.get(key)
                if meaning is not None:
                    surface = " ".join(key)
                    out.extend(Word(m, surface, "" if (m,) == key else "lexicon") for m in meaning)
                    i += size
                    break
            else:
                out.extend(self._one_token(token))
                i += 1
        result = tuple(out)
        if len(self._words_cache) > 200_000:
            self._words_cache.clear()
        self._words_cache[text] = result
        return result

    def _one_token(self, token: str) -> tuple[Word, ...]:
        meaning = self._lexicon.get((token,))
        if meaning is not None:
            return tuple(Word(m, token, "" if m == token else "lexicon") for m in meaning)
        fixed = self.correct(token)
        if fixed is not None:
            meaning = self._lexicon.get((fixed,))
            return tuple(Word(m, token, "spelling") for m in (meaning if meaning is not None else (fixed,)))
        if len(token) > 1 or token.isdigit():
            return (Word(token, token),)
        return ()

    def analyse(self, text: str) -> tuple[str, list[str], list[str]]:
        """(normalised text, stems of every word, model features) in one pass, for scoring many answers."""
        words = self.words(text)
        stop = self._stop
        stems = [stem(w.text) for w in words]
        terms = [s for w, s in zip(words, stems, strict=True) if w.text not in stop]
        return " ".join(w.text for w in words), stems, ngrams(terms)

    def normalised(self, text: str) -> str:
        """The answer as plain words separated by spaces (for character n-grams)."""
        return " ".join(w.text for w in self.words(text))

    def stems(self, text: str) -> list[str]:
        """Stems of every word, stop words included (for matching keyword phrases)."""
        return [stem(w.text) for w in self.words(text)]

    def terms(self, text: str) -> list[str]:
        """Stems of the content words: stop words dropped."""
        return [stem(w.text) for w in self.words(text) if w.text not in self._stop]

    def features(self, text: str) -> list[str]:
        """Unigrams and bigrams of the content stems: the words a model learns from."""
        return ngrams(self.terms(text))

    def is_stopword(self, word: str) -> bool:
        return word in self._stop


def ngrams(terms: list[str], n_max: int = 2) -> list[str]:
    """Unigrams and (up to n_max)-grams joined by a space."""
    out = list(terms)
    for n in range(2, n_max + 1):
        out.extend(" ".join(terms[i:i + n]) for i in range(len(terms) - n + 1))
    return out


def _common_prefix(a: str, b: str) -> str:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return a[:i]


@functools.cache
def default_processor() -> TextProcessor:
    """A processor with the lexicon's vocabulary only (no codebook): shared, read-mostly."""
    return TextProcessor()
