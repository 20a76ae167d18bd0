"""The suggestion engine: scores every code of the codebook for an answer, with a reason a person can check.

Two sources of evidence are blended per code: the codebook's own words (keywords, label, definition, examples,
matched after the same normalisation, with the slang lexicon) and a model learned from the codings made so far
(one-vs-rest logistic regression over tf-idf of stemmed unigrams+bigrams and character n-grams, plus the nearest
coded answers by cosine). The more codings a code has, the more its score rests on the learned model.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
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


@dataclass(frozen=True)
class Suggestion:
    """One suggested code for an answer: score in [0, 1] (higher is better) and why."""

    code: str
    score: float
    reason: str


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


def _identity(items: list[str]) -> list[str]:
    return items


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -35, 35)))


class Suggester:
    """Suggests codes for answers from the codebook's words and the codings made so far.

    `fit` learns from coded answers, `add` takes one new coding (cheap), `suggest` / `suggest_many` rank codes.
    Deterministic: the same codebook and codings give the same suggestions.
    """

    #: with at most this many coded answers, `add` refits everything (it is cheap); above, it updates in place
    FULL_REFIT_LIMIT = 300

    def __init__(self, codes: Sequence[CodeInfo], *, prior_strength: float = 4.0, C: float = 8.0,
                 neighbours: int = 10, model_share: float = 0.6, char_weight: float = 1.0,
                 random_state: int = 0):
        names = [c.name for c in codes]
        duplicates = sorted(n for n, k in Counter(names).items() if k > 1)
        if duplicates:
            raise ValueError(f"codes named more than once: {', '.join(duplicates)}")
        self.codes: list[CodeInfo] = list(codes)
        self.index = {c.name: i for i, c in enumerate(self.codes)}
        self.prior_strength = prior_strength
        self.C = C
        self.neighbours = neighbours
        self.model_share = model_share
        self.char_weight = char_weight
        self.random_state = random_state
        self.processor = TextProcessor(self._codebook_words())
        self._build_matcher()
        self._corpus = _Corpus()
        self._fitted = False
        self.counts = np.zeros(len(self.codes), dtype=np.int64)

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

    def _term_matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Binary (answer x codebook term) matrix: which codebook words and phrases each answer contains."""
        indptr, indices = [0], []
        terms, lengths = self._terms, self._term_lengths
        for text in texts:
            stems = self.processor.stems(text)
            seen: set[int] = set()
            for size in lengths:
                for i in range(len(stems) - size + 1):
                    j = terms.get(tuple(stems[i:i + size]))
                    if j is not None:
                        seen.add(j)
            indices.extend(sorted(seen))
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float64)
        return sp.csr_matrix((data, indices, indptr), shape=(len(texts), self._term_code.shape[0]))

    def codebook_scores(self, texts: Sequence[str]) -> np.ndarray:
        """(answer x code) scores in [0, 1] from the codebook's words alone."""
        evidence = (self._term_matrix(texts) @ self._term_code).toarray()
        return 1.0 - np.exp(-evidence)

    # -- learning from codings ----------------------------------------------------------------------------------------

    def fit(self, coded: Iterable[tuple[str, Sequence[str]]]) -> Suggester:
        """Learn from coded answers: (text, [code names]). Codes not in the codebook are ignored."""
        self._corpus = _Corpus()
        for text, names in coded:
            self._corpus.texts.append(text)
            self._corpus.labels.append(frozenset(self.index[n] for n in names if n in self.index))
        self._refit()
        return self

    def add(self, text: str, code_names: Sequence[str]) -> None:
        """Learn from one newly coded answer without refitting everything (codes it names are refitted)."""
        labels = frozenset(self.index[n] for n in code_names if n in self.index)
        self._corpus.texts.append(text)
        self._corpus.labels.append(labels)
        if not self._fitted or len(self._corpus.texts) <= self.FULL_REFIT_LIMIT:
            self._refit()
            return
        word, char = self._vectorise([text])
        self._word = sp.vstack([self._word, word], format="csr")
        self._features = sp.vstack([self._features, self._join(word, char)], format="csr")
        for j in labels:
            self.counts[j] += 1
        self._y = sp.vstack([self._y, self._label_row(labels)], format="csc")
        # only the codes this answer has are refitted; the others saw one more negative answer and are at most
        # that one answer stale until the next fit() or refresh()
        for j in labels:
            self._fit_code(j)

    def refresh(self) -> None:
        """Refit everything from the answers learned so far (after many `add` calls)."""
        self._refit()

    @property
    def n_coded(self) -> int:
        """How many coded answers the model has learned from."""
        return len(self._corpus.texts)

    def _label_row(self, labels: frozenset[int]) -> sp.csr_matrix:
        cols = sorted(labels)
        return sp.csr_matrix((np.ones(len(cols)), ([0] * len(cols), cols)), shape=(1, len(self.codes)))

    def _refit(self) -> None:
        texts, labels = self._corpus.texts, self._corpus.labels
        self.counts = np.zeros(len(self.codes), dtype=np.int64)
        for ls in labels:
            for j in ls:
                self.counts[j] += 1
        if not texts or not self.counts.any():
            self._fitted = False
            return
        # frequent words of coded answers become spelling targets too (before the vectorisers see any text)
        frequent = Counter(w.text for t in texts for w in self.processor.words(t) if w.how == "")
        self.processor.add_vocabulary(w for w, k in frequent.items() if k >= 3)
        analysed = [self.processor.features(t) for t in texts]
        plain = [self.processor.normalised(t) for t in texts]
        self._word_vectoriser = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, dtype=np.float64)
        self._char_vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                                min_df=2 if len(texts) >= 500 else 1, dtype=np.float64)
        self._word = self._word_vectoriser.fit_transform(analysed).tocsr()
        char = self._char_vectoriser.fit_transform(plain).tocsr()
        self._features = self._join(self._word, char)
        rows = [i for i, ls in enumerate(labels) for _ in ls]
        cols = [j for ls in labels for j in sorted(ls)]
        self._y = sp.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), len(self.codes)))
        n_features = self._features.shape[1]
        self._coef = np.zeros((len(self.codes), n_features))
        self._intercept = np.full(len(self.codes), -35.0)
        for j in range(len(self.codes)):
            self._fit_code(j)
        self._fitted = True

    def _join(self, word: sp.csr_matrix, char: sp.csr_matrix) -> sp.csr_matrix:
        joined = sp.hstack([word, char * self.char_weight], format="csr")
        return normalize(joined)

    def _vectorise(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        word = self._word_vectoriser.transform([self.processor.features(t) for t in texts]).tocsr()
        char = self._char_vectoriser.transform([self.processor.normalised(t) for t in texts]).tocsr()
        return word, char

    def _fit_code(self, j: int) -> None:
        """Fit code j's binary classifier (a constant when all or none of the answers have it)."""
        y = self._y[:, j].toarray().ravel()
        positives = int(y.sum())
        if positives == 0 or positives == len(y):
            self._coef[j] = 0.0
            self._intercept[j] = 35.0 if positives else -35.0
            return
        model = LogisticRegression(C=self.C, solver="liblinear", random_state=self.random_state, max_iter=200)
        model.fit(self._features, y)
        self._coef[j] = model.coef_[0]
        self._intercept[j] = model.intercept_[0]

    # -- scoring ------------------------------------------------------------------------------------------------------

    def _neighbours(self, word: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices and cosine similarities of the k most similar coded answers (by words), per answer."""
        n_train = self._word.shape[0]
        k = min(k, n_train)
        index = np.zeros((word.shape[0], k), dtype=np.int64)
        sims = np.zeros((word.shape[0], k))
        train_t = self._word.T.tocsc()
        for start in range(0, word.shape[0], 2000):
            block = (word[start:start + 2000] @ train_t).toarray()
            top = np.argpartition(-block, k - 1, axis=1)[:, :k] if k < n_train else np.tile(np.arange(n_train),
                                                                                             (block.shape[0], 1))
            top_sims = np.take_along_axis(block, top, axis=1)
            order = np.lexsort((top, -top_sims), axis=1)
            index[start:start + block.shape[0]] = np.take_along_axis(top, order, axis=1)
            sims[start:start + block.shape[0]] = np.take_along_axis(top_sims, order, axis=1)
        return index, sims

    def _scores(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """All the parts of the score for each (answer, code)."""
        codebook = self.codebook_scores(texts)
        parts: dict[str, np.ndarray] = {"codebook": codebook}
        if not self._fitted:
            parts["score"] = codebook
            return parts
        word, char = self._vectorise(texts)
        features = self._join(word, char)
        model = _sigmoid(np.asarray(features @ self._coef.T) + self._intercept)
        index, sims = self._neighbours(word, self.neighbours)
        y = self._y.tocsr()
        votes = np.zeros_like(model)
        for r in range(index.shape[1]):
            votes += y[index[:, r]].toarray() * sims[:, r:r + 1]
        total = sims.sum(axis=1, keepdims=True)
        knn = np.divide(votes, total, out=np.zeros_like(votes), where=total > 0)
        learned = self.model_share * model + (1 - self.model_share) * knn
        weight = self.counts / (self.counts + self.prior_strength)
        parts.update(model=model, knn=knn, learned=learned, index=index, sims=sims,
                     score=weight * learned + (1 - weight) * codebook)
        return parts

    def score_matrix(self, texts: Sequence[str]) -> np.ndarray:
        """(answer x code) blended scores in [0, 1], columns in codebook order."""
        return self._scores(texts)["score"]

    def suggest(self, text: str, top_k: int = 3, exclude: Iterable[str] = ()) -> list[Suggestion]:
        """The top_k codes for one answer, best first, leaving out the codes named in `exclude`."""
        return self.suggest_many([text], top_k, exclude=exclude)[0]

    def suggest_many(self, texts: Sequence[str], top_k: int = 3, exclude: Iterable[str] = ()) -> list[list[Suggestion]]:
        """The top_k codes for each answer (vectorised: fine for 100,000 answers)."""
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        texts = list(texts)
        if not texts or not self.codes:
            return [[] for _ in texts]
        parts = self._scores(texts)
        score = parts["score"].copy()
        for name in exclude:
            if name in self.index:
                score[:, self.index[name]] = -1.0
        k = min(top_k, len(self.codes))
        # ties broken by codebook order, so results never depend on sort stability
        order = np.argsort(-score, axis=1, kind="stable")[:, :k]
        out: list[list[Suggestion]] = []
        for r, text in enumerate(texts):
            row: list[Suggestion] = []
            for j in order[r]:
                if score[r, j] <= 0.0:
                    break
                row.append(Suggestion(self.codes[j].name, float(round(score[r, j], 6)), self._reason(text, r, j, parts)))
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
        pieces: list[str] = []
        matched = self.matched_words(text, self.codes[j].name)[:3]
        codebook_share = 1.0
        if "learned" in parts:
            weight = self.counts[j] / (self.counts[j] + self.prior_strength)
            codebook_share = (1 - weight) * parts["codebook"][r, j]
            learned_share = weight * parts["learned"][r, j]
            similar = [int(i) for i, s in zip(parts["index"][r], parts["sims"][r], strict=True)
                       if s > 0 and self._y[int(i), j] > 0][:2]
            if learned_share > 0.01:
                if similar:
                    quotes = ", ".join(f"“{_clip(self._corpus.texts[i])}”" for i in similar)
                    learned = f"resembles coded answers {quotes}"
                else:
                    learned = f"learned from {int(self.counts[j])} coded answers"
                pieces.append((learned_share, learned))  # type: ignore[arg-type]
        if matched:
            said = ", ".join(_describe(s, shown, where) for s, shown, where in matched)
            pieces.append((codebook_share, f"matched {said}"))  # type: ignore[arg-type]
        if not pieces:
            return "weak match: no codebook word and no similar coded answer"
        pieces.sort(key=lambda p: -p[0])  # type: ignore[index]
        return "; ".join(p[1] for p in pieces)  # type: ignore[index]


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
