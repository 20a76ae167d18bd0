"""Issue 10: the engine's evidence (question, exclude guidance, coding weight, meaning), determinism, calibration
and the codings-import lookup. Uses bench/data/suggest_heldout only as realistic training rows; no target is
asserted on it (the figures are in bench/bench_suggest.py)."""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from analysis.suggest import CodeInfo, Suggester, codes_from_rows, stable_key, text_fold

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "bench" / "data" / "suggest_heldout"


def _heldout() -> tuple[list[CodeInfo], list[tuple[str, list[str], str]]]:
    with (HELDOUT / "codebook.csv").open(encoding="utf-8") as handle:
        codes = codes_from_rows(csv.DictReader(handle))
    gold: dict[str, list[str]] = {}
    with (HELDOUT / "codings.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            gold.setdefault(row["response_id"], []).append(row["code"])
    with (HELDOUT / "answers.csv").open(encoding="utf-8") as handle:
        rows = [(r["text"], gold[r["id"]], r["question"]) for r in csv.DictReader(handle)]
    return codes, rows


def _ranking(suggester: Suggester, rows) -> list[list[tuple[str, float]]]:
    ranked = suggester.suggest_many([r[0] for r in rows], top_k=3, questions=[r[2] for r in rows], reasons=False)
    return [[(s.code, s.score) for s in row] for row in ranked]


def test_shuffled_training_rows_give_identical_rankings():
    codes, rows = _heldout()
    train, test = rows[:120], rows[120:]
    first = _ranking(Suggester(codes).fit(train), test)
    shuffled = list(train)
    random.Random(7).shuffle(shuffled)
    assert _ranking(Suggester(codes).fit(shuffled), test) == first
    # a different training set does change them (the comparison can fail)
    assert _ranking(Suggester(codes).fit(train[:60]), test) != first


def test_folds_and_keys_depend_on_content_only():
    assert stable_key("a", ["x", "y"], "q") == stable_key("a", ["y", "x"], "q")
    assert stable_key("a", ["x"], "q") != stable_key("a", ["x"], "r")
    assert {text_fold(f"answer {i}", 3) for i in range(30)} == {0, 1, 2}


def test_same_rankings_across_hash_seeds():
    script = ("import sys, random; sys.path.insert(0, '.'); "
              "from tests.test_suggest_heldout import _heldout, _ranking; from analysis.suggest import Suggester; "
              "codes, rows = _heldout(); train = rows[:100]; random.Random(int(sys.argv[1])).shuffle(train); "
              "print(_ranking(Suggester(codes).fit(train), rows[150:180]))")
    outputs = []
    for seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", script, seed], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and outputs[0].startswith("[[")


TALK = [CodeInfo("someone_to_talk", "Someone to talk to", "A person a child can confide in."),
        CodeInfo("emotional_neglect", "Emotional neglect", "Carers not attending to a child's feelings."),
        CodeInfo("play", "Play", "Games and fun.")]


def _question_training() -> list[tuple[str, list[str], str]]:
    helps = ["a mentor to chat with", "my aunt listens to me", "a teacher i can go to", "youth worker who hears me",
             "an adult who will chat after school", "friends to talk things over with"]
    neglect = ["ignoring the child all day", "no cuddles at home", "parents never look at them",
               "nobody notices when they cry", "cold and distant carers", "not paying attention to the kids"]
    return ([(t, ["someone_to_talk"], "thrive_helps") for t in helps]
            + [(t, ["emotional_neglect"], "neglect_is") for t in neglect]
            + [("football in the park", ["play"], "thrive_helps"), ("games with mates", ["play"], "thrive_local")])


def test_the_question_answered_is_evidence():
    suggester = Suggester(TALK).fit(_question_training())
    text = "No interaction, no talking to the baby"
    under_helps = [s.code for s in suggester.suggest(text, question="thrive_helps")]
    under_neglect = [s.code for s in suggester.suggest(text, question="neglect_is")]
    assert under_neglect[0] == "emotional_neglect"
    assert under_helps != under_neglect
    # without a question the word "talking" wins, as it did before (issue 10's example)
    assert suggester.suggest(text)[0].code == "someone_to_talk"


def test_exclude_guidance_lowers_a_code():
    plain = [CodeInfo("transport", "Transport", "Buses, trains and timetables."),
             CodeInfo("money", "Money", "Costs, fares and rent.")]
    excluded = [plain[0], CodeInfo("money", "Money", "Costs, fares and rent.", exclude="Not for timetables.")]
    text = "the fares and the timetable are rubbish"
    before = {s.code: s.score for s in Suggester(plain).suggest(text)}
    after = {s.code: s.score for s in Suggester(excluded).suggest(text)}
    assert after.get("money", 0.0) < before["money"]
    assert after["transport"] == pytest.approx(before["transport"])


def test_a_single_accepted_suggestion_is_weaker_than_a_human_code():
    base = [("damp walls in the flat", ["housing"]), ("bus is late", ["transport"]), ("trains cost", ["transport"])]
    codes = [CodeInfo("housing", "Housing", ""), CodeInfo("transport", "Transport", ""), CodeInfo("food", "Food", "")]
    strong = Suggester(codes, calibrate=False).fit(base + [("no dinner on the table", ["food"], None, {"food": 1.0})])
    weak = Suggester(codes, calibrate=False).fit(base + [("no dinner on the table", ["food"], None, {"food": 0.5})])
    text = "no dinner again tonight"
    s_strong = {s.code: s.score for s in strong.suggest(text)}["food"]
    s_weak = {s.code: s.score for s in weak.suggest(text)}.get("food", 0.0)
    assert s_weak < s_strong
    assert weak.counts[weak.index["food"]] == pytest.approx(0.5)


def test_coding_weight_counts_sources_and_coders():
    from data.suggestions import coding_weight

    assert coding_weight(["suggestion"], 1) < coding_weight(["human"], 1) < coding_weight(["human"], 2)
    assert coding_weight(["suggestion", "human"], 1) == coding_weight(["human"], 1)


def test_calibrated_scores_are_monotonic_and_flagged():
    codes, rows = _heldout()
    suggester = Suggester(codes).fit(rows[:120])
    assert suggester.calibrated
    raw = np.linspace(0.0, 1.0, 101)
    shown = suggester._calibrator.predict(raw)
    assert np.all(np.diff(shown) >= -1e-12) and shown[-1] > shown[0]
    ranked = suggester.suggest_many([r[0] for r in rows[150:170]], questions=[r[2] for r in rows[150:170]])
    for row in ranked:
        assert all(s.calibrated for s in row)
        assert [s.score for s in row] == sorted((s.score for s in row), reverse=True)
    few = Suggester(codes).fit(rows[:10])
    assert not few.calibrated


def test_min_score_hides_weak_suggestions():
    codes, rows = _heldout()
    suggester = Suggester(codes).fit(rows[:120])
    texts = [r[0] for r in rows[150:200]]
    every = suggester.suggest_many(texts, reasons=False)
    shown = suggester.suggest_many(texts, reasons=False, min_score=0.3)
    assert sum(map(len, shown)) < sum(map(len, every))
    assert all(s.score >= 0.3 for row in shown for s in row)
    assert {s.strength for row in every for s in row} <= {"weak", "strong"}


def test_refit_is_never_run_in_a_tap_but_is_reported_as_needed():
    codes, rows = _heldout()
    suggester = Suggester(codes)
    suggester.FULL_REFIT_LIMIT = 0
    suggester.fit(rows[:30])
    assert not suggester.refit_needed()
    calibrator = suggester._calibrator
    for text, names, question in rows[30:61]:
        suggester.add(text, names, question)
    assert suggester.refit_needed() and suggester._calibrator is calibrator
    suggester.refresh()
    assert not suggester.refit_needed() and suggester.calibrated


def _fake_embed(texts):
    """Deterministic stand-in for the sentence-embedding model: bag of hashed word trigrams, L2-normalised."""
    import hashlib

    out = np.zeros((len(texts), 64), dtype=np.float32)
    for i, t in enumerate(texts):
        padded = f"  {t.lower()} "
        for k in range(len(padded) - 2):
            out[i, int(hashlib.md5(padded[k:k + 3].encode()).hexdigest()[:6], 16) % 64] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


def test_meaning_is_used_when_embeddings_are_given():
    codes, rows = _heldout()
    with_meaning = Suggester(codes, embed=_fake_embed).fit(rows[:60])
    without = Suggester(codes).fit(rows[:60])
    assert with_meaning.meaning_reason == "" and without.meaning_reason
    texts = [r[0] for r in rows[150:200]]
    a = with_meaning.suggest_many(texts, reasons=False)
    assert a != without.suggest_many(texts, reasons=False)
    given = with_meaning.suggest_many(texts, reasons=False, vectors=_fake_embed(texts))
    assert given == a


def test_fallback_says_why_when_embeddings_are_unavailable(db, admin, monkeypatch):
    import analysis

    fake = types.ModuleType("analysis.embeddings")
    fake.available = lambda: False
    fake.unavailable_reason = lambda: "model files missing"
    monkeypatch.setitem(sys.modules, "analysis.embeddings", fake)
    monkeypatch.setattr(analysis, "embeddings", fake, raising=False)
    from data.suggestions import build_suggester

    suggester = build_suggester(db, admin)
    assert suggester.embed is None and "model files missing" in suggester.meaning_reason


def test_codings_import_by_external_id_uses_an_index(db, admin):
    plan = db.execute("EXPLAIN QUERY PLAN SELECT id FROM responses WHERE external_id = ?", ["x"]).fetchall()
    assert any("USING INDEX" in str(row[-1]) or "USING COVERING INDEX" in str(row[-1]) for row in plan), plan
    from data.codebook import import_codebook_csv
    from data.coding import import_codings_csv
    from data.importer import import_responses

    import_responses(db, admin, b"id,question,group,text\nx1,thrive_helps,young_person,my nan\n", "a.csv",
                     event="bench")
    import_codebook_csv(db, admin, b"code,label,definition\nfamily,Family,Relatives\n", "c.csv")
    result = import_codings_csv(db, admin, b"response_id,code,coder\nx1,family,olu\n", "k.csv")
    assert result.added == 1


class _CountingEmbed:
    """_fake_embed that records every text it is asked to embed."""

    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, texts):
        self.seen.extend(texts)
        return _fake_embed(list(texts))


def test_each_text_is_embedded_once_per_build_folds_and_calibration_included():
    codes, rows = _heldout()
    counting = _CountingEmbed()
    suggester = Suggester(codes, embed=counting)
    suggester.WEIGHTS_MIN = 40  # cross-validated weights and calibration both run at 120 coded answers
    suggester.fit(rows[:120])
    assert suggester.calibrated and suggester.weights_quality  # the folds did run
    assert len(counting.seen) == len(set(counting.seen))
    before = len(counting.seen)
    suggester.refresh()
    suggester.suggest_many([r[0] for r in rows[:120]], reasons=False)  # coded texts: vectors kept
    assert len(counting.seen) == before
    suggester.suggest_many([r[0] for r in rows[150:160]], reasons=False)
    assert len(counting.seen) == before + len({r[0] for r in rows[150:160]} - {r[0] for r in rows[:120]})


def test_stored_vectors_are_used_instead_of_embedding():
    codes, rows = _heldout()
    counting = _CountingEmbed()
    texts = [r[0] for r in rows[:60]]
    Suggester(codes, embed=counting).fit(rows[:60], vectors=_fake_embed(texts))
    assert not set(counting.seen) & set(texts)  # only the codes' "label: definition" were embedded


def test_cross_validated_weights_do_not_depend_on_row_order():
    codes, rows = _heldout()
    shuffled = list(rows[:160])
    random.Random(5).shuffle(shuffled)
    texts = [r[0] for r in rows[160:200]]
    a = Suggester(codes, embed=_fake_embed)
    b = Suggester(codes, embed=_fake_embed)
    a.WEIGHTS_MIN = b.WEIGHTS_MIN = 40
    a.fit(rows[:160])
    b.fit(shuffled)
    assert a.weights == b.weights and a.weights_quality == b.weights_quality
    assert a.weights in (a.DEFAULT_WEIGHTS, *a.WEIGHT_GRID)
    assert a.suggest_many(texts, reasons=False) == b.suggest_many(texts, reasons=False)


def test_fewer_codings_keep_the_default_weights_and_the_definition_fades_in_prototypes():
    codes, rows = _heldout()
    few = Suggester(codes, embed=_fake_embed).fit(rows[:30])
    assert few.weights == few.DEFAULT_WEIGHTS and not few.weights_quality
    # a code with no codings: its prototype is its definition's vector
    unused = [j for j in range(len(codes)) if few.counts[j] == 0]
    if unused:
        j = unused[0]
        assert np.allclose(few._prototypes[j], few._def_vectors[j] / np.linalg.norm(few._def_vectors[j]), atol=1e-5)
    # a code with many codings: its prototype is closer to their mean than to its definition
    j = int(np.argmax(few.counts))
    mean = few._vector_sum[j] / few.counts[j]
    mean /= np.linalg.norm(mean)
    assert few._prototypes[j] @ mean > few._prototypes[j] @ few._def_vectors[j] or few.counts[j] < few.PROTOTYPE_PRIOR
