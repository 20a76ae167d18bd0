"""Sentence embeddings: speed of the shipped int8 model on post-it-length answers, storage, and agreement with fp32.

Run: python bench/bench_embeddings.py [--answers 2000] [--fp32 PATH] [--store 20000]
Answers: the NHS comments of ../shared/datasets/nhs-phase1/text_data.csv of at most 120 characters (real text
nobody here wrote, about post-it length), cycled to --answers; without ../shared, generated short phrases.
Figures: tokenising only (the floor: what any model must at least do), embed() at batch 64 with onnxruntime on 1
and 2 intra-op threads, and one answer at a time (a new answer's cost), in answers per second of wall time and of
this process's CPU time (the machine is shared: CPU time is the steadier figure); the time to embed 100,000
answers extrapolated; ensure_embeddings into a database of --store answers (embedding plus storing) and
load_embeddings of all of them (what the suggester reads); float16 storage against float32 (cosine between
answers); and, given --fp32 (the fp32 model written by `python scripts/build_embedding_model.py --fp32-out PATH`),
the int8 model's agreement with fp32: cosine of each answer's two vectors and of the pairwise similarities.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from analysis import embeddings as emb  # noqa: E402

NHS = ROOT.parent / "shared" / "datasets" / "nhs-phase1" / "text_data.csv"


def answers(n: int) -> tuple[list[str], str]:
    if NHS.exists():
        with open(NHS, encoding="utf-8", newline="") as f:
            texts = [r["feedback"].strip() for r in csv.DictReader(f) if 0 < len((r["feedback"] or "").strip()) <= 120]
        source = f"{len(texts):,} NHS comments of <= 120 characters"
    else:
        words = "safe parks youth club nan school bus food money lonely friends police doctor help clean streets".split()
        rng = random.Random(1)
        texts = [" ".join(rng.choice(words) for _ in range(rng.randint(2, 12))) for _ in range(500)]
        source = "generated phrases (../shared absent)"
    return [texts[i % len(texts)] for i in range(n)], source


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run_session(sess, tok, texts: list[str], batch: int = 64) -> np.ndarray:
    out = []
    order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
    result = np.zeros((len(texts), emb.DIM), dtype=np.float32)
    for start in range(0, len(order), batch):
        rows = order[start : start + batch]
        enc = tok.encode_batch([texts[i] for i in rows])
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        result[rows] = sess.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask})[0]
        out.append(len(rows))
    return result


def rate(n: int, wall: float, cpu: float) -> str:
    return f"{n / wall:8,.0f}/s wall {n / cpu:8,.0f}/s CPU"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=int, default=2000)
    ap.add_argument("--store", type=int, default=20000, help="answers in the storage run (0: skip)")
    ap.add_argument("--fp32", type=Path, help="fp32 model.onnx from scripts/build_embedding_model.py --fp32-out")
    args = ap.parse_args()
    if not emb.available():
        print("embeddings unavailable:", emb.unavailable_reason())
        return 1
    texts, source = answers(args.answers)
    print(f"{args.answers:,} answers from {source}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"model {emb.MODEL_ID}, {(emb.model_dir() / 'model.onnx').stat().st_size / 1e6:.1f} MB; embed() uses "
          f"{emb.THREADS} thread(s)")
    emb.embed(texts[:64])  # load the session and tokenizer once
    session_, tok = emb._load(emb.model_dir())
    tokens = [sum(e.attention_mask) for e in tok.encode_batch(texts)]
    print(f"tokens per answer: median {int(np.median(tokens))}, max {max(tokens)}")

    _, wall, cpu = timed(lambda: [tok.encode_batch(texts[i : i + 64]) for i in range(0, len(texts), 64)])
    floor = len(texts) / cpu
    print(f"floor, tokenising only          {rate(len(texts), wall, cpu)}")
    best = None
    for threads in (1, 2):
        sess = session(emb.model_dir() / "model.onnx", threads)
        run_session(sess, tok, texts[:64])
        _, wall, cpu = timed(lambda s=sess: run_session(s, tok, texts))
        print(f"batch 64, {threads} thread(s)            {rate(len(texts), wall, cpu)}   "
              f"100,000 answers: {100_000 / len(texts) * wall / 60:5.1f} min wall; {cpu / wall:.2f} cores busy")
        if threads == emb.THREADS:
            best = (wall, cpu)
    _, wall, cpu = timed(lambda: emb.embed(texts))
    print(f"embed(), batch 64               {rate(len(texts), wall, cpu)}   "
          f"100,000 answers: {100_000 / len(texts) * wall / 60:5.1f} min wall, "
          f"{100_000 / len(texts) * cpu / 60:5.1f} min CPU; {len(texts) / cpu / floor:.3f}x the tokenising floor")
    one = texts[:200]
    _, wall, cpu = timed(lambda: [emb.embed([t]) for t in one])
    print(f"one answer at a time            {rate(len(one), wall, cpu)}   a new answer: {wall / len(one) * 1000:.1f} ms "
          f"wall, {cpu / len(one) * 1000:.1f} ms CPU")
    assert best is not None

    vectors = emb.embed(texts[:1000])
    half = vectors.astype("<f2").astype(np.float32)
    print(f"float16 storage vs float32 (1,000 answers): self-cosine min {(half * vectors).sum(1).min():.6f}; "
          f"pairwise cosine max abs diff {np.abs(half @ half.T - vectors @ vectors.T).max():.2e}")

    if args.fp32:
        sess = session(args.fp32, emb.THREADS)
        sample = texts[:1000]
        ref, wall32, cpu32 = timed(lambda: run_session(sess, tok, sample))
        mine, wall8, cpu8 = timed(lambda: run_session(session_, tok, sample))
        cos = (ref * mine).sum(1)
        print(f"int8 vs fp32 (1,000 answers): cosine min {cos.min():.4f} mean {cos.mean():.4f}; pairwise cosine max "
              f"abs diff {np.abs(mine @ mine.T - ref @ ref.T).max():.4f}; top-1 neighbour agrees for "
              f"{np.mean(np.argsort(-(mine @ mine.T), 1)[:, 1] == np.argsort(-(ref @ ref.T), 1)[:, 1]):.1%}; "
              f"fp32 speed {rate(len(sample), wall32, cpu32)} vs int8 {rate(len(sample), wall8, cpu8)}")

    if args.store:
        store(args.store)
    return 0


def store(n: int) -> None:
    os.environ["THRIVE_EMBED_BACKGROUND"] = "0"
    from data import open_db
    from data.db import new_ids, now_utc
    from data.embeddings import embedding_coverage, ensure_embeddings, load_embeddings

    texts, _ = answers(n)
    with tempfile.TemporaryDirectory() as folder:
        db = open_db(Path(folder) / "bench.db")
        now = now_utc()
        ids = new_ids(n)
        _seed(db, ids, texts, now)
        _, wall, cpu = timed(lambda: ensure_embeddings(db))
        print(f"ensure_embeddings, {n:,} answers  {rate(n, wall, cpu)}   coverage {embedding_coverage(db)}")
        _, wall, cpu = timed(lambda: ensure_embeddings(db))
        print(f"ensure_embeddings again (nothing to do): {wall * 1000:.0f} ms wall")
        shuffled = random.Random(2).sample(ids, len(ids))
        vectors, wall, cpu = timed(lambda: load_embeddings(db, shuffled))
        size = db.execute("SELECT SUM(LENGTH(vector)) FROM response_embeddings").fetchone()[0]
        print(f"load_embeddings of {n:,} in random order: {wall:.2f} s wall ({n / wall:,.0f}/s); all found: "
              f"{bool(np.abs(vectors).sum(1).all())}; {size / 1e6:.1f} MB of vectors "
              f"(100,000 answers: {size / n * 100_000 / 1e6:.0f} MB)")
        db.close()


def _seed(db, ids: list[str], texts: list[str], now: str) -> None:
    """Answers straight into the tables (the import's own speed is bench_capture's business)."""
    from data.db import transaction

    with transaction(db):
        db.execute("INSERT INTO question_sets (id, key, version, content_hash, definition, created_at) "
                   "VALUES ('bench@1', 'bench', 1, 'x', '{}', ?)", [now])
        db.execute("INSERT INTO events (id, name, date, question_set_id, created_at) "
                   "VALUES ('e', 'bench', '2026-01-01', 'bench@1', ?)", [now])
        db.execute("INSERT INTO respondents (id, event_id, group_id, source, created_at) "
                   "VALUES ('p', 'e', 'adult', 'import', ?)", [now])
        db.conn.executemany(
            "INSERT INTO responses (id, respondent_id, event_id, question_id, position, text, redacted_text, source, "
            "created_at) VALUES (?, 'p', 'e', 'thrive_helps', 0, ?, ?, 'import', ?)",
            [(i, t, t, now) for i, t in zip(ids, texts, strict=True)])


if __name__ == "__main__":
    raise SystemExit(main())
