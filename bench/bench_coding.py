"""Benchmark: the coding workspace with many answers (python bench/bench_coding.py [--answers N]).

Builds a temporary database of N answers (default 20,000) over 5 events, the starter codebook and 5,000 codings,
then times what a coder's tap costs in the core (queue page, counts, next answer, apply + undo, bulk preview and
apply, agreement) and one full run of the coding page under AppTest. Figures are medians of repeated runs, with
ratios against a floor measured in the same run: one full scan of the answers' text (a LIKE that matches nothing).
"""

from __future__ import annotations

import argparse
import os
import random
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=20_000)
    parser.add_argument("--codings", type=int, default=5_000)
    args = parser.parse_args()
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
