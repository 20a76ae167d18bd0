"""Benchmark: the coding workspace with many answers (python bench/bench_coding.py [--answers N] [--db COPY.db]).

Builds a temporary database of N answers (default 20,000) over 5 events, the starter codebook and 5,000 codings,
then times what a coder's tap costs in the core (queue page, counts, next answer, apply + undo, bulk preview and
apply, agreement) and one full run of the coding page under AppTest. Figures are medians of repeated runs, with
ratios against a floor measured in the same run: one full scan of the answers' text (a LIKE that matches nothing).

--db PATH (issues 10 and 14, at scale): an existing database instead (a COPY: the bench adds and removes codings, sets
external ids on answers that have none, and replaces <db>.model/). It times, with wall, CPU (all threads of this
process) and peak RSS: `codings import` of --import-rows rows by external id; the suggestion model's cold build
on the worker thread; the Code page's first open (AppTest) with no model yet, with the model ready, and after a
"server restart" (the model read back from disk); then taps: Next, applying a code through the pills, accepting
a suggestion, each a full rerun of the page. --embed-sample N first stores the sentence vectors of N answers
(so the bench says what it measured with or without vectors; `cli.py embed` stores all of them).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data import agreement, codebook, coding, open_db  # noqa: E402
from data.coding import Filters  # noqa: E402
from data.importer import import_responses  # noqa: E402
from data.users import User  # noqa: E402

WORDS = ("family mum dad nan mates friends school teachers food breakfast hungry money skint bills clubs park youth "
         "centre football phone online bullying drugs alcohol police gangs love care listen talk help support "
         "warm home clothes doctor dentist lonely ignored safe streets bus free activities").split()
QUESTIONS = ("thrive_helps", "thrive_stops", "neglect_is", "thrive_local")
GROUPS = ("young_person", "parent_carer", "practitioner", "resident", "school_staff")


def timed(func, repeat: int = 7) -> float:
    """Median seconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build(path: Path, answers: int, codings: int, rng: random.Random) -> tuple[User, User]:
    admin = User("bench_admin", frozenset({"admin"}), "Bench admin")
    second = User("bench_second", frozenset({"engagement_officer"}), "Second coder")
    db = open_db(path)
    per_event = answers // 5
    for e in range(5):
        lines = ["id,question,group,text,respondent"]
        for k in range(per_event):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 9)))
            lines.append(f"e{e}-{k},{QUESTIONS[k % 4]},{GROUPS[(k // 4) % 5]},{text},p{k // 4}")
        import_responses(db, admin, "\n".join(lines).encode(), f"event{e}.csv", event=f"Event {e}")
    codebook.load_starter_codebook(db, admin)
    names = [c.name for c in codebook.list_codes(db)]
    ids = [row[0] for row in db.execute("SELECT id FROM responses ORDER BY created_at, id")]
    pairs = [(rid, rng.choice(names)) for rid in rng.sample(ids, min(codings, len(ids)))]
    coding.apply_many(db, admin, pairs)
    sample = rng.sample(pairs, min(300, len(pairs)))
    coding.apply_many(db, second, [(rid, name if rng.random() < 0.8 else rng.choice(names)) for rid, name in sample])
    db.conn.close()
    return admin, second


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Clock:
    """Wall and CPU seconds (every thread of this process: the model worker too) of one block."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def __str__(self) -> str:
        return f"{self.wall:8.2f} s wall {self.cpu:8.2f} s CPU"


def store_training_vectors(db, user: User) -> int:
    """Store the vectors of the answers the model learns from (its bounded sample) that lack one: what a build
    with meaning needs, without the hour `cli.py embed` takes over 550,000 answers on this machine."""
    from analysis import embeddings
    from data.embeddings import _pack, load_embeddings
    from data.suggestions import training_rows

    ids, rows, _ = training_rows(db, user)
    _, found = load_embeddings(db, ids, with_mask=True)
    todo = [(i, r[0]) for i, r, f in zip(ids, rows, found, strict=True) if not f]
    for start in range(0, len(todo), 512):
        part = todo[start:start + 512]
        blobs = _pack(embeddings.embed([t for _, t in part]))
        with db.conn:
            db.conn.executemany("INSERT OR REPLACE INTO response_embeddings (response_id, model, vector) VALUES (?, ?, ?)",
                                [(i, embeddings.MODEL_ID, b) for (i, _), b in zip(part, blobs, strict=True)])
    return len(todo)


class Figures(dict):
    """name -> Clock, each also printed as soon as it is measured (a long run shows its figures on the way)."""

    def __setitem__(self, name: str, clock: Clock) -> None:
        super().__setitem__(name, clock)
        print(f"  -> {name}: {clock}", flush=True)


def bench_db(path: Path, import_rows: int, taps: int, embed_sample: int, build_timeout: float,
             embed_training: bool = False) -> None:
    """The scale figures of issues 10 and 14 on an existing database (see the module docstring)."""
    from streamlit.testing.v1 import AppTest

    from data import model_service
    from data.embeddings import embedding_coverage

    os.environ.setdefault("THRIVE_EMBED_BACKGROUND", "0")  # no top-up racing the figures
    admin = User("bench_admin", frozenset({"admin"}), "Bench admin")
    rng = random.Random(42)
    print(f"load average at start: {os.getloadavg()}")
    with Clock() as c:
        db = open_db(path)
    print(f"open (migrations) {c}")
    answers = db.execute("SELECT count(*) FROM responses").fetchone()[0]
    codings = db.execute("SELECT count(*) FROM codings").fetchone()[0]
    coded = db.execute("SELECT count(DISTINCT response_id) FROM codings").fetchone()[0]
    print(f"{answers:,} answers, {codings:,} codings on {coded:,} answers")
    if embed_sample:
        from data.embeddings import ensure_embeddings

        with Clock() as c:
            stored = ensure_embeddings(db, limit=embed_sample)
        print(f"stored {stored:,} sentence vectors {c}")
    if embed_training:
        with Clock() as c:
            stored = store_training_vectors(db, admin)
        print(f"stored the sentence vectors of the model's training sample ({stored:,} answers) {c}")
    have, total = embedding_coverage(db)
    print(f"sentence vectors stored for {have:,} of {total:,} answers")
    figures = Figures()

    # -- codings import by external id ---------------------------------------------------------------------------
    if not db.execute("SELECT 1 FROM responses WHERE external_id IS NOT NULL LIMIT 1").fetchone():
        with Clock() as c, db.conn:
            db.execute("UPDATE responses SET external_id = 'bx-' || rowid WHERE external_id IS NULL")
        print(f"(set external ids on every answer for the import: {c})")
    names = [c.name for c in codebook.list_codes(db)]
    refs = [r[0] for r in db.execute("SELECT external_id FROM responses WHERE external_id IS NOT NULL "
                                     "ORDER BY rowid LIMIT ?", [max(import_rows * 20, 100_000)])]
    lines = ["response_id,code,coder"] + [f"{ref},{rng.choice(names)},bench_import"
                                          for ref in rng.sample(refs, min(import_rows, len(refs)))]
    with Clock() as c:
        result = coding.import_codings_csv(db, admin, "\n".join(lines).encode(), "bench.csv")
    figures[f"codings import, {len(lines) - 1:,} rows by external id"] = c
    print(f"imported {result.added:,} codings")
    with db.conn:
        db.execute("DELETE FROM codings WHERE coder = 'bench_import'")
    db.conn.close()

    # -- the suggestion model and the Code page -------------------------------------------------------------------
    shutil.rmtree(model_service.cache_dir(path.resolve()), ignore_errors=True)
    os.environ["THRIVE_DB"] = str(path)

    def page() -> AppTest:
        at = AppTest.from_file(str(ROOT / "pages" / "code.py"), default_timeout=600)
        at.session_state["auth_user"] = admin
        return at

    def state(at: AppTest) -> str:
        return (at.session_state["code_suggester"] or {}).get("state", "?")

    at = page()
    with Clock() as c:
        at.run()
    assert not at.exception, at.exception
    figures[f"code page: first open, no model yet ({state(at)})"] = c
    service = model_service.service_for(path)
    with Clock() as c:
        ready = service.wait_idle(timeout=build_timeout)
    snap = service.snapshot()
    figures["suggestion model: cold build on the worker (after the first open)"] = c
    print(f"model ready: {ready}; build {snap.build_seconds if snap else float('nan'):.1f} s; "
          f"learned from {getattr(snap.model, 'n_coded', '?') if snap else '?'} coded answers; "
          f"meaning: {'yes' if snap and snap.model.embed is not None else 'no'}; peak RSS {peak_rss_mib():,.0f} MiB")
    at = page()
    with Clock() as c:
        at.run()
    figures[f"code page: first open, model ready ({state(at)})"] = c
    model_service.shutdown_all()  # a server restart: the next service reads the model back from disk
    at = page()
    with Clock() as c:
        at.run()
    figures[f"code page: first open after a restart ({state(at)})"] = c
    assert not at.exception, at.exception
    print(f"model loaded from disk: {model_service.service_for(path).loads} time(s)")

    def tap(label: str, action) -> None:
        runs = []
        for _ in range(taps):
            with Clock() as c:
                if action() is False:
                    return
                at.run()
            assert not at.exception, at.exception
            runs.append(c)
        runs.sort(key=lambda r: r.wall)
        figures[f"{label} (median of {taps})"] = runs[len(runs) // 2]
        figures[f"{label} (slowest of {taps})"] = runs[-1]

    def next_answer():
        at.button(key="code_next").click()

    themes = [c.name for c in codebook.list_codes(open_db(path, migrate=False)) if c.parent_id is None]

    def apply_pill():
        for theme in themes:  # the first theme (itself a code) not yet on the answer
            pills = next((p for p in at.pills if p.key.startswith(f"code_pills_{theme}_")), None)
            if pills is not None and theme not in (pills.value or []):
                pills.set_value([*(pills.value or []), theme])
                return None
        return False

    def accept():
        found = [b for b in at.button if b.key and b.key.startswith("code_accept_")]
        if not found:
            return False
        found[0].click()

    tap("code page: tap Next", next_answer)
    tap("code page: tap a code (pills)", apply_pill)
    tap("code page: tap Next", next_answer)
    tap("code page: accept a suggestion", accept)
    print(f"suggestions on screen: {sum(1 for b in at.button if b.key and b.key.startswith('code_accept_'))}; "
          f"state {state(at)}")
    with Clock() as c:
        service = model_service.service_for(path)
        service.wait_idle(timeout=build_timeout)
    figures["suggestion model: rebuild after the taps"] = c
    model_service.shutdown_all()
    print(f"peak RSS {peak_rss_mib():,.0f} MiB; load average at the end: {os.getloadavg()}")
    print(f"{'operation':<72}{'wall s':>9}{'CPU s':>9}")
    for name, clock in figures.items():
        print(f"{name:<72}{clock.wall:>9.3f}{clock.cpu:>9.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=20_000)
    parser.add_argument("--codings", type=int, default=5_000)
    parser.add_argument("--db", type=Path, default=None,
                        help="an existing database (a COPY: it is changed) for the scale figures")
    parser.add_argument("--import-rows", type=int, default=5_000)
    parser.add_argument("--taps", type=int, default=5)
    parser.add_argument("--embed-sample", type=int, default=0,
                        help="with --db: first store the sentence vectors of this many answers")
    parser.add_argument("--embed-training", action="store_true",
                        help="with --db: first store the vectors of the model's training sample (meaning on the page)")
    parser.add_argument("--build-timeout", type=float, default=3600,
                        help="with --db: give up waiting for a model build after this many seconds")
    args = parser.parse_args()
    if args.db is not None:
        bench_db(args.db, args.import_rows, args.taps, args.embed_sample, args.build_timeout, args.embed_training)
        return
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        start = time.perf_counter()
        admin, second = build(path, args.answers, args.codings, rng)
        print(f"built {args.answers:,} answers, {args.codings:,} codings in {time.perf_counter() - start:.1f} s")
        db = open_db(path)
        # a full scan of the answers' text: what any unindexed filter must at least cost
        floor = timed(lambda: db.execute("SELECT count(*) FROM responses WHERE redacted_text LIKE '%zzqq%'").fetchone())
        uncoded = Filters(state="uncoded")
        first = coding.neighbour(db, admin, uncoded, None)
        middle = coding.queue(db, admin, uncoded, page=args.answers // 40).answers[0].id  # half-way down the queue
        figures: dict[str, float] = {
            "queue page (uncoded, 20)": timed(lambda: coding.queue(db, admin, uncoded, page=50)),
            "counts (coded / remaining)": timed(lambda: coding.counts(db, admin, uncoded)),
            "next answer (half-way down)": timed(lambda: coding.neighbour(db, admin, uncoded, middle)),
            "position in queue (half-way down)": timed(lambda: coding.position(db, admin, uncoded, middle)),
            "queue filtered by question+group": timed(lambda: coding.queue(
                db, admin, Filters(question="neglect_is", group="young_person", state="uncoded"))),
            "search 'breakfast'": timed(lambda: coding.queue(db, admin, Filters(search="breakfast"))),
            "filter choices": timed(lambda: coding.filter_choices(db, admin)),
        }

        def apply_and_undo() -> None:
            assert coding.apply_code(db, admin, first, "family_love")
            assert coding.undo(db, admin) is not None

        figures["apply + undo (one tap each)"] = timed(apply_and_undo) / 2
        figures["bulk preview 'breakfast'"] = timed(
            lambda: coding.bulk_preview(db, admin, "nutritional_neglect", Filters(search="breakfast")))

        def bulk_and_undo() -> None:
            coding.bulk_apply(db, admin, "nutritional_neglect", Filters(search="breakfast"))
            coding.undo(db, admin)

        matching = coding.bulk_preview(db, admin, "nutritional_neglect", Filters(search="breakfast")).to_code
        figures[f"bulk apply + undo ({matching:,} answers)"] = timed(bulk_and_undo, repeat=3)
        figures["agreement report (27 codes)"] = timed(
            lambda: agreement.report(db, admin, admin.username, second.username), repeat=3)
        start = time.perf_counter()
        codebook.merge_codes(db, admin, "friends_social", "family_love")
        figures["merge two codes (once)"] = time.perf_counter() - start

        from streamlit.testing.v1 import AppTest

        os.environ["THRIVE_DB"] = str(path)
        at = AppTest.from_file(str(ROOT / "pages" / "code.py"), default_timeout=120)
        at.session_state["auth_user"] = admin
        start = time.perf_counter()
        at.run()
        figures["code page: first run (builds suggestions)"] = time.perf_counter() - start
        assert not at.exception, at.exception
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            at.button(key="code_next").click().run()
            runs.append(time.perf_counter() - start)
        figures["code page: a tap (rerun)"] = statistics.median(runs)
        db.conn.close()
    print(f"floor: one full scan of {args.answers:,} answers' text (LIKE '%zzqq%') = {floor * 1000:.2f} ms")
    print(f"{'operation':<52}{'ms':>10}{'x floor':>10}")
    for name, seconds in figures.items():
        print(f"{name:<52}{seconds * 1000:>10.2f}{seconds / floor:>10.1f}")


if __name__ == "__main__":
    main()
