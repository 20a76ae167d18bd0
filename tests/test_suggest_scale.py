"""Suggestions at scale (issues 10 and 14): the bounded, deterministic, stratified training sample, reading only
the sample's vectors, and words-only with a reason when too many answers lack a stored vector."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from analysis.suggest import CodeInfo, Suggester, bounded_sample, stable_key

CODES = [CodeInfo("food", "Food", "meals, hunger, breakfast"), CodeInfo("money", "Money", "bills, being skint"),
         CodeInfo("clubs", "Clubs", "youth clubs and activities"), CodeInfo("rare", "Rare", "a rare thing")]
WORDS = {"food": "breakfast hungry dinner meals", "money": "skint bills cash rent", "clubs": "youth club football park",
         "rare": "zebra"}


def _rows(n: int, seed: int = 1) -> list[tuple]:
    """n coded answers: mostly food, fewer money and clubs, a handful rare; some with two codes."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        code = "rare" if i % 50 == 0 else rng.choices(["food", "money", "clubs"], [6, 3, 1])[0]
        names = [code] + (["money"] if code == "food" and i % 7 == 0 else [])
        text = " ".join(rng.choice(WORDS[c].split()) for c in names for _ in range(3)) + f" {i}"
        rows.append((text, names, "thrive_helps"))
    return rows


def _fake_embed(texts):
    out = np.zeros((len(texts), 16), dtype=np.float32)
    for i, t in enumerate(texts):
        for word in t.split():
            out[i, sum(map(ord, word)) % 16] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_bounded_sample_takes_everything_up_to_the_limit():
    labels = [["a"], ["b"], ["a", "b"]]
    assert bounded_sample(labels, 3) == [0, 1, 2]
    assert bounded_sample([], 5) == []


def test_bounded_sample_keeps_rare_codes_whole_and_caps_the_frequent_ones():
    labels = [["a"]] * 1000 + [["b"]] * 50 + [["c"]] * 5 + [["a", "c"]] * 2 + [[]] * 10
    rng = random.Random(3)
    rng.shuffle(labels)
    keep = bounded_sample(labels, 200)
    assert keep == sorted(keep) and len(set(keep)) == len(keep)
    assert len(keep) <= 200
    taken = Counter(n for i in keep for n in labels[i])
    assert taken["b"] == 50 and taken["c"] == 7  # rare codes: every answer
    assert 100 <= taken["a"] <= 200 - 50 - 5  # the frequent code shares what is left (the cap is 143)
    assert all(labels[i] for i in keep)  # an answer with no known code teaches no code's positives
    # a sample of the sample is itself (what build_suggester takes, fit() takes again unchanged)
    again = bounded_sample([labels[i] for i in keep], 200)
    assert again == list(range(len(keep)))


def test_bounded_sample_fills_the_room_left_by_answers_with_several_codes():
    labels = [["a", "b"]] * 500 + [["c", "d"]] * 500
    keep = bounded_sample(labels, 100)
    assert len(keep) == 100 == len(set(keep)) and keep == sorted(keep)
    # the capped pass takes 25 of each pair (cap 25 per code), the fill takes the next rows in order
    assert keep[:25] == list(range(25)) and 500 in keep
    assert bounded_sample(labels, 100) == keep


def test_bounded_sample_caps_a_single_code_at_the_limit():
    labels = [["a"]] * 30
    keep = bounded_sample(labels, 10)
    assert keep == list(range(10))


def test_a_big_fit_learns_from_a_bounded_sample_whatever_the_row_order():
    rows = _rows(400)
    shuffled = list(rows)
    random.Random(9).shuffle(shuffled)
    a, b = Suggester(CODES), Suggester(CODES)
    a.TRAIN_MAX = b.TRAIN_MAX = 120
    a.fit(rows)
    b.fit(shuffled)
    assert a.n_population == b.n_population == 400
    assert a.n_coded == b.n_coded <= 120
    assert a._corpus.texts == b._corpus.texts
    assert a.positives[a.index["rare"]] == sum(1 for r in rows if "rare" in r[1])  # rare code kept whole
    tests = [r[0] for r in _rows(60, seed=2)]
    assert a.suggest_many(tests, reasons=False) == b.suggest_many(tests, reasons=False)
    # the sample is what bounded_sample gives over the rows sorted by their content
    ordered = sorted(rows, key=lambda r: stable_key(r[0], r[1], r[2]))
    expected = [ordered[i][0] for i in bounded_sample([r[1] for r in ordered], 120)]
    assert a._corpus.texts == expected
    # and it still ranks the right code first for most answers of a frequent code
    food = [r[0] for r in _rows(60, seed=4) if r[1] == ["food"]]
    assert sum(s[0].code == "food" for s in a.suggest_many(food, reasons=False) if s) >= 0.8 * len(food)


def test_under_the_limit_nothing_is_sampled():
    rows = _rows(90)
    s = Suggester(CODES).fit(rows)
    assert s.n_coded == s.n_population == 90


@pytest.fixture
def many_coded(db, admin):
    """A database with 300 coded answers over four codes."""
    from data.codebook import import_codebook_csv
    from data.coding import apply_many
    from data.importer import import_responses

    rows = _rows(300)
    lines = ["id,question,group,text,respondent"] + [f"x{i},thrive_helps,young_person,{r[0]},p{i}"
                                                     for i, r in enumerate(rows)]
    import_responses(db, admin, "\n".join(lines).encode(), "a.csv", event="scale")
    import_codebook_csv(db, admin, ("code,label,definition\n" + "\n".join(
        f"{c.name},{c.label},{c.definition.replace(',', ';')}" for c in CODES)).encode(), "c.csv")
    ids = {ext: rid for rid, ext in db.execute("SELECT id, external_id FROM responses")}
    apply_many(db, admin, [(ids[f"x{i}"], name) for i, r in enumerate(rows) for name in r[1]])
    return db, rows


def test_build_suggester_reads_only_the_samples_vectors(many_coded, admin, monkeypatch):
    import data.embeddings
    from data import suggestions

    db, rows = many_coded
    monkeypatch.setattr(Suggester, "TRAIN_MAX", 100)
    monkeypatch.setattr(suggestions, "meaning", lambda: (_fake_embed, ""))
    asked: list[list[str]] = []

    def load(db, ids, with_mask=False):
        asked.append(list(ids))
        vectors = np.zeros((len(ids), 16), dtype=np.float32)
        return (vectors, np.zeros(len(ids), dtype=bool)) if with_mask else vectors

    monkeypatch.setattr(data.embeddings, "load_embeddings", load)
    model = suggestions.build_suggester(db, admin)
    assert model.n_population == 300 and model.n_coded <= 100
    assert len(asked) == 1 and len(asked[0]) == model.n_coded  # never the vectors of all 300
    assert model.embed is not None  # 100 missing, under EMBED_MISSING_MAX: computed
    # the same sample as the engine takes itself from all the coded answers
    _, every = suggestions._coded_answers(db)
    assert len(every) == 300
    engine = Suggester(suggestions.codebook_for_suggestions(db)).fit(every)
    assert engine._corpus.texts == model._corpus.texts
    again = suggestions.build_suggester(db, admin)
    assert again._corpus.texts == model._corpus.texts


def test_too_many_missing_vectors_means_words_only_and_says_so(many_coded, admin, monkeypatch):
    from data import suggestions

    db, _ = many_coded
    monkeypatch.setattr(suggestions, "meaning", lambda: (_fake_embed, ""))
    monkeypatch.setattr(suggestions, "EMBED_MISSING_MAX", 10)
    model = suggestions.build_suggester(db, admin)
    assert model.embed is None and "cli.py embed" in model.meaning_reason
    from data.importer import import_responses

    import_responses(db, admin, b"id,question,group,text,respondent\nu1,thrive_helps,young_person,so skint,q1\n",
                     "u.csv", event="scale")
    notes: list[str] = []
    monkeypatch.setattr(Suggester, "TRAIN_MAX", 100)
    rows = suggestions.suggest_uncoded(db, admin, 2, notes=notes)
    assert rows and rows[0]["code"] == "money"
    assert any("cli.py embed" in n for n in notes) and any("sample of" in n and "300" in n for n in notes)
    monkeypatch.setattr(suggestions, "EMBED_MISSING_MAX", 10_000)
    assert suggestions.build_suggester(db, admin).embed is not None
