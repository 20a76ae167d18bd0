"""Benchmark of the suggestion engine: quality on the held-out evaluation set, and speed at 100,000 answers.

Run: python bench/bench_suggest.py [--seeds N] [--answers N] [--codings N]
Quality: train on 60 %, test on 40 % of bench/data/suggest_eval.csv (seed 0, then the mean over N seeds):
recall@3 (share of the human codes found in the top 3) and precision@1 (top code is one of the human codes),
for the engine and, in the same run, a baseline: one-vs-rest logistic regression over plain tf-idf with C tuned
by cross-validation on the training part (no codebook words). Speed: suggest over synthetic unique answers
with a model fitted on synthetic codings, against a floor (the baseline's own vectorise+predict) measured here.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.preprocessing import MultiLabelBinarizer  # noqa: E402

from analysis.suggest import CodeInfo, Suggester, codes_from_rows  # noqa: E402

EVAL = ROOT / "bench" / "data" / "suggest_eval.csv"
CODEBOOK = ROOT / "analysis" / "resources" / "starter_codebook.csv"


def load_eval() -> list[tuple[str, list[str]]]:
    with EVAL.open(encoding="utf-8", newline="") as handle:
        return [(row["text"], row["codes"].split(";")) for row in csv.DictReader(handle)]


def load_codes() -> list[CodeInfo]:
    with CODEBOOK.open(encoding="utf-8", newline="") as handle:
        return codes_from_rows(csv.DictReader(handle))


def split(data: list, seed: int, train_share: float = 0.6) -> tuple[list, list]:
    order = list(range(len(data)))
    random.Random(seed).shuffle(order)
    cut = round(len(data) * train_share)
    return [data[i] for i in order[:cut]], [data[i] for i in order[cut:]]


def metrics(ranked: list[list[str]], gold: list[list[str]]) -> tuple[float, float]:
    """(recall@3, precision@1): found human codes / all human codes; share of answers whose first code is right."""
    found = sum(len(set(r[:3]) & set(g)) for r, g in zip(ranked, gold, strict=True))
    total = sum(len(set(g)) for g in gold)
    first = sum(1 for r, g in zip(ranked, gold, strict=True) if r and r[0] in g)
    return found / total, first / len(gold)


class Baseline:
    """One-vs-rest logistic regression over plain tf-idf (word unigrams+bigrams), C chosen by 3-fold CV."""

    GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)

    def __init__(self, seed: int = 0):
        self.seed = seed

    def _model(self, C: float):
        return OneVsRestClassifier(LogisticRegression(C=C, solver="liblinear", random_state=self.seed))

    def fit(self, train: list[tuple[str, list[str]]]) -> Baseline:
        texts = [t for t, _ in train]
        self.binarizer = MultiLabelBinarizer().fit([c for _, c in train])
        y = self.binarizer.transform([c for _, c in train])
        best = None
        for C in self.GRID:
            scores = []
            for tr, va in KFold(3, shuffle=True, random_state=self.seed).split(texts):
                vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
                x_tr = vec.fit_transform([texts[i] for i in tr])
                keep = y[tr].sum(axis=0) > 0
                if keep.sum() < 2:
                    continue
                model = self._model(C).fit(x_tr, y[tr][:, keep])
                probs = model.decision_function(vec.transform([texts[i] for i in va]))
                names = self.binarizer.classes_[keep]
                ranked = [[names[j] for j in np.argsort(-row, kind="stable")[:3]] for row in probs]
                r3, p1 = metrics(ranked, [train[i][1] for i in va])
                scores.append(r3 + p1)
            score = statistics.mean(scores) if scores else 0.0
            if best is None or score > best[0]:
                best = (score, C)
        self.C = best[1]
        self.vectoriser = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        self.model = self._model(self.C).fit(self.vectoriser.fit_transform(texts), y)
        return self

    def rank(self, texts: list[str], k: int = 3) -> list[list[str]]:
        scores = self.model.decision_function(self.vectoriser.transform(texts))
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return [[self.binarizer.classes_[j] for j in row] for row in order]


def engine_rank(codes: list[CodeInfo], train: list, test: list, **options) -> list[list[str]]:
    suggester = Suggester(codes, **options).fit(train)
    return [[s.code for s in row] for row in suggester.suggest_many([t for t, _ in test], top_k=3)]


def strip_codebook(codes: list[CodeInfo]) -> list[CodeInfo]:
    """The same codes with only a name and a label: how the engine fares when a codebook has no keywords."""
    return [CodeInfo(c.name, c.label) for c in codes]


def learned_only(codes: list[CodeInfo], train: list, test: list) -> list[list[str]]:
    """The engine with every codebook word hidden (codes renamed, no label): its learned model alone."""
    hidden = {c.name: f"code{i}" for i, c in enumerate(codes)}
    shown = {v: k for k, v in hidden.items()}
    anonymous = [CodeInfo(hidden[c.name], "") for c in codes]
    ranked = engine_rank(anonymous, [(t, [hidden[c] for c in cs]) for t, cs in train], test)
    return [[shown[c] for c in row] for row in ranked]


def quality(seeds: int) -> None:
    data = load_eval()
    codes = load_codes()
    systems = {
        "engine (codebook + learned)": lambda tr, te: engine_rank(codes, tr, te),
        "engine, labels only (no keywords/definitions)": lambda tr, te: engine_rank(strip_codebook(codes), tr, te),
        "engine, codebook only (no codings)": lambda tr, te: engine_rank(codes, [], te),
        "engine, learned model alone (no codebook words)": lambda tr, te: learned_only(codes, tr, te),
        "baseline: tuned OvR logistic regression, tf-idf": lambda tr, te: Baseline().fit(tr).rank([t for t, _ in te]),
    }
    print(f"Evaluation set: {len(data)} answers, {len({c for _, cs in data for c in cs})} codes, "
          f"{sum(len(cs) > 1 for _, cs in data)} with more than one code; train 60 % / test 40 %.")
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in systems}
    for seed in range(seeds):
        train, test = split(data, seed)
        for name, run in systems.items():
            results[name].append(metrics(run(train, test), [c for _, c in test]))
    width = max(len(n) for n in systems)
    print(f"{'system'.ljust(width)}  recall@3 (seed 0)  precision@1 (seed 0)  recall@3 (mean {seeds})  "
          f"precision@1 (mean {seeds})")
    for name, scores in results.items():
        r3 = statistics.mean(s[0] for s in scores)
        p1 = statistics.mean(s[1] for s in scores)
        print(f"{name.ljust(width)}  {scores[0][0]:17.3f}  {scores[0][1]:20.3f}  {r3:17.3f}  {p1:20.3f}")
    engine = results["engine (codebook + learned)"]
    base = results["baseline: tuned OvR logistic regression, tf-idf"]
    print(f"engine / baseline, mean recall@3: {statistics.mean(s[0] for s in engine) / statistics.mean(s[0] for s in base):.2f}"
          f"  precision@1: {statistics.mean(s[1] for s in engine) / statistics.mean(s[1] for s in base):.2f}"
          "  (targets: recall@3 >= 0.85, precision@1 >= 0.70)")

    # few codings: the codebook and lexicon must carry the early suggestions
    print("Learning curve (mean over seeds; test = the same 40 %):")
    for n in (0, 20, 50, 100, None):
        rows = []
        for seed in range(seeds):
            train, test = split(data, seed)
            part = train if n is None else train[:n]
            e = metrics(engine_rank(codes, part, test), [c for _, c in test])
            b = metrics(Baseline().fit(part).rank([t for t, _ in test]), [c for _, c in test]) if len(part) >= 20 \
                else (float("nan"), float("nan"))
            rows.append((e, b))
        label = f"{len(train) if n is None else n} coded"
        print(f"  {label:>10}: engine recall@3 {statistics.mean(r[0][0] for r in rows):.3f} "
              f"precision@1 {statistics.mean(r[0][1] for r in rows):.3f} | baseline recall@3 "
              f"{statistics.mean(r[1][0] for r in rows):.3f} precision@1 {statistics.mean(r[1][1] for r in rows):.3f}")


def synthetic(n: int, seed: int, data: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """Unique answers recombined from the evaluation set's fragments, typos and filler (no cache hits)."""
    rng = random.Random(seed)
    vocabulary = sorted({w for t, _ in data for w in t.lower().split()})
    out = []
    for i in range(n):
        picks = rng.sample(data, rng.choice((1, 1, 2)))
        words: list[str] = []
        for text, _ in picks:
            parts = text.split()
            start = rng.randrange(0, max(1, len(parts) - 3))
            words += parts[start:start + rng.randint(3, 9)]
        words += rng.sample(vocabulary, 2)
        j = rng.randrange(len(words))
        word = words[j]
        if len(word) > 4:  # a typo: drop or swap a letter
            k = rng.randrange(1, len(word) - 1)
            words[j] = word[:k] + word[k + 1:] if rng.random() < 0.5 else word[:k - 1] + word[k] + word[k - 1] + word[k + 1:]
        words.append(f"#{i}")
        out.append((" ".join(words), sorted({c for _, cs in picks for c in cs})))
    return out


def speed(answers: int, codings: int) -> None:
    data = load_eval()
    codes = load_codes()
    coded = synthetic(codings, 1, data)
    texts = [t for t, _ in synthetic(answers, 2, data)]
    print(f"Speed: {answers:,} unique answers, model fitted on {codings:,} codings, {len(codes)} codes, top 3. "
          f"Load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work slows every figure).")

    start = time.perf_counter()
    baseline = Baseline()
    baseline.C = 10.0
    baseline.binarizer = MultiLabelBinarizer().fit([c for _, c in coded])
    baseline.vectoriser = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    baseline.model = baseline._model(10.0).fit(baseline.vectoriser.fit_transform([t for t, _ in coded]),
                                              baseline.binarizer.transform([c for _, c in coded]))
    baseline.rank(texts)
    floor = time.perf_counter() - start
    print(f"  floor (plain tf-idf + OvR logistic regression: fit and rank, no reasons): {floor:.2f} s")

    start = time.perf_counter()
    suggester = Suggester(codes).fit(coded)
    fitted = time.perf_counter() - start
    start = time.perf_counter()
    results = suggester.suggest_many(texts, top_k=3, reasons=False)
    ranked = time.perf_counter() - start
    assert len(results) == answers and all(results), "every answer should get suggestions"
    total = fitted + ranked
    print(f"  engine (as the suggest command): fit {fitted:.2f} s + suggest {ranked:.2f} s = {total:.2f} s "
          f"(target <= 20 s; {total / floor:.1f}x the floor)")
    page = texts[:2000]
    start = time.perf_counter()
    suggester.suggest_many(page, top_k=3)
    with_reasons = time.perf_counter() - start
    print(f"  with reasons (nearest coded answers, matched words): {len(page):,} answers in {with_reasons:.2f} s "
          f"= {with_reasons / len(page) * 1000:.2f} ms per answer")

    extra = synthetic(30, 3, data)
    times = []
    for text, names in extra:
        start = time.perf_counter()
        suggester.add(text, names)
        times.append(time.perf_counter() - start)
    sample = suggester.suggest(extra[0][0])
    print(f"  update after one new coding (at {codings:,}): median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {len(times)} adds (target <= 200 ms)")
    print(f"    e.g. {sample[0]}")

    # a new project: codings arrive one by one from 50 to 350 (full refits up to FULL_REFIT_LIMIT, then in place)
    early = synthetic(350, 4, data)
    suggester = Suggester(codes).fit(early[:50])
    times = []
    for text, names in early[50:]:
        start = time.perf_counter()
        suggester.add(text, names)
        times.append(time.perf_counter() - start)
    print(f"  load average after: {os.getloadavg()[0]:.1f}")
    print(f"  update after one new coding (growing from 50 to 350): median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {len(times)} adds (target <= 200 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="train/test splits to average over")
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--codings", type=int, default=5_000)
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    quality(args.seeds)
    if not args.skip_speed:
        speed(args.answers, args.codings)


if __name__ == "__main__":
    main()
