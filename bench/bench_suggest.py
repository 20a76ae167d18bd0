"""Benchmark of the suggestion engine: learning curves on answers nobody here wrote, calibration, and speed.

Run: python bench/bench_suggest.py [--quick] [--splits N] [--sets heldout,nhs,old] [--max-coded N] [--skip-speed]
Quality runs through the same path as the `cli.py codebook import`, `codings import` and `suggest` commands, as
core functions: a fresh database per set gets the answers (import_responses) and the codebook
(import_codebook_csv); for each split and each number of coded answers a copy of it gets those codings
(import_codings_csv, by external id) and suggest_uncoded ranks the split's test answers. Figures: recall@3 (share of
the human codes found in the top 3) and precision@1 (top code is a human code), mean and range over the splits,
beside a tuned one-vs-rest logistic regression over tf-idf (no codebook words) fitted on the same coded answers.
Sets:
- heldout: bench/data/suggest_heldout/ (200 answers written before their codebook of labels and one-line
  definitions; 40 % test);
- nhs: ../shared/datasets/nhs-phase1/text_data.csv (real NHS comments, one human sub-category each; 1,000 test);
- old: bench/data/suggest_eval.csv with the starter codebook (written beside it: a regression set only).
Calibration: a reliability table of the scores shown (top 3) against how often they were right.
Speed: suggest over synthetic unique answers with a model fitted on synthetic codings, against a floor.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# the bench stores every vector itself, once per set (Project); no background top-up racing it
os.environ.setdefault("THRIVE_EMBED_BACKGROUND", "0")

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.preprocessing import MultiLabelBinarizer  # noqa: E402

from analysis.suggest import Suggester, codes_from_rows  # noqa: E402

EVAL = ROOT / "bench" / "data" / "suggest_eval.csv"
CODEBOOK = ROOT / "analysis" / "resources" / "starter_codebook.csv"
HELDOUT = ROOT / "bench" / "data" / "suggest_heldout"
NHS = ROOT.parent / "shared" / "datasets" / "nhs-phase1" / "text_data.csv"
SIZES = (10, 25, 50, 100, 200, 500, 1000, 3000)

#: the held-out set measured once with the engine as it was before any change made for it (commit f2d9f7e, the
#: engine of 42aa021), 5 splits, 40 % test, through import + suggest_uncoded, scored over the answers screening did not
#: withhold: (recall@3, precision@1) by number of coded answers. With the withheld counted as misses: 0.450 / 0.398 at 120
FIRST_MEASURED_DATE = "2026-12-01"
FIRST_MEASURED: dict[int, tuple[float, float]] = {10: (0.401, 0.374), 25: (0.423, 0.397), 50: (0.458, 0.408),
                                                  100: (0.467, 0.412), 120: (0.524, 0.458)}


@dataclass(frozen=True)
class Answer:
    id: str
    question: str
    group: str
    text: str
    codes: tuple[str, ...]


@dataclass
class EvalSet:
    name: str
    answers: list[Answer]
    codebook_csv: bytes
    test_size: int  # answers held out per split
    note: str = ""


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def load_heldout() -> EvalSet:
    with (HELDOUT / "answers.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    codes: dict[str, list[str]] = {}
    with (HELDOUT / "codings.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            codes.setdefault(row["response_id"], []).append(row["code"])
    answers = [Answer(r["id"], r["question"], r["group"], r["text"], tuple(codes[r["id"]])) for r in rows]
    return EvalSet("heldout", answers, (HELDOUT / "codebook.csv").read_bytes(), round(len(answers) * 0.4))


def load_old() -> EvalSet:
    with EVAL.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    groups = {"parent": "parent_carer", "young_person": "young_person", "practitioner": "practitioner"}
    answers = [Answer(r["id"], r["question"], groups.get(r["voice"], "resident"), r["text"],
                      tuple(r["codes"].split(";"))) for r in rows]
    return EvalSet("old", answers, CODEBOOK.read_bytes(), round(len(answers) * 0.4),
                   "written beside the starter codebook: a regression set only")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60]


def load_nhs(test_size: int = 1000) -> EvalSet | None:
    """The NHS comments with one human sub-category each; Q1 (what was good) is asked as thrive_helps, Q2 (what
    could be better) as thrive_stops. The codebook has the sub-category as label and its group as definition."""
    if not NHS.exists():
        return None
    import pandas as pd

    frame = pd.read_csv(NHS)
    frame = frame[frame["feedback"].notna() & frame["subcategory"].notna()]
    frame = frame[frame["feedback"].astype(str).str.strip() != ""]
    answers = []
    for i, row in enumerate(frame.itertuples(index=False)):
        question = "thrive_helps" if str(row.question).endswith("Q1") else "thrive_stops"
        # the importer refuses answers over 2,000 characters: three comments are cut to that
        answers.append(Answer(f"n{i:05d}", question, "resident", str(row.feedback)[:2000], (_slug(row.subcategory),)))
    groups = frame.groupby("subcategory")["label"].first()
    codebook = _csv_bytes(["code", "label", "definition"],
                          [[_slug(sub), sub, f"Part of {group}."] for sub, group in sorted(groups.items())])
    return EvalSet("nhs", answers, codebook, test_size)


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


# -- the path the judges use: import answers, codebook, codings; suggest ------------------------------------------

class Project:
    """One evaluation set in a database of its own (answers and codebook imported once); each run copies it."""

    def __init__(self, evalset: EvalSet, folder: Path):
        from data import open_db
        from data.codebook import import_codebook_csv
        from data.importer import import_responses
        from data.users import cli_user

        self.evalset = evalset
        self.folder = folder
        self.user = cli_user()
        self.template = folder / f"{evalset.name}.db"
        db = open_db(self.template)
        body = _csv_bytes(["id", "question", "group", "text"],
                          [[a.id, a.question, a.group, a.text] for a in evalset.answers])
        import_responses(db, self.user, body, f"{evalset.name}.csv", event=f"bench {evalset.name}")
        import_codebook_csv(db, self.user, evalset.codebook_csv, "codebook.csv")
        # every answer's sentence vector is computed once here and stored, as the app does after an import
        # (data.embeddings); each run's suggester reads them instead of embedding the texts again
        self.embedded = 0
        self.embed_seconds = 0.0
        from analysis import embeddings
        if embeddings.available():
            from data.embeddings import ensure_embeddings
            start = time.perf_counter()
            self.embedded = ensure_embeddings(db)
            self.embed_seconds = time.perf_counter() - start
        self.response_ids = dict(db.execute("SELECT external_id, id FROM responses").fetchall())
        from data.flags import withheld_sql
        self.withheld = {row[0] for row in db.execute(f"SELECT r.external_id FROM responses r WHERE {withheld_sql('r')}")}
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.conn.close()

    def run(self, train: list[Answer], test: list[Answer]) -> tuple[list[list[str]], list[list[float]], float]:
        """Rankings (codes, scores) of the test answers after importing the training answers' codings."""
        from data import open_db
        from data.coding import import_codings_csv
        from data.suggestions import suggest_uncoded

        path = self.folder / "run.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.template, path)
        db = open_db(path)
        codings = _csv_bytes(["response_id", "code", "coder"],
                             [[a.id, c, "officer"] for a in train for c in a.codes])
        start = time.perf_counter()
        import_codings_csv(db, self.user, codings, "codings.csv")
        rows = suggest_uncoded(db, self.user, 3, response_ids={self.response_ids[a.id] for a in test})
        took = time.perf_counter() - start
        db.conn.close()
        by_answer: dict[str, list[tuple[int, str, float]]] = {}
        for row in rows:
            by_answer.setdefault(row["external_id"], []).append((row["rank"], row["code"], row["score"]))
        ranked, scores = [], []
        for a in test:
            found = sorted(by_answer.get(a.id, []))
            ranked.append([c for _, c, _ in found])
            scores.append([s for _, _, s in found])
        return ranked, scores, took


def splits(evalset: EvalSet, n_splits: int) -> list[tuple[list[Answer], list[Answer]]]:
    """(training pool, test) per split; the pool's order is the order codings arrive in (nested sizes)."""
    out = []
    for seed in range(n_splits):
        order = list(evalset.answers)
        random.Random(seed).shuffle(order)
        out.append((order[evalset.test_size:], order[:evalset.test_size]))
    return out


def curve_sizes(pool: int, sizes: tuple[int, ...]) -> list[int]:
    chosen = [n for n in sizes if n < pool]
    return chosen + [pool] if pool <= max(sizes) else chosen + [max(sizes)] if max(sizes) not in chosen else chosen


def _fmt(values: list[float]) -> str:
    return f"{statistics.mean(values):.3f} [{min(values):.2f}-{max(values):.2f}]"


def learning_curve(project: Project, n_splits: int, sizes: tuple[int, ...], calibration: list) -> dict[int, tuple]:
    evalset = project.evalset
    parts = splits(evalset, n_splits)
    pool = len(parts[0][0])
    held = sum(1 for a in parts[0][1] if a.id in project.withheld)
    print(f"\n== {evalset.name}: {len(evalset.answers)} answers, {len({c for a in evalset.answers for c in a.codes})} "
          f"codes in use, {sum(len(a.codes) > 1 for a in evalset.answers)} with two or more; test {evalset.test_size} "
          f"per split, {n_splits} splits; withheld by screening (never suggested for) {len(project.withheld)} of all, "
          f"{held} of split 0's test. {evalset.note}")
    print("Scored over the test answers that screening did not withhold (a withheld answer gets no suggestion by "
          "design); 'all' counts the withheld ones as misses.")
    print(f"{'coded':>6}  {'engine recall@3':>22}  {'engine precision@1':>22}  {'LR recall@3':>22}  "
          f"{'LR precision@1':>22}  {'engine, all':>12}  suggest s")
    out = {}
    for n in curve_sizes(pool, sizes):
        engine, base, took, everything = [], [], [], []
        for index, (train_pool, test_all) in enumerate(parts):
            train = train_pool[:n]
            ranked, scores, seconds = project.run(train, test_all)
            everything.append(metrics(ranked, [list(a.codes) for a in test_all]))
            keep = [i for i, a in enumerate(test_all) if a.id not in project.withheld]
            test = [test_all[i] for i in keep]
            ranked, scores = [ranked[i] for i in keep], [scores[i] for i in keep]
            gold = [list(a.codes) for a in test]
            engine.append(metrics(ranked, gold))
            took.append(seconds)
            if n == min(pool, max(sizes)) or index == 0 and n == curve_sizes(pool, sizes)[-1]:
                for r, s, g in zip(ranked, scores, gold, strict=True):
                    calibration.extend((score, code in g) for code, score in zip(r, s, strict=True))
            if len({c for a in train for c in a.codes}) >= 2:
                base.append(metrics(Baseline().fit([(a.text, list(a.codes)) for a in train]).rank(
                    [a.text for a in test]), gold))
        row = (statistics.mean(e[0] for e in engine), statistics.mean(e[1] for e in engine))
        out[n] = row
        lr = (_fmt([b[0] for b in base]), _fmt([b[1] for b in base])) if base else ("-", "-")
        alls = f"{statistics.mean(e[0] for e in everything):.3f}/{statistics.mean(e[1] for e in everything):.3f}"
        print(f"{n:>6}  {_fmt([e[0] for e in engine]):>22}  {_fmt([e[1] for e in engine]):>22}  {lr[0]:>22}  "
              f"{lr[1]:>22}  {alls:>12}  {statistics.mean(took):.2f}", flush=True)
    return out


def reliability(name: str, pairs: list[tuple[float, bool]]) -> None:
    """How often a shown score was right, by score band (a shown 0.8 should be right about 80 % of the time)."""
    if not pairs:
        return
    print(f"Reliability of shown scores ({name}, top 3 at the largest size, all splits): band, shown, mean score, "
          "right")
    edges = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001]
    scores = np.array([p[0] for p in pairs])
    right = np.array([p[1] for p in pairs], dtype=float)
    for low, high in zip(edges, edges[1:], strict=False):
        mask = (scores >= low) & (scores < high)
        if mask.any():
            print(f"  {low:.1f}-{min(high, 1.0):.1f}  {int(mask.sum()):>6}  {scores[mask].mean():.3f}  "
                  f"{right[mask].mean():.3f}")
    brier = float(((scores - right) ** 2).mean())
    print(f"  Brier score {brier:.3f} over {len(pairs)} shown suggestions")


def quality(set_names: list[str], n_splits: int, sizes: tuple[int, ...]) -> None:
    loaders = {"heldout": load_heldout, "nhs": load_nhs, "old": load_old}
    with tempfile.TemporaryDirectory() as folder:
        for name in set_names:
            evalset = loaders[name]()
            if evalset is None:
                print(f"\n== {name}: skipped: {NHS} is absent (../shared/datasets is not beside this clone)")
                continue
            start = time.perf_counter()
            project = Project(evalset, Path(folder))
            print(f"(imported {len(evalset.answers):,} answers in {time.perf_counter() - start:.1f} s; "
                  f"{project.embedded:,} sentence vectors stored in {project.embed_seconds:.1f} s of that"
                  + ("" if project.embedded else ": embeddings unavailable, words only") + ")")
            calibration: list[tuple[float, bool]] = []
            curve = learning_curve(project, n_splits, sizes, calibration)
            if name == "heldout" and FIRST_MEASURED:
                print(f"First measured on this set ({FIRST_MEASURED_DATE}, the engine before issue 10's changes):")
                for n, (r3, p1) in FIRST_MEASURED.items():
                    now = curve.get(n)
                    shown = f"; now {now[0]:.3f} / {now[1]:.3f}" if now else ""
                    print(f"  {n:>6} coded: recall@3 {r3:.3f} / precision@1 {p1:.3f}{shown}")
            reliability(name, calibration)


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
    data = [(a.text, list(a.codes)) for a in load_old().answers]
    with CODEBOOK.open(encoding="utf-8", newline="") as handle:
        codes = codes_from_rows(csv.DictReader(handle))
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


def sample_cost(coded: int, limits: list[int], n_splits: int) -> None:
    """What the bounded training sample taken at scale (Suggester.TRAIN_MAX, stratified by code) costs, on real
    text: the engine (words and codings only, no sentence vectors, so it runs in minutes) fitted on `coded` NHS
    comments, then on a sample of each size in `limits` drawn from them, ranking the same 1,000 test comments."""
    evalset = load_nhs()
    if evalset is None:
        print(f"sample cost: skipped ({NHS} is absent)")
        return
    codes = codes_from_rows(csv.DictReader(io.StringIO(evalset.codebook_csv.decode("utf-8"))))
    print(f"\n== sample cost on nhs: {coded:,} coded answers, words only, {n_splits} split(s); "
          "recall@3 / precision@1 / fit CPU s")
    results: dict[int, list[tuple[float, float, float]]] = {}
    for pool, test in splits(evalset, n_splits):
        rows = [(a.text, list(a.codes), a.question) for a in pool[:coded]]
        for limit in [coded, *limits]:
            suggester = Suggester(codes)
            suggester.TRAIN_MAX = limit
            started = time.process_time()
            suggester.fit(rows)
            seconds = time.process_time() - started
            ranked = [[x.code for x in row] for row in suggester.suggest_many(
                [a.text for a in test], top_k=3, reasons=False, questions=[a.question for a in test])]
            results.setdefault(limit, []).append((*metrics(ranked, [list(a.codes) for a in test]), seconds))
    for limit, got in results.items():
        label = "all" if limit == coded else f"sample {limit:,}"
        print(f"  {label:>14}: {statistics.mean(g[0] for g in got):.3f} / {statistics.mean(g[1] for g in got):.3f}"
              f" / {statistics.mean(g[2] for g in got):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 splits, sizes up to 500, speed at 20,000 answers")
    parser.add_argument("--splits", type=int, default=None, help="train/test splits per size (default 5)")
    parser.add_argument("--sets", default="heldout,nhs,old", help="comma-separated: heldout, nhs, old")
    parser.add_argument("--answers", type=int, default=None)
    parser.add_argument("--codings", type=int, default=5_000)
    parser.add_argument("--max-coded", type=int, default=None, help="largest number of coded answers on a curve")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--sample-cost", action="store_true",
                        help="only: what the training sample taken at scale costs on 3,000 NHS comments (words only)")
    parser.add_argument("--train-max", type=int, default=None,
                        help="learn from at most this many coded answers (Suggester.TRAIN_MAX, a sample stratified "
                             "by code): set below the curve's sizes to see what the sample taken at scale costs")
    args = parser.parse_args()
    if args.sample_cost:
        sample_cost(3000, [1500, 1000], args.splits or 2)
        return
    if args.train_max:
        Suggester.TRAIN_MAX = args.train_max
        print(f"Suggester.TRAIN_MAX = {args.train_max:,}: larger training sets are sampled, stratified by code")
    n_splits = args.splits or (2 if args.quick else 5)
    sizes = tuple(n for n in SIZES if n <= 500) if args.quick else SIZES
    if args.max_coded:
        sizes = tuple(n for n in sizes if n <= args.max_coded) or (args.max_coded,)
    print(f"Load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work slows timings).")
    if not args.skip_quality:
        quality([s.strip() for s in args.sets.split(",") if s.strip()], n_splits, sizes)
    if not args.skip_speed:
        speed(args.answers or (20_000 if args.quick else 100_000), args.codings)


if __name__ == "__main__":
    main()
