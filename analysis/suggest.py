"""The suggestion engine: scores every code of the codebook for an answer, with a reason a person can check.

Two sources of evidence per code: the codebook's own words (keywords, label, definition, examples, matched after
the same normalisation, with the slang lexicon) and a model learned from the codings made so far (one-vs-rest
logistic regression over tf-idf of stemmed unigrams+bigrams and character n-grams). With few codings the model can
only add to the codebook's evidence; from BLEND_MIN coded answers on, how far to trust each is itself learned
(stacking on out-of-fold predictions), so the more codings a code has, the more its score rests on the model.
Reasons name the matched words, or the most similar coded answers (cosine over word tf-idf).

Further evidence (issue 10): the question an answer was given to (per-question code rates learned from the
codings, smoothed towards the overall rate); a code's exclude guidance (its words in an answer lower the code);
how much a coding counts (a weight per coded answer and code: one coder's accepted suggestion counts less than
a code given by hand or by several coders); and, where the sentence-embedding runtime is available, meaning: the
cosine of the answer to "label: definition", to each code's prototype (the definition fading into the mean of the
answers coded with it) and the codes of its nearest coded answers. The raw score is a weighted sum of the words'
score and these; the weights are fixed (DEFAULT_WEIGHTS) below WEIGHTS_MIN coded answers and chosen by 3-fold
cross-validation on the codings above. Each text is embedded once per suggester (CachedEmbed; stored vectors are
used as given). Without the runtime the engine works on words alone and says why (`meaning_reason`). Scores shown
are calibrated (Platt, isotonic from ISOTONIC_MIN points) on the same out-of-fold predictions once there are
CALIBRATE_MIN coded answers; the ranking itself uses the raw score.
Deterministic: training rows are sorted by a sha1 key of their content and folds are drawn by a hash of the text,
so row order, ids and PYTHONHASHSEED change nothing.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from analysis.text import TextProcessor, Word, stem

#: weight of a codebook word by where it appears in the code's entry
FIELD_WEIGHTS = {"keyword": 1.0, "label": 0.7, "name": 0.5, "example": 0.35, "definition": 0.35, "include": 0.3}
FIELD_NAMES = {"keyword": "keyword", "label": "label", "name": "code name", "example": "example quote",
               "definition": "definition", "include": "include guidance"}


@dataclass(frozen=True)
class CodeInfo:
    """What the engine needs to know about one code of the codebook."""

    name: str
    label: str
    definition: str = ""
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    include: str = ""
    exclude: str = ""


#: a shown (calibrated) score from which a suggestion counts as strong; below MIN_SCORE it is not shown on the page
STRONG_SCORE = 0.6
MIN_SCORE = 0.15


@dataclass(frozen=True)
class Suggestion:
    """One suggested code for an answer: score in [0, 1] (higher is better; calibrated when `calibrated`) and why."""

    code: str
    score: float
    reason: str
    calibrated: bool = False

    @property
    def strength(self) -> str:
        """"strong" or "weak", for the page: a weak suggestion is shown as such."""
        return "strong" if self.score >= STRONG_SCORE else "weak"


@dataclass
class _Match:
    term: tuple[str, ...]
    weight: float
    field: str
    shown: str  # the codebook's own word or phrase


@dataclass
class _Corpus:
    texts: list[str] = field(default_factory=list)
    labels: list[frozenset[int]] = field(default_factory=list)
    questions: list[str | None] = field(default_factory=list)
    weights: list[dict[int, float]] = field(default_factory=list)
    vectors: list[np.ndarray | None] = field(default_factory=list)


def stable_key(text: str, names: Iterable[str] = (), question: str | None = None) -> str:
    """A sort key that depends on a coded answer's content only (never on its id, position or the hash seed)."""
    return hashlib.sha1("\x1f".join([text, question or "", *sorted(names)]).encode("utf-8")).hexdigest()


def bounded_sample(labels: Sequence[Iterable[str]], limit: int) -> list[int]:
    """Positions (ascending) of at most `limit` rows to learn from, stratified by code: every row when there are
    no more than `limit`; else rows are taken in the order given (the caller sorts them by a hash of their content,
    so the sample never depends on row order or ids) while one of their codes has fewer than `cap` rows taken.
    `cap` is the largest number with sum over codes of min(rows with the code, cap) <= limit, so a rare code keeps
    all its answers and the frequent ones share what is left; each row taken counts against one code under its
    cap at least, so no more than `limit` rows are taken. Rows with several codes fill several caps at once: the
    room left is filled with the next rows in the same order."""
    if len(labels) <= limit:
        return list(range(len(labels)))
    sets = [frozenset(names) for names in labels]
    per_code = Counter(n for names in sets for n in names)
    sizes = sorted(per_code.values())
    low, high = 1, max(sizes, default=1)
    while low < high:  # the largest cap whose budget fits the limit
        mid = (low + high + 1) // 2
        if sum(min(k, mid) for k in sizes) <= limit:
            low = mid
        else:
            high = mid - 1
    cap = low
    taken: Counter = Counter()
    out: list[int] = []
    for i, names in enumerate(sets):
        if names and any(taken[n] < cap for n in names):
            out.append(i)
            taken.update(names)
    if len(out) < limit:  # answers with several codes fill several caps at once: the rest of the room goes to
        chosen = set(out)  # the next rows in the same order (the codes as frequent as they are)
        more = [i for i, names in enumerate(sets) if names and i not in chosen][: limit - len(out)]
        out = sorted(out + more)
    return out


def text_fold(text: str, folds: int) -> int:
    """The fold of an answer, by a hash of its text: the same answer lands in the same fold in every run."""
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16) % folds


#: an answer shown only as a placeholder ("[withheld: safeguarding]", "[answer withheld: redaction failed]") holds
#: none of the answer's words: it is never learned from and never gets a suggestion
_PLACEHOLDER = re.compile(r"\s*\[[^\[\]]*\]\s*")


def is_placeholder(text: str) -> bool:
    """Whether `text` is nothing but one bracketed placeholder, i.e. no words of the answer at all."""
    return bool(_PLACEHOLDER.fullmatch(text or ""))


#: character n-gram sizes (within words, as sklearn's char_wb): robust to misspellings the lexicon misses
CHAR_NGRAMS = (2, 4)


def _char_wb_grams(word: str, low: int, high: int) -> list[str]:
    """A word's character n-grams exactly as sklearn's char_wb analyser makes them."""
    padded = f" {word} "
    grams: list[str] = []
    for n in range(low, high + 1):
        grams.extend(padded[i:i + n] for i in range(max(1, len(padded) - n + 1)))
        if len(padded) <= n:  # a short word is counted once, as sklearn does
            break
    return grams


def _ranking_quality(scores: np.ndarray, y: np.ndarray) -> float:
    """recall@3 + precision@1 of ranking codes by `scores`, over the answers that have a code."""
    has = y.any(axis=1)
    if not has.any():
        return 0.0
    scores, y = scores[has], y[has]
    k = min(3, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    hits = np.take_along_axis(y, top, axis=1)
    return float(hits.sum() / y.sum() + hits[:, 0].mean())


class _Platt:
    """Platt scaling: shown = sigmoid(a * logit(raw) + b), fitted by logistic regression (deterministic)."""

    def fit(self, raw: np.ndarray, right: np.ndarray) -> _Platt:
        model = LogisticRegression(C=10.0, solver="lbfgs", max_iter=200).fit(self._x(raw), right)
        self.a, self.b = float(model.coef_[0, 0]), float(model.intercept_[0])
        if self.a <= 0:  # never turn the ranking upside down: a flat curve at the base rate instead
            self.a, self.b = 0.0, float(np.log(right.mean() / (1 - right.mean())))
        return self

    @staticmethod
    def _x(raw: np.ndarray) -> np.ndarray:
        p = np.clip(raw, 1e-4, 1 - 1e-4)
        return np.log(p / (1 - p)).reshape(-1, 1)

    def predict(self, raw: np.ndarray) -> np.ndarray:
        return _sigmoid(self.a * self._x(raw)[:, 0] + self.b)


class CachedEmbed:
    """An embedding function that computes each distinct text once (keyed by a sha1 of the text).

    The suggester wraps its `embed` in one, so a build, its cross-validation folds and its calibration never embed
    the same answer twice; at most `limit` vectors are kept (the oldest go first).
    """

    def __init__(self, embed, limit: int = 200_000):
        self.inner = getattr(embed, "inner", embed)
        self.limit = limit
        self._cache: dict[bytes, np.ndarray] = {}
        self.computed = 0  # texts actually embedded (for the bench and tests)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        keys = [hashlib.sha1(t.encode("utf-8")).digest() for t in texts]
        missing: dict[bytes, str] = {}
        for k, t in zip(keys, texts, strict=True):
            if k not in self._cache and k not in missing:
                missing[k] = t
        if missing:
            vectors = np.asarray(self.inner(list(missing.values())), dtype=np.float32)
            self.computed += len(missing)
            for k, v in zip(missing, vectors, strict=True):
                self._cache[k] = v
            while len(self._cache) > self.limit:
                self._cache.pop(next(iter(self._cache)))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([self._cache[k] for k in keys])

    def remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Keep vectors computed elsewhere (stored in the database) so they are never recomputed."""
        for t, v in zip(texts, vectors, strict=True):
            if v is not None:
                self._cache.setdefault(hashlib.sha1(t.encode("utf-8")).digest(), np.asarray(v, dtype=np.float32))


def _identity(items: list[str]) -> list[str]:
    return items


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -35, 35)))


class Suggester:
    """Suggests codes for answers from the codebook's words and the codings made so far.

    `fit` learns from coded answers, `add` takes one new coding (cheap), `suggest` / `suggest_many` rank codes.
    Deterministic: the same codebook and codings give the same suggestions.

    prior_strength: codings a code needs before the model counts as much as the codebook (until the blend is
    learned); C: the logistic regressions' inverse regularisation (tuned from TUNE_MIN codings when `tune`);
    neighbours: similar coded answers looked at for reasons; char_weight: weight of character n-grams beside words.
    A code's `exclude` guidance lowers it where its words are in an answer. `embed`: texts -> (n, d) L2-normalised
    vectors (analysis.embeddings.embed) or None; `meaning_reason` says why meaning is not used when it is None.
    calibrate: learn the shown scores' calibration from out-of-fold predictions (CALIBRATE_MIN coded answers on).
    `weights` are the evidence weights in use (words, definition, prototype, neighbours); `weights_quality` the
    cross-validated recall@3 + precision@1 of each candidate, when they were chosen.
    """

    #: with at most this many coded answers, `add` refits everything (it is cheap); above, it updates in place
    FULL_REFIT_LIMIT = 150
    #: the blend of codebook and model is learned (stacking) from this many coded answers on; below, it is fixed
    #: (learned on fewer, the blend varied with the folds and cost more than it gave: issue 10)
    BLEND_MIN = 300
    BLEND_SAMPLE = 1000
    #: liblinear's stopping tolerance: looser than its default 1e-4, which changes rankings little and halves fits
    TOL = 1e-3
    #: the model's regularisation is chosen on the stacking folds from this many coded answers on
    TUNE_MIN = 300
    C_GRID = (2.0, 8.0, 32.0)
    #: answers scored at once by suggest_many (bigger batches are split)
    CHUNK = 10_000
    #: at scale the model learns from at most this many coded answers: a deterministic sample stratified by code
    #: (bounded_sample), so a build costs about the same at 10,000 and at 1,000,000 codings (issues 10 and 14).
    #: Every evaluation set of bench/bench_suggest.py is smaller, so its figures are those of the whole set. What a
    #: sample costs where it binds: bench_suggest.py --sample-cost (3,000 NHS comments: 1,500 of them lose 0.07
    #: recall@3). 4,000: the build is about 12 s of CPU (liblinear's worst case, random synthetic codes; 8,000: 34 s)
    TRAIN_MAX = 4_000
    #: shown scores are calibrated from this many coded answers on, on out-of-fold predictions of at most
    #: CAL_SAMPLE of them (3 folds by a hash of the text)
    CALIBRATE_MIN = 40
    CAL_SAMPLE = 800
    #: Platt scaling (a logistic curve: smooth, two numbers) below this many out-of-fold suggestions, isotonic above
    ISOTONIC_MIN = 1500
    #: per-question code rates: pseudo-answers pulling each question's rate to the overall rate, and how far
    #: the ratio of the two moves a score (score * ratio ** QUESTION_POWER)
    QUESTION_SMOOTHING = 8.0
    QUESTION_POWER = 0.6
    #: a code whose exclude guidance's words are in the answer keeps this share of its score
    EXCLUDE_FACTOR = 0.35
    #: Meaning, where embeddings are available. A code's prototype is normalised(w_def * "label: definition" +
    #: mean of its coded answers' vectors), w_def = PROTOTYPE_PRIOR / (PROTOTYPE_PRIOR + the code's codings): the
    #: definition counts fully with no codings and fades as they come. Neighbours: the codes of the KNN most similar
    #: coded answers (by cosine), weighted by exp(cosine / KNN_TEMPERATURE), over at most KNN_MAX coded answers.
    PROTOTYPE_PRIOR = 5.0
    KNN = 10
    KNN_TEMPERATURE = 0.05
    KNN_MAX = 5_000
    #: raw score = w0 * words + w1 * cosine to "label: definition" + w2 * cosine to the prototype + w3 * neighbours
    #: (then the question and exclude guidance). Until WEIGHTS_MIN coded answers the weights are DEFAULT_WEIGHTS
    #: (the definition alone for meaning: on the held-out set's training pools, prototypes and neighbours learned
    #: from fewer answers cost more than they gave); from there they are chosen from WEIGHT_GRID by 3-fold
    #: cross-validation on the codings (folds by a hash of the text; the same out-of-fold predictions calibrate the
    #: scores), keeping the default unless another is better by WEIGHTS_MARGIN (recall@3 + precision@1)
    DEFAULT_WEIGHTS = (0.4, 0.6, 0.0, 0.0)
    WEIGHT_GRID = tuple((w, *(round((1 - w) * x, 3) for x in split)) for w in (0.25, 0.4, 0.55, 0.7)
                        for split in ((1, 0, 0), (0.5, 0.5, 0), (0, 1, 0), (0.5, 0.25, 0.25), (0.34, 0.33, 0.33),
                                      (0, 0.5, 0.5)))
    WEIGHTS_MIN = 150
    WEIGHTS_MARGIN = 0.02
    #: how much one coding counts by source; several coders agreeing count more (see coding_weight)
    SOURCE_WEIGHTS = {"human": 1.0, "import": 1.0, "merge": 1.0, "bulk": 0.7, "suggestion": 0.5}

    def __init__(self, codes: Sequence[CodeInfo], *, prior_strength: float = 4.0, C: float = 8.0,
                 neighbours: int = 10, char_weight: float = 1.0, tune: bool = True,
                 random_state: int = 0, embed=None, meaning_reason: str = "", calibrate: bool = True):
        names = [c.name for c in codes]
        duplicates = sorted(n for n, k in Counter(names).items() if k > 1)
        if duplicates:
            raise ValueError(f"codes named more than once: {', '.join(duplicates)}")
        self.codes: list[CodeInfo] = list(codes)
        self.index = {c.name: i for i, c in enumerate(self.codes)}
        self.prior_strength = prior_strength
        self.C = C
        self.initial_C = C
        self.tune = tune
        self.neighbours = neighbours
        self.char_weight = char_weight
        self.random_state = random_state
        self.embed = None if embed is None else (embed if isinstance(embed, CachedEmbed) else CachedEmbed(embed))
        self._def_vectors: np.ndarray | None = None
        if self.embed is not None and self.codes:
            entries = [f"{c.label}: {c.definition}" + (f" {c.include}" if c.include else "") for c in self.codes]
            self._def_vectors = np.asarray(self.embed(entries), dtype=np.float32)
        #: weights of (words, meaning, neighbours) in the raw score; chosen by cross-validation on the codings
        self.weights: tuple[float, ...] = self.DEFAULT_WEIGHTS
        self.weights_quality: dict[tuple[float, ...], float] = {}
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._oof: tuple[np.ndarray, np.ndarray] | None = None
        self.meaning_reason = "" if embed is not None else (meaning_reason or "no sentence-embedding runtime given")
        self.calibrate = calibrate
        self._calibrator: IsotonicRegression | _Platt | None = None
        self._full_size = 0  # coded answers at the last full fit (blend and calibration)
        self.processor = TextProcessor(self._codebook_words())
        self._build_matcher()
        self._corpus = _Corpus()
        self.n_population = 0  # coded answers given to fit() (n_coded of them were learned from; see TRAIN_MAX)
        self._fitted = False
        self._blend: LogisticRegression | None = None
        self._blend_size = 0  # how many coded answers the blend was last learned from
        self._feature_names: np.ndarray | None = None
        self.counts = np.zeros(len(self.codes), dtype=np.float64)
        self.positives = np.zeros(len(self.codes), dtype=np.int64)
        self._w = np.zeros((0, len(self.codes)))
        self._question_counts: dict[str, np.ndarray] = {}
        self._question_totals: dict[str, float] = {}
        self._build_prototypes()  # with no codings: "label: definition" alone

    # -- the codebook's words -----------------------------------------------------------------------------------------

    def _codebook_words(self) -> list[str]:
        words: list[str] = []
        for c in self.codes:
            words += [c.label, c.definition, c.include, c.name.replace("_", " "), *c.keywords, *c.examples]
        return words

    def _build_matcher(self) -> None:
        """A sparse (term x code) weight matrix from keywords (phrases) and content words of the other fields."""
        p = self.processor
        per_code: list[dict[tuple[str, ...], _Match]] = []
        for c in self.codes:
            found: dict[tuple[str, ...], _Match] = {}

            def put(term: tuple[str, ...], where: str, shown: str, found=found) -> None:
                weight = FIELD_WEIGHTS[where]
                if term and (term not in found or found[term].weight < weight):
                    found[term] = _Match(term, weight, where, shown)

            for keyword in c.keywords:
                # phrases keep their stop words ("on their own"): matched as a run of stems
                put(tuple(p.stems(keyword)), "keyword", keyword.strip())
            for where, texts in (("label", [c.label]), ("name", [c.name.replace("_", " ")]),
                                 ("definition", [c.definition]), ("example", list(c.examples)),
                                 ("include", [c.include])):
                for text in texts:
                    for w in p.words(text):
                        if not p.is_stopword(w.text) and len(w.text) > 2 and not w.text.isdigit():
                            put((stem(w.text),), where, w.text)
            per_code.append(found)
        document_frequency = Counter(t for found in per_code for t in found)
        n = max(len(self.codes), 2)
        self._terms: dict[tuple[str, ...], int] = {}
        rows, cols, vals = [], [], []
        self._matches: list[dict[tuple[str, ...], _Match]] = per_code
        for j, found in enumerate(per_code):
            for term, match in found.items():
                specificity = min(1.0, math.log(1 + n / document_frequency[term]) / math.log(1 + n))
                match.weight *= specificity
                i = self._terms.setdefault(term, len(self._terms))
                rows.append(i)
                cols.append(j)
                vals.append(match.weight)
        self._term_lengths = sorted({len(t) for t in self._terms}) or [1]
        self._term_code = sp.csr_matrix((vals, (rows, cols)), shape=(max(len(self._terms), 1), len(self.codes)))
        # exclude guidance: its content words (stems) lower the code where an answer has them
        self._exclude: list[frozenset[str]] = []
        for c in self.codes:
            self._exclude.append(frozenset(stem(w.text) for w in p.words(c.exclude)
                                           if not p.is_stopword(w.text) and len(w.text) > 2 and not w.text.isdigit()))

    def _term_matrix(self, all_stems: Sequence[list[str]]) -> sp.csr_matrix:
        """Binary (answer x codebook term) matrix: which codebook words and phrases each answer contains."""
        indptr, indices = [0], []
        terms, lengths = self._terms, self._term_lengths
        for stems in all_stems:
            seen: set[int] = set()
            for size in lengths:
                for i in range(len(stems) - size + 1):
                    j = terms.get(tuple(stems[i:i + size]))
                    if j is not None:
                        seen.add(j)
            indices.extend(sorted(seen))
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float64)
        return sp.csr_matrix((data, indices, indptr), shape=(len(all_stems), self._term_code.shape[0]))

    def codebook_scores(self, texts: Sequence[str]) -> np.ndarray:
        """(answer x code) scores in [0, 1] from the codebook's words alone."""
        return self._codebook_scores([self.processor.stems(t) for t in texts])

    def _codebook_scores(self, all_stems: Sequence[list[str]]) -> np.ndarray:
        evidence = (self._term_matrix(all_stems) @ self._term_code).toarray()
        return 1.0 - np.exp(-evidence)

    # -- learning from codings ----------------------------------------------------------------------------------------

    def fit(self, coded: Iterable[Sequence], vectors: Sequence[np.ndarray] | np.ndarray | None = None) -> Suggester:
        """Learn from coded answers: (text, [code names]) or (text, [code names], question id) or
        (text, [code names], question id, {code name: weight}). Codes not in the codebook are ignored, and so are
        placeholder texts (see is_placeholder). `vectors`: the answers' embeddings in the same order (else they
        are computed with `embed` where there is one). Row order does not matter: rows are sorted by content."""
        rows = []
        for i, item in enumerate(coded):
            text, names = item[0], list(item[1])
            question = item[2] if len(item) > 2 else None
            weights = item[3] if len(item) > 3 and item[3] else {}
            if is_placeholder(text):
                continue
            vector = None if vectors is None else np.asarray(vectors[i], dtype=np.float32)
            rows.append((stable_key(text, names, question), text, names, question, weights, vector))
        rows.sort(key=lambda r: r[0])
        self.n_population = len(rows)
        if len(rows) > self.TRAIN_MAX:  # at scale: a sample stratified by code, by the rows' content hashes
            keep = bounded_sample([[n for n in r[2] if n in self.index] for r in rows], self.TRAIN_MAX)
            rows = [rows[i] for i in keep]
        if self.embed is not None:
            self.embed.remember([r[1] for r in rows], [r[5] for r in rows])
        self._corpus = _Corpus()
        for _, text, names, question, weights, vector in rows:
            self._append(text, names, question, weights, vector)
        if self.embed is not None and self._corpus.texts and any(v is None for v in self._corpus.vectors):
            missing = [i for i, v in enumerate(self._corpus.vectors) if v is None]
            computed = self.embed([self._corpus.texts[i] for i in missing])
            for i, v in zip(missing, computed, strict=True):
                self._corpus.vectors[i] = np.asarray(v, dtype=np.float32)
        self._refit()
        return self

    def _append(self, text: str, names: Sequence[str], question: str | None, weights: dict,
                vector: np.ndarray | None) -> frozenset[int]:
        labels = frozenset(self.index[n] for n in names if n in self.index)
        self._corpus.texts.append(text)
        self._corpus.labels.append(labels)
        self._corpus.questions.append(question)
        self._corpus.weights.append({self.index[n]: float(w) for n, w in weights.items() if n in self.index})
        self._corpus.vectors.append(vector)
        return labels

    def add(self, text: str, code_names: Sequence[str], question: str | None = None,
            weights: dict[str, float] | None = None, vector: np.ndarray | None = None) -> None:
        """Learn from one newly coded answer without refitting everything (the codes it names are refitted).
        A placeholder text (see is_placeholder) teaches nothing. Never a full refit with blend and calibration:
        `refit_needed()` says when the caller should run `refresh()` in the background."""
        if is_placeholder(text):
            return
        if vector is None and self.embed is not None:
            vector = np.asarray(self.embed([text])[0], dtype=np.float32)
        labels = self._append(text, code_names, question, weights or {}, vector)
        n = len(self._corpus.texts)
        if not self._fitted or n <= self.FULL_REFIT_LIMIT:
            # cheap at this size; the learned blend and the calibration are kept until refresh()
            self._refit(blend=False)
            return
        _, _, word, char = self._vectorise([text])
        self._word = sp.vstack([self._word, word], format="csr")
        self._features = sp.vstack([self._features, self._join(word, char)], format="csr")
        row = np.zeros((1, len(self.codes)), dtype=bool)
        row[0, list(labels)] = True
        self._y = np.vstack([self._y, row])
        wrow = np.where(row, self._weight_row(n - 1), 0.0)
        self._w = np.vstack([self._w, wrow])
        self.counts = self._w.sum(axis=0)
        self.positives = self._y.sum(axis=0).astype(np.int64)
        self._count_question(n - 1)
        if self._def_vectors is not None and vector is not None and self._vectors.shape[0] == n - 1:
            self._vectors = np.vstack([self._vectors.reshape(n - 1, -1), np.asarray(vector, np.float32)[None, :]])
            self._vector_sum += wrow[0][:, None] * np.asarray(vector, np.float64)[None, :]
            self._prototypes = self._prototype_matrix(self._vector_sum, self.counts)
        # only the codes this answer has are refitted; the others saw one more negative answer and are at most
        # that answer stale until the next fit() or refresh()
        for j in labels:
            self._coef[j], self._intercept[j] = self._fit_code(self._features, self._y[:, j], weight=self._w[:, j])

    def refresh(self) -> None:
        """Refit everything from the answers learned so far, with the blend and the calibration (a background job)."""
        self._refit()

    def refit_needed(self) -> bool:
        """Whether the coded answers have grown enough since the last full fit that `refresh()` would change
        suggestions noticeably (they doubled, or crossed the sizes where the blend or the calibration start)."""
        n = self.n_coded
        if n == 0:
            return False
        if n >= 2 * max(self._full_size, 1):
            return True
        return (self._full_size < self.BLEND_MIN <= n) or (self.calibrate and self._full_size < self.CALIBRATE_MIN <= n)

    @property
    def calibrated(self) -> bool:
        """Whether shown scores are calibrated (else they are raw scores, to be read as weak evidence)."""
        return self._calibrator is not None

    @property
    def n_coded(self) -> int:
        """How many coded answers the model has learned from."""
        return len(self._corpus.texts)

    def _weight_row(self, i: int) -> np.ndarray:
        w = np.ones(len(self.codes))
        for j, value in self._corpus.weights[i].items():
            w[j] = value
        return w

    def _count_question(self, i: int) -> None:
        question = self._corpus.questions[i]
        if question is None:
            return
        counts = self._question_counts.setdefault(question, np.zeros(len(self.codes)))
        counts += self._w[i]
        self._question_totals[question] = self._question_totals.get(question, 0.0) + 1.0

    def _refit(self, blend: bool = True) -> None:
        texts, labels = self._corpus.texts, self._corpus.labels
        self._y = np.zeros((len(texts), len(self.codes)), dtype=bool)
        for i, ls in enumerate(labels):
            self._y[i, list(ls)] = True
        self._w = np.zeros(self._y.shape)
        for i in range(len(texts)):
            self._w[i] = np.where(self._y[i], self._weight_row(i), 0.0)
        self.counts = self._w.sum(axis=0)
        self.positives = self._y.sum(axis=0).astype(np.int64)
        self._question_counts: dict[str, np.ndarray] = {}
        self._question_totals: dict[str, float] = {}
        for i in range(len(texts)):
            self._count_question(i)
        self._build_prototypes()
        if blend:
            self._blend = None
            self._calibrator = None
            self._oof = None
        if not texts or not self.counts.any():
            self._fitted = False
            self._blend = None
            self._calibrator = None
            return
        # frequent words of coded answers become spelling targets too (before the vectorisers see any text)
        frequent = Counter(w.text for t in texts for w in self.processor.words(t) if w.how == "")
        self.processor.add_vocabulary(sorted(w for w, k in frequent.items() if k >= 3))
        analysed = [self.processor.features(t) for t in texts]
        plain = [self.processor.normalised(t) for t in texts]
        self._word_vectoriser = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, dtype=np.float64)
        self._char_vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True,
                                                min_df=2 if len(texts) >= 500 else 1, dtype=np.float64)
        self._char_cache: dict[str, np.ndarray] = {}
        self._word = self._word_vectoriser.fit_transform(analysed).tocsr()
        char = self._char_vectoriser.fit_transform(plain).tocsr()
        self._features = self._join(self._word, char)
        self._feature_names = None
        self._codebook_train = self._codebook_scores([self.processor.stems(t) for t in texts])
        if blend:  # before the final models: the stacking folds may choose C
            self.C = self.initial_C
            self._blend = self._fit_blend()
            self._blend_size = len(texts)
        self._coef, self._intercept = self._fit_all(self._features, self._y, weights=self._w)
        self._fitted = True
        if blend:
            self._full_size = len(texts)
            self._choose_weights_and_calibrate()

    def _build_prototypes(self) -> None:
        """Each code's prototype from "label: definition" (+ include guidance) and its coded answers' vectors."""
        self._prototypes = None
        self._vector_sum = None
        if self._def_vectors is None:
            return
        vectors = self._corpus.vectors
        if vectors and all(v is not None for v in vectors):
            self._vectors = np.vstack(vectors).astype(np.float32)
            self._vector_sum = self._w.T @ self._vectors.astype(np.float64)
        else:
            self._vectors = np.zeros((0, self._def_vectors.shape[1]), dtype=np.float32)
            self._vector_sum = np.zeros(self._def_vectors.shape, dtype=np.float64)
        self._prototypes = self._prototype_matrix(self._vector_sum, self._w.sum(axis=0) if len(vectors) else
                                                  np.zeros(len(self.codes)))

    def _prototype_matrix(self, vector_sum: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """normalised(w_def * definition + mean of coded vectors), w_def = prior / (prior + codings), per code."""
        counts = np.asarray(counts, dtype=np.float64)
        mean = vector_sum / np.maximum(counts, 1e-9)[:, None]
        mean[counts <= 0] = 0.0
        w_def = self.PROTOTYPE_PRIOR / (self.PROTOTYPE_PRIOR + counts)
        return normalize(w_def[:, None] * self._def_vectors.astype(np.float64) + mean).astype(np.float32)

    def _knn_scores(self, vectors: np.ndarray, train_vectors: np.ndarray, train_w: np.ndarray) -> np.ndarray:
        """(answer x code): the codes of the most similar coded answers, each weighted by exp(cosine / T)."""
        out = np.zeros((vectors.shape[0], len(self.codes)))
        n = train_vectors.shape[0]
        if n == 0 or vectors.shape[0] == 0:
            return out
        if n > self.KNN_MAX:  # to bound the time: the first rows, which fit() sorted by a hash of their content
            train_vectors, train_w = train_vectors[: self.KNN_MAX], train_w[: self.KNN_MAX]
            n = self.KNN_MAX
        k = min(self.KNN, n)
        train_t = np.ascontiguousarray(train_vectors.T, dtype=np.float32)
        for start in range(0, vectors.shape[0], 500):
            sims = np.asarray(vectors[start:start + 500], dtype=np.float32) @ train_t
            if k < n:
                top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            else:
                top = np.tile(np.arange(n), (sims.shape[0], 1))
            top_sims = np.take_along_axis(sims, top, axis=1).astype(np.float64)
            weight = np.exp((top_sims - top_sims.max(axis=1, keepdims=True)) / self.KNN_TEMPERATURE)
            weight /= weight.sum(axis=1, keepdims=True)
            # (rows, k) weights times the neighbours' (k, codes) coding weights, capped at 1 each
            out[start:start + sims.shape[0]] = np.einsum("rk,rkc->rc", weight, np.minimum(train_w[top], 1.0))
        return out

    @staticmethod
    def _meaning(cosine: np.ndarray) -> np.ndarray:
        return np.clip((cosine - 0.1) / 0.5, 0.0, 1.0)

    def _question_factor(self, questions: Sequence[str | None] | None, q_counts: dict, q_totals: dict,
                         counts: np.ndarray) -> np.ndarray | None:
        if questions is None or not q_counts:
            return None
        total = max(sum(q_totals.values()), 1.0)
        overall = (counts + 1.0) / (total + len(self.codes))
        factor = np.ones((len(questions), len(self.codes)))
        for r, question in enumerate(questions):
            found = q_counts.get(question) if question is not None else None
            if found is None:
                continue
            m = self.QUESTION_SMOOTHING
            rate = (found + m * overall) / (q_totals[question] + m)
            factor[r] = (rate / overall) ** self.QUESTION_POWER
        return factor

    def _excluded(self, all_stems: Sequence[list[str]]) -> np.ndarray | None:
        if not any(self._exclude):
            return None
        mask = np.zeros((len(all_stems), len(self.codes)), dtype=bool)
        for r, stems in enumerate(all_stems):
            present = set(stems)
            for j, words in enumerate(self._exclude):
                if words and present & words:
                    mask[r, j] = True
        return mask if mask.any() else None

    def _combine(self, words: np.ndarray, definition: np.ndarray | None, meaning: np.ndarray | None,
                 knn: np.ndarray | None, factor: np.ndarray | None, excluded: np.ndarray | None,
                 weights: tuple[float, ...] | None = None) -> np.ndarray:
        """The raw score: the weighted sum of the evidence, times the question's factor, lowered where excluded."""
        if meaning is None or definition is None:
            score = words
        else:
            w_words, w_def, w_proto, w_knn = weights or self.weights
            score = w_words * words + w_def * definition + w_proto * meaning
            if knn is not None and w_knn:
                score = score + w_knn * knn
            elif w_knn:  # no neighbours to look at: their share goes to the prototype
                score = score + w_knn * meaning
        if factor is not None:
            score = score * factor
        if excluded is not None:
            score = np.where(excluded, score * self.EXCLUDE_FACTOR, score)
        return np.clip(score, 0.0, 1.0)

    def _out_of_fold(self) -> dict[str, np.ndarray] | None:
        """Each part of the score for a sample of the coded answers (at most BLEND_SAMPLE, 3 folds by a hash of
        the text), each predicted by what the other folds taught: the words' model, prototypes, neighbours and
        question rates. No answer is embedded again (their vectors are kept)."""
        n = self.n_coded
        if n < min(self.WEIGHTS_MIN, self.CALIBRATE_MIN):
            return None
        texts = self._corpus.texts
        if self._oof is not None:
            sample, logits = self._oof
        else:
            sample = np.sort(np.array(sorted(range(n), key=lambda i: stable_key(texts[i]))[: self.BLEND_SAMPLE]))
            logits = None
        folds = np.array([text_fold(texts[i], 3) for i in sample])
        if len(set(folds.tolist())) < 2:
            return None
        if logits is None:
            logits = np.zeros((len(sample), len(self.codes)))
            for f in range(3):
                train, held = sample[folds != f], sample[folds == f]
                if len(held) == 0:
                    continue
                coef, intercept = self._fit_all(self._features[train], self._y[train], self.C, self._w[train])
                logits[folds == f] = np.asarray(self._features[held] @ coef.T) + intercept
        cb = self._codebook_train[sample]
        words = np.zeros_like(logits)
        meaning = np.zeros_like(logits) if self._prototypes is not None else None
        definition = (self._meaning(self._vectors[sample] @ self._def_vectors.T)
                      if meaning is not None and len(self._vectors) == n else None)
        knn = np.zeros_like(logits) if self._prototypes is not None and len(self._vectors) == n else None
        factor = np.ones_like(logits)
        stems = [self.processor.stems(texts[i]) for i in sample]
        for f in range(3):
            rows = folds == f
            if not rows.any():
                continue
            train, held = sample[~rows], sample[rows]
            counts = self._w[train].sum(axis=0)
            if self._blend is not None:
                x = self._blend_features(logits[rows], cb[rows], counts)
                part = self._blend.predict_proba(x)[:, 1].reshape(cb[rows].shape)
                unused = counts == 0
                part[:, unused] = np.minimum(part[:, unused], cb[rows][:, unused])
            else:
                weight = counts / (counts + self.prior_strength)
                part = 1 - (1 - cb[rows]) * (1 - weight * _sigmoid(logits[rows]))
            words[rows] = part
            if meaning is not None:
                vecs = self._vectors[held]
                protos = self._prototype_matrix(self._w[train].T @ self._vectors[train].astype(np.float64), counts)
                meaning[rows] = self._meaning(vecs @ protos.T)
                if knn is not None:
                    knn[rows] = self._knn_scores(vecs, self._vectors[train], self._w[train])
            q_counts: dict[str, np.ndarray] = {}
            q_totals: dict[str, float] = {}
            for i in train:
                q = self._corpus.questions[i]
                if q is not None:
                    q_counts.setdefault(q, np.zeros(len(self.codes)))
                    q_counts[q] += self._w[i]
                    q_totals[q] = q_totals.get(q, 0.0) + 1.0
            got = self._question_factor([self._corpus.questions[i] for i in held], q_counts, q_totals, counts)
            if got is not None:
                factor[rows] = got
        return {"words": words, "definition": definition, "meaning": meaning, "knn": knn, "factor": factor, "excluded": self._excluded(stems),
                "y": self._y[sample]}

    def _choose_weights_and_calibrate(self) -> None:
        """Choose the evidence weights by cross-validation on the codings and calibrate on the same predictions."""
        self.weights = self.DEFAULT_WEIGHTS
        self.weights_quality = {}
        want_weights = (self._prototypes is not None and self.n_coded >= self.WEIGHTS_MIN
                        and len(self._vectors) == self.n_coded)
        want_calibration = self.calibrate and self.n_coded >= self.CALIBRATE_MIN
        if not (want_weights or want_calibration):
            return
        oof = self._out_of_fold()
        if oof is None:
            return
        parts = (oof["words"], oof["definition"], oof["meaning"], oof["knn"], oof["factor"], oof["excluded"])
        if want_weights:
            grid = [self.DEFAULT_WEIGHTS] + [w for w in self.WEIGHT_GRID if w != self.DEFAULT_WEIGHTS]
            if oof["knn"] is None:
                grid = [w for w in grid if w[3] == 0.0]
            for w in grid:
                self.weights_quality[w] = _ranking_quality(self._combine(*parts, weights=w), oof["y"])
            best = max(grid, key=lambda w: (self.weights_quality[w], -grid.index(w)))
            if self.weights_quality[best] > self.weights_quality[self.DEFAULT_WEIGHTS] + self.WEIGHTS_MARGIN:
                self.weights = best
        if want_calibration:
            self._calibrator = self._fit_calibrator(self._combine(*parts), oof["y"])

    def _fit_calibrator(self, scores: np.ndarray, y: np.ndarray) -> IsotonicRegression | _Platt | None:
        """Platt scaling (isotonic regression from ISOTONIC_MIN points) from raw to shown score, on out-of-fold
        predictions: each top-3 suggestion of a held-out coded answer, right or not."""
        k = min(3, len(self.codes))
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        raw = np.take_along_axis(scores, top, axis=1).reshape(-1)
        right = np.take_along_axis(y, top, axis=1).reshape(-1)
        has = np.repeat(y.any(axis=1), k)
        raw, right = raw[has], right[has]
        if len(raw) < 20 or right.all() or not right.any():
            return None
        x, y = raw.astype(float), right.astype(float)
        if len(raw) >= self.ISOTONIC_MIN:
            return IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(x, y)
        return _Platt().fit(x, y)

    def _join(self, word: sp.csr_matrix, char: sp.csr_matrix) -> sp.csr_matrix:
        return normalize(sp.hstack([word, char * self.char_weight], format="csr"))

    def _vectorise(self, texts: Sequence[str]) -> tuple[np.ndarray, list[list[str]], sp.csr_matrix, sp.csr_matrix]:
        """(codebook scores, stems, word tf-idf, character n-gram tf-idf) for the answers, analysed once."""
        plain, all_stems, features = [], [], []
        for t in texts:
            a, b, c = self.processor.analyse(t)
            plain.append(a)
            all_stems.append(b)
            features.append(c)
        word = self._word_vectoriser.transform(features).tocsr()
        return self._codebook_scores(all_stems), all_stems, word, self._char_tfidf(plain)

    def _char_tfidf(self, plain: Sequence[str]) -> sp.csr_matrix:
        """The fitted char_wb vectoriser's transform, computed word by word with a cache (same numbers, faster).

        sklearn's char_wb n-grams of a text are the union of each word's n-grams, so a word's vocabulary
        columns can be looked up once and reused for every answer that contains it.
        """
        vectoriser = self._char_vectoriser
        vocabulary = vectoriser.vocabulary_
        cache = self._char_cache
        low, high = CHAR_NGRAMS
        parts: list[np.ndarray] = []
        lengths = np.zeros(len(plain), dtype=np.int64)
        for r, text in enumerate(plain):
            total = 0
            for w in text.split():
                columns = cache.get(w)
                if columns is None:
                    grams = _char_wb_grams(w, low, high)
                    columns = np.array([vocabulary[g] for g in grams if g in vocabulary], dtype=np.int64)
                    if len(cache) < 500_000:
                        cache[w] = columns
                parts.append(columns)
                total += len(columns)
            lengths[r] = total
        cols = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        rows = np.repeat(np.arange(len(plain)), lengths)
        counts = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(plain), len(vocabulary)))
        counts.sum_duplicates()
        counts.data = 1.0 + np.log(counts.data)
        counts.data *= vectoriser.idf_[counts.indices]
        return normalize(counts)

    def _fit_all(self, features: sp.csr_matrix, y: np.ndarray, C: float | None = None,
                 weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        coef = np.zeros((y.shape[1], features.shape[1]))
        intercept = np.zeros(y.shape[1])
        for j in range(y.shape[1]):
            coef[j], intercept[j] = self._fit_code(features, y[:, j], C, None if weights is None else weights[:, j])
        return coef, intercept

    def _fit_code(self, features: sp.csr_matrix, y: np.ndarray, C: float | None = None,
                  weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """One code's binary classifier (a constant when all or none of the answers have it); a positive answer
        counts by its coding weight (a single accepted suggestion counts less)."""
        positives = int(y.sum())
        if positives == 0 or positives == len(y):
            return np.zeros(features.shape[1]), (35.0 if positives else -35.0)
        # the dual problem: far quicker when answers are fewer than features (always, with char n-grams)
        model = LogisticRegression(C=C or self.C, solver="liblinear", dual=True, random_state=self.random_state,
                                   max_iter=1000, tol=self.TOL)
        sample_weight = None
        if weight is not None and (weight[y] != 1.0).any():
            sample_weight = np.where(y, weight, 1.0)
        model.fit(features, y, sample_weight=sample_weight)
        return model.coef_[0], float(model.intercept_[0])

    # -- blending the codebook and the learned model -------------------------------------------------------------

    def _blend_features(self, model_logit: np.ndarray, codebook: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Per (answer, code): the model's log-odds, the codebook score, and how much data the code has."""
        rest = (self.prior_strength / (self.prior_strength + counts))[None, :] * np.ones_like(codebook)
        z = np.clip(model_logit, -8.0, 8.0)
        return np.stack([z, codebook, codebook * rest, rest, z * (1 - rest)], axis=-1).reshape(-1, 5)

    def _fit_blend(self) -> LogisticRegression | None:
        """Stacking: learn how far to trust the codebook and the model from out-of-fold predictions.

        With few coded answers the out-of-fold model is weak and the blend leans on the codebook; with many it
        leans on the model. Fitted on at most BLEND_SAMPLE answers (3 folds) to keep fit() quick. From TUNE_MIN
        coded answers on, the same folds also choose the model's regularisation C from C_GRID.
        """
        n = len(self._corpus.texts)
        if n < self.BLEND_MIN or (self.counts >= 3).sum() < 2:
            return None
        # the sample and its folds follow the texts' hashes, never the rows' order
        texts = self._corpus.texts
        sample = np.sort(np.array(sorted(range(n), key=lambda i: stable_key(texts[i]))[: self.BLEND_SAMPLE]))
        folds = np.array([text_fold(texts[i], 3) for i in sample])
        y_sample = self._y[sample]
        best: tuple[float, float, np.ndarray] | None = None
        grid = self.C_GRID if (self.tune and n >= self.TUNE_MIN) else (self.C,)
        for C in grid:
            logits = np.zeros((len(sample), len(self.codes)))
            for f in range(3):
                train, held = sample[folds != f], sample[folds == f]
                coef, intercept = self._fit_all(self._features[train], self._y[train], C, self._w[train])
                logits[folds == f] = np.asarray(self._features[held] @ coef.T) + intercept
            quality = _ranking_quality(logits, y_sample)
            if best is None or quality > best[0] + 1e-9:
                best = (quality, C, logits)
        _, chosen, logits = best  # type: ignore[misc]
        self.C = chosen
        self._oof = (sample, logits)  # reused for the evidence weights and the calibration
        # each out-of-fold prediction came from a model that saw two thirds of the sample's codings
        x = self._blend_features(logits, self._codebook_train[sample], self._w[sample].sum(axis=0) * 2 / 3)
        y = y_sample.reshape(-1)
        if y.all() or not y.any():
            return None
        return LogisticRegression(C=1.0, random_state=self.random_state, max_iter=500).fit(x, y)

    # -- scoring ------------------------------------------------------------------------------------------------------

    def _neighbours(self, word: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices and cosine similarities of the k most similar coded answers (by words), per answer."""
        n_train = self._word.shape[0]
        k = min(k, n_train)
        index = np.zeros((word.shape[0], k), dtype=np.int64)
        sims = np.zeros((word.shape[0], k))
        train_t = self._word.T.tocsc()
        for start in range(0, word.shape[0], 1000):
            block = (word[start:start + 1000] @ train_t).toarray()
            if k < n_train:
                top = np.argpartition(-block, k - 1, axis=1)[:, :k]
            else:
                top = np.tile(np.arange(n_train), (block.shape[0], 1))
            top_sims = np.take_along_axis(block, top, axis=1)
            order = np.lexsort((top, -top_sims), axis=1)
            index[start:start + block.shape[0]] = np.take_along_axis(top, order, axis=1)
            sims[start:start + block.shape[0]] = np.take_along_axis(top_sims, order, axis=1)
        return index, sims

    def _scores(self, texts: Sequence[str], *, with_neighbours: bool = True,
                questions: Sequence[str | None] | None = None,
                vectors: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """All the parts of the score for each (answer, code): "raw" ranks, "score" is shown (calibrated)."""
        if not self._fitted:
            all_stems = [self.processor.stems(t) for t in texts]
            codebook = self._codebook_scores(all_stems)
            parts = {"codebook": codebook, "score": codebook}
            return self._evidence(parts, texts, all_stems, questions, vectors)
        codebook, all_stems, word, char = self._vectorise(texts)
        parts: dict[str, np.ndarray] = {"codebook": codebook}
        features = self._join(word, char)
        logit = np.asarray(features @ self._coef.T) + self._intercept
        model = _sigmoid(logit)
        parts.update(model=model, word=word)
        if self._blend is not None:
            x = self._blend_features(logit, codebook, self.counts.astype(float))
            score = self._blend.predict_proba(x)[:, 1].reshape(codebook.shape)
            # a code nobody has used yet can only be suggested from the codebook's words
            unused = self.counts == 0
            score[:, unused] = np.minimum(score[:, unused], codebook[:, unused])
        else:
            # too few codings to learn the blend: the model may add to the codebook's evidence, never dilute it
            weight = self.counts / (self.counts + self.prior_strength)
            score = 1 - (1 - codebook) * (1 - weight * model)
        parts["score"] = score
        if with_neighbours:
            parts["index"], parts["sims"] = self._neighbours(word, self.neighbours)
        return self._evidence(parts, texts, all_stems, questions, vectors)

    def _evidence(self, parts: dict[str, np.ndarray], texts: Sequence[str], all_stems: Sequence[list[str]],
                  questions: Sequence[str | None] | None, vectors: np.ndarray | None) -> dict[str, np.ndarray]:
        """Meaning, neighbours, the question, exclude guidance and calibration on top of the words' score."""
        meaning = knn = definition = None
        if self._prototypes is not None and len(texts):
            if vectors is None:
                vectors = self.embed(list(texts))
            vectors = np.asarray(vectors, dtype=np.float32)
            definition = self._meaning(vectors @ self._def_vectors.T)
            meaning = self._meaning(vectors @ self._prototypes.T) if self.weights[2] or self.weights[3] else definition
            parts["meaning"] = meaning
            parts["definition"] = definition
            if self.weights[3] and len(self._vectors) == self.n_coded and self.n_coded:
                knn = self._knn_scores(vectors, self._vectors, self._w)
                parts["knn"] = knn
        factor = self._question_factor(questions, self._question_counts, self._question_totals, self.counts)
        if factor is not None:
            parts["question"] = factor
        score = self._combine(parts["score"], definition, meaning, knn, factor, self._excluded(all_stems))
        parts["raw"] = score
        if self._calibrator is not None:
            shown = self._calibrator.predict(score.reshape(-1)).reshape(score.shape)
            parts["score"] = np.where(score > 0, np.maximum(shown, 1e-4), 0.0)
        else:
            parts["score"] = score
        return parts

    def score_matrix(self, texts: Sequence[str], questions: Sequence[str | None] | None = None) -> np.ndarray:
        """(answer x code) shown scores in [0, 1], columns in codebook order."""
        return self._scores(texts, questions=questions)["score"]

    def suggest(self, text: str, top_k: int = 3, exclude: Iterable[str] = (), *, question: str | None = None,
                min_score: float = 0.0, vector: np.ndarray | None = None) -> list[Suggestion]:
        """The top_k codes for one answer, best first, leaving out the codes named in `exclude` and those whose
        shown score is below `min_score` (the page passes MIN_SCORE)."""
        return self.suggest_many([text], top_k, exclude=exclude, questions=[question], min_score=min_score,
                                 vectors=None if vector is None else np.asarray(vector)[None, :])[0]

    def suggest_many(self, texts: Sequence[str], top_k: int = 3, exclude: Iterable[str] = (), *,
                     reasons: bool = True, questions: Sequence[str | None] | None = None,
                     vectors: np.ndarray | None = None, min_score: float = 0.0) -> list[list[Suggestion]]:
        """The top_k codes for each answer (vectorised: fine for 100,000 answers), ranked by the raw score and
        shown with the calibrated one; `questions` (one per answer, or None) are the questions they answered.

        reasons=False leaves each Suggestion's reason empty, for bulk output that does not show it (faster).
        """
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        texts = list(texts)
        if not texts or not self.codes:
            return [[] for _ in texts]
        if len(texts) > self.CHUNK:  # bounded memory: (answers x codes) arrays for one chunk at a time
            out: list[list[Suggestion]] = []
            for start in range(0, len(texts), self.CHUNK):
                out += self.suggest_many(texts[start:start + self.CHUNK], top_k, exclude, reasons=reasons,
                                         questions=None if questions is None else questions[start:start + self.CHUNK],
                                         vectors=None if vectors is None else vectors[start:start + self.CHUNK],
                                         min_score=min_score)
            return out
        parts = self._scores(texts, with_neighbours=reasons, questions=questions, vectors=vectors)
        raw = parts["raw"].copy()
        shown = parts["score"]
        for name in exclude:
            if name in self.index:
                raw[:, self.index[name]] = -1.0
        k = min(top_k, len(self.codes))
        # ties broken by codebook order, so results never depend on sort stability
        order = np.argsort(-raw, axis=1, kind="stable")[:, :k]
        top_raw = np.take_along_axis(raw, order, axis=1)
        score = np.where(top_raw > 0, np.take_along_axis(shown, order, axis=1), 0.0)
        score[score < min_score] = 0.0
        top_scores = np.round(score, 6).tolist()
        calibrated = self._calibrator is not None
        names = [c.name for c in self.codes]
        out: list[list[Suggestion]] = []
        for r, (codes, scores) in enumerate(zip(order.tolist(), top_scores, strict=True)):
            if is_placeholder(texts[r]):
                row = []
            elif reasons:
                row = [Suggestion(names[j], v, self._reason(texts[r], r, j, parts), calibrated)
                       for j, v in zip(codes, scores, strict=True) if v > 0.0]
            else:
                row = [Suggestion(names[j], v, "", calibrated) for j, v in zip(codes, scores, strict=True) if v > 0.0]
            out.append(row)
        return out

    # -- reasons ------------------------------------------------------------------------------------------------------

    def matched_words(self, text: str, code: str) -> list[tuple[str, str, str]]:
        """(what the answer said, the codebook word it matched, where in the code) for one code, strongest first."""
        j = self.index[code]
        words = self.processor.words(text)
        stems = [stem(w.text) for w in words]
        found: list[tuple[float, str, str, str]] = []
        seen: set[tuple[str, ...]] = set()
        for size in self._term_lengths:
            for i in range(len(stems) - size + 1):
                term = tuple(stems[i:i + size])
                match = self._matches[j].get(term)
                if match is None or term in seen:
                    continue
                seen.add(term)
                found.append((match.weight, _surface(words[i:i + size]), match.shown, match.field))
        found.sort(key=lambda m: (-m[0], m[1]))
        return [(said, shown, where) for _, said, shown, where in found]

    def _reason(self, text: str, r: int, j: int, parts: dict[str, np.ndarray]) -> str:
        pieces: list[tuple[float, str]] = []
        matched = self.matched_words(text, self.codes[j].name)[:3]
        codebook = float(parts["codebook"][r, j])
        if "model" in parts and self.counts[j] > 0:
            learned = float(parts["model"][r, j])
            if "index" in parts:
                similar = [int(i) for i, s in zip(parts["index"][r], parts["sims"][r], strict=True)
                           if s > 0 and self._y[int(i), j]][:2]
            else:
                similar = []
            if similar:
                quotes = ", ".join(f"“{_clip(self._corpus.texts[i])}”" for i in similar)
                pieces.append((learned, f"resembles coded answers {quotes}"))
            else:
                words = self._model_words(parts["word"][r], j, text)
                said = f" (words {', '.join(f'“{w}”' for w in words)})" if words else ""
                pieces.append((learned, f"learned from {int(self.positives[j])} coded answers{said}"))
        if "meaning" in parts:
            by_definition = float(parts["definition"][r, j]) * self.weights[1]
            by_examples = float(parts["meaning"][r, j]) * self.weights[2] if self.counts[j] > 0 else 0.0
            close, what = max((by_definition, "its definition"), (by_examples, "the answers coded with it"))
            if close >= 0.3 * max(self.weights[1], self.weights[2]):  # a cosine of 0.25 and more
                pieces.append((close, f"close in meaning to {what}"))
        if matched:
            seen: set[str] = set()
            described = []
            for said, shown, where in matched:
                if said not in seen:
                    seen.add(said)
                    described.append(_describe(said, shown, where))
            pieces.append((codebook, f"matched {', '.join(described)}"))
        if not pieces:
            return "weak match: no codebook word and no similar coded answer"
        pieces.sort(key=lambda p: -p[0])
        return "; ".join(p[1] for p in pieces)

    def _model_words(self, word_row: sp.csr_matrix, j: int, text: str) -> list[str]:
        """The answer's words that pushed code j's model up most (as typed)."""
        n_word = self._word.shape[1]
        row = word_row.tocsr()
        weights = row.data * self._coef[j, row.indices] if n_word else np.array([])
        names = self._word_vectoriser.get_feature_names_out() if self._feature_names is None else self._feature_names
        self._feature_names = names
        best = [names[row.indices[i]] for i in np.argsort(-weights, kind="stable")[:3] if weights[i] > 0]
        by_stem = {}
        for w in self.processor.words(text):
            by_stem.setdefault(stem(w.text), w.surface)
        shown = []
        for feature in best:
            said = " ".join(by_stem.get(part, part) for part in feature.split(" "))
            if said not in shown:
                shown.append(said)
        return shown


def _surface(words: Sequence[Word]) -> str:
    shown: list[str] = []
    for w in words:
        if not shown or shown[-1] != w.surface:
            shown.append(w.surface)
    return " ".join(shown)


def _describe(said: str, shown: str, where: str) -> str:
    if stem(said) == stem(shown) or said == shown:
        return f"“{said}” ({FIELD_NAMES[where]})"
    return f"“{said}” as “{shown}” ({FIELD_NAMES[where]})"


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def codes_from_rows(rows: Iterable[dict]) -> list[CodeInfo]:
    """CodeInfo from codebook rows with code/name, label, definition and keywords (';'-separated or a list)."""
    out: list[CodeInfo] = []
    for row in rows:
        keywords = row.get("keywords") or ()
        if isinstance(keywords, str):
            keywords = [k for k in keywords.split(";")]
        examples = row.get("examples") or ()
        if isinstance(examples, str):
            examples = [examples]
        out.append(CodeInfo(name=str(row.get("code") or row.get("name")), label=str(row.get("label") or ""),
                            definition=str(row.get("definition") or ""),
                            keywords=tuple(k.strip() for k in keywords if k and k.strip()),
                            examples=tuple(e for e in examples if e),
                            include=str(row.get("include") or row.get("include_guidance") or ""),
                            exclude=str(row.get("exclude") or row.get("exclude_guidance") or "")))
    return out
