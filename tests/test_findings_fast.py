"""The fast aggregations of analysis/findings.py (integer index, reduceat and bincount, sparse word counts) equal a
plain pandas computation of the same counting rules (groupby / nunique over the answer-code pairs, Counter over the
tokens: the implementation these replaced) on random datasets, for many filters.

The reference functions below are written for the test from the documented counting rules; they share nothing with
the fast path but the Prepared frames (answers, pairs, codes).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from analysis import findings as af

WORDS = ("family school park money food warm home friends club youth bus safe street mum dad nan bullying "
         "phone games football library nurse doctor dentist rent heating lonely listen the and a to of in on "
         "is it for my we they 2 10 2026 café naïve").split()


def random_frames(seed: int, n_resp: int = 400):
    rng = random.Random(seed)
    events = [(f"e{i}", f"Event {i % 3}", f"2026-{9 + i // 3:02d}-{1 + 7 * i:02d}") for i in range(6)]
    groups = ["young_person", "parent_carer", "practitioner", "resident", "faith_group"]
    questions = ["thrive_helps", "thrive_stops", "neglect_is", "thrive_local", "extra_q"]
    rows = []
    for r in range(n_resp):
        ev = events[rng.randrange(len(events))]
        group = rng.choice(groups)
        flip = rng.random() < 0.1
        for j in range(rng.randrange(1, 6)):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(0, 12)))
            rows.append({"response_id": f"a{len(rows):05d}", "respondent_id": f"r{r:04d}", "event_id": ev[0],
                         "question_id": rng.choice(questions), "position": j, "group_id": group,
                         "created_at": f"{ev[2]}T1{j}:00:00+00:00", "day": ev[2] if rng.random() < 0.8 else
                         f"{ev[2][:8]}28", "event_name": ev[1], "event_date": ev[2], "text": text,
                         "withheld": rng.random() < 0.05, "flipchart": flip})
    answers = pd.DataFrame(rows)
    # three levels, and a merged code whose codings count as its target
    codes = pd.DataFrame({
        "code_id": [1, 2, 3, 10, 11, 12, 20, 21, 30, 31],
        "name": [f"c{i}" for i in (1, 2, 3, 10, 11, 12, 20, 21, 30, 31)],
        "label": ["Alpha", "Beta", "Gamma", "Alpha one", "Alpha two", "Beta one", "Alpha one deep", "Same",
                  "Same", "Merged away"],
        "parent_id": pd.array([pd.NA, pd.NA, pd.NA, 1, 1, 2, 10, 3, 2, 3], dtype="Int64"),
        "merged_into": pd.array([pd.NA] * 9 + [12], dtype="Int64")})
    codings = []
    for rid in answers["response_id"]:
        if rng.random() < 0.75:
            for c in rng.sample(list(codes["code_id"]), rng.randrange(1, 4)):
                codings.append((rid, int(c)))
    codings.append(("unknown-answer", 1))  # dropped by prepare
    codings = pd.DataFrame(codings, columns=["response_id", "code_id"])
    labels_q = {q: q.replace("_", " ").title() + "?" for q in questions}
    labels_g = {g: g.replace("_", " ").capitalize() for g in groups}
    return af.prepare(answers, codings, codes, None, labels_q, labels_g)


FILTERS = [
    af.Filter(),
    af.Filter(questions=("thrive_stops",)),
    af.Filter(groups=("young_person", "resident")),
    af.Filter(questions=("thrive_stops",), groups=("young_person", "resident")),
    af.Filter(events=("e1", "e4")),
    af.Filter(date_from=dt.date(2026, 10, 1)),
    af.Filter(date_to=dt.date(2026, 10, 15)),
    af.Filter(codes=(10,)),
    af.Filter(codes=(2, 21), groups=("parent_carer",)),
    af.Filter(groups=("nobody",)),
]


# --- the reference: pandas over the pairs, as the counting rules read --------------------------------------------

def ref_mask(prep: af.Prepared, flt: af.Filter) -> np.ndarray:
    a = prep.answers
    mask = np.ones(len(a), dtype=bool)
    if flt.questions:
        mask &= a["question_id"].isin(flt.questions).to_numpy()
    if flt.groups:
        mask &= a["group_id"].isin(flt.groups).to_numpy()
    if flt.events:
        mask &= a["event_id"].isin(flt.events).to_numpy()
    if flt.date_from:
        mask &= (a["event_date"] >= flt.date_from.isoformat()).to_numpy()
    if flt.date_to:
        mask &= (a["event_date"] <= flt.date_to.isoformat()).to_numpy()
    if flt.codes:
        raised = set(prep.pairs.loc[prep.pairs["code_id"].isin(flt.codes), "rix"])
        mask &= a["rix"].isin(raised).to_numpy()
    return mask


def ref_pairs(prep, mask, level):
    a = prep.answers
    p = prep.pairs[mask[prep.pairs["rix"].to_numpy()]].copy()
    p["qix"] = a["qix"].to_numpy()[p["rix"]]
    p["gix"] = a["gix"].to_numpy()[p["rix"]]
    p["rsp"] = a["rsp"].to_numpy()[p["rix"]]
    return p if level == "code" else p[p["code_id"].isin(prep.themes)], p


def ref_shares(prep, mask, level):
    pairs, every = ref_pairs(prep, mask, level)
    counts = pairs.groupby(["qix", "code_id"]).agg(answers=("rix", "size"), respondents=("rsp", "nunique"))
    base = every.groupby("qix")["rsp"].nunique().rename("base_respondents")
    out = counts.reset_index().merge(base, on="qix")
    out["question_id"] = prep.q_values[out["qix"].to_numpy()]
    return out[["question_id", "code_id", "answers", "respondents", "base_respondents"]]


def ref_by_group(prep, mask, level):
    pairs, every = ref_pairs(prep, mask, level)
    base = every.groupby("gix")["rsp"].nunique()
    grid = pd.MultiIndex.from_product([sorted(pairs["code_id"].unique()), base.index], names=["code_id", "gix"])
    out = pairs.groupby(["code_id", "gix"])["rsp"].nunique().reindex(grid, fill_value=0).rename(
        "respondents").reset_index()
    out["base_respondents"] = out["gix"].map(base)
    out["group_id"] = prep.g_values[out["gix"].to_numpy()]
    return out[["code_id", "group_id", "respondents", "base_respondents"]]


def ref_cooc(prep, mask, level, unit):
    pairs, _ = ref_pairs(prep, mask, level)
    key = "rix" if unit == "answer" else "rsp"
    units = pairs[[key, "code_id"]].drop_duplicates()
    sets = units.groupby(key)["code_id"].apply(lambda s: sorted(set(s)))
    both = Counter(pair for codes in sets for pair in itertools.combinations(codes, 2))
    rows = [(a, b, n) for (a, b), n in both.items() if (a, b) not in prep.lineage]
    return pd.DataFrame(rows, columns=["code_id_a", "code_id_b", "both"]), units[key].nunique()


def ref_progress(prep, mask):
    a = prep.answers[mask].assign(_coded=prep.coded[mask])
    out = a.groupby(["event_name", "event_date", "day"]).agg(
        answers=("rix", "size"), respondents=("rsp", "nunique"), coded=("_coded", "sum")).reset_index()
    return out.astype({"coded": "int64"})


def ref_headline(prep, mask):
    a = prep.answers[mask]
    flip = a["flipchart"].to_numpy(dtype=bool)
    coded = prep.coded[mask]
    return {"answers": len(a), "respondents": a["rsp"][~flip].nunique(), "postits": a["rsp"][flip].nunique(),
            "flipchart_answers": int(flip.sum()), "coded_answers": int(coded.sum()),
            "coded_respondents": a["rsp"][coded].nunique(), "events": a["event_id"].nunique()}


def ref_words(prep, mask, question, n, min_count):
    keep = mask & ~prep.answers["withheld"].to_numpy(dtype=bool) & (prep.answers["question_id"] == question).to_numpy()
    docs = [af.tokenise(t) for t in prep.answers["text"][keep]]
    return af._word_table(docs, n), af._phrase_table(docs, n, min_count)  # the Counter + nltk tables


def by_keys(frame, keys):
    return frame.sort_values(keys).reset_index(drop=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_aggregations_equal_the_pandas_reference(seed):
    prep = random_frames(seed)
    assert len(prep.pairs) > 1000
    for flt in FILTERS:
        sel = af.select(prep, flt)
        mask = ref_mask(prep, flt)
        assert np.array_equal(sel.mask, mask), flt
        # the lazily built pairs frame is the old one, column for column
        expected_pairs = ref_pairs(prep, mask, "code")[0].reset_index(drop=True)
        pd.testing.assert_frame_equal(sel.pairs[["rix", "code_id", "qix", "gix", "rsp"]],
                                      expected_pairs[["rix", "code_id", "qix", "gix", "rsp"]], check_dtype=False)
        for level in ("theme", "code"):
            shares = af.theme_shares(sel, level, threshold=5)
            expected = ref_shares(prep, mask, level)
            got = shares[["question_id", "code_id", "answers", "respondents", "base_respondents"]]
            pd.testing.assert_frame_equal(by_keys(got, ["question_id", "code_id"]),
                                          by_keys(expected, ["question_id", "code_id"]), check_dtype=False)
            if len(shares):
                assert np.allclose(shares["share"], shares["respondents"] / shares["base_respondents"])
            table = af.by_group(sel, level, threshold=5)
            expected = ref_by_group(prep, mask, level)
            pd.testing.assert_frame_equal(
                by_keys(table[["code_id", "group_id", "respondents", "base_respondents"]], ["code_id", "group_id"]),
                by_keys(expected, ["code_id", "group_id"]), check_dtype=False)
            for unit in ("answer", "respondent"):
                cooc = af.cooccurrence(sel, level, unit)
                expected, n_units = ref_cooc(prep, mask, level, unit)
                got = cooc[["code_id_a", "code_id_b", "both"]]
                pd.testing.assert_frame_equal(by_keys(got, ["code_id_a", "code_id_b"]),
                                              by_keys(expected, ["code_id_a", "code_id_b"]), check_dtype=False)
                assert set(cooc["units"]) <= {n_units}
        prog = af.progress(sel)
        expected = ref_progress(prep, mask)
        keys = ["event_name", "event_date", "day"]
        pd.testing.assert_frame_equal(by_keys(prog[keys + ["answers", "respondents", "coded"]], keys),
                                      by_keys(expected[keys + ["answers", "respondents", "coded"]], keys),
                                      check_dtype=False)
        assert af.headline(sel) == ref_headline(prep, mask)
        groups = af.respondents_by_group(sel)
        a = prep.answers[mask]
        expected = a.groupby("group_id").agg(respondents=("rsp", "nunique"), answers=("rix", "size")).reset_index()
        pd.testing.assert_frame_equal(by_keys(groups[["group_id", "respondents", "answers"]], ["group_id"]),
                                      by_keys(expected, ["group_id"]), check_dtype=False)
        for code_id in (1, 10, 12, 20, 31):
            expected_rix = np.unique(ref_pairs(prep, mask, "code")[0].query("code_id == @code_id")["rix"])
            assert np.array_equal(sel.code_rix(code_id), expected_rix)
        for question in ("thrive_helps", "extra_q"):
            for n, min_count in ((15, 2), (500, 1)):
                words, phrases = af.words_and_phrases(sel, question, n=n, min_count=min_count)
                ref_w, ref_p = ref_words(prep, mask, question, n, min_count)
                assert list(words.itertuples(index=False, name=None)) == list(ref_w.itertuples(index=False, name=None))
                assert list(phrases.itertuples(index=False, name=None)) == list(
                    ref_p.itertuples(index=False, name=None))


def test_the_reference_can_tell_a_wrong_count():
    """The comparison above is not vacuous: one coding fewer changes a reference count that the fast path sees."""
    prep = random_frames(4, n_resp=60)
    sel = af.select(prep, af.Filter())
    before = af.theme_shares(sel, "code", threshold=5)
    dropped = prep.pairs.iloc[1:]  # one answer-code pair gone
    other = af.Prepared(prep.answers, dropped.reset_index(drop=True), prep.codes, prep.theme_of, prep.coded,
                        prep.pins, prep.lineage, prep.questions, prep.groups, prep.q_values, prep.g_values)
    after = af.theme_shares(af.select(other, af.Filter()), "code", threshold=5)
    assert before["answers"].sum() - after["answers"].sum() == 1
    assert not ref_shares(other, np.ones(len(prep.answers), bool), "code")["answers"].equals(
        ref_shares(prep, np.ones(len(prep.answers), bool), "code")["answers"])


def test_word_counts_follow_a_new_data_version_not_an_old_memo():
    prep = random_frames(5, n_resp=50)
    words, _ = af.words_and_phrases(af.select(prep, af.Filter()), "thrive_helps", n=500, min_count=1)
    answers = prep.answers.drop(columns=["rix", "rsp", "qix", "gix"]).copy()
    answers.loc[answers["question_id"] == "thrive_helps", "text"] = "zebra crossing"
    fresh = af.prepare(answers, prep.pairs.assign(response_id=prep.answers["response_id"].to_numpy()[
        prep.pairs["rix"].to_numpy()])[["response_id", "code_id"]], prep.codes)
    words2, phrases2 = af.words_and_phrases(af.select(fresh, af.Filter()), "thrive_helps", n=500, min_count=1)
    assert list(words2["word"]) == ["crossing", "zebra"] and list(phrases2["phrase"]) == ["zebra crossing"]
    assert set(words["word"]) != set(words2["word"])


def test_unknown_question_and_empty_selection():
    prep = random_frames(6, n_resp=30)
    words, phrases = af.words_and_phrases(af.select(prep, af.Filter()), "no_such_question")
    assert words.empty and phrases.empty
    empty = af.select(prep, af.Filter(groups=("nobody",)))
    assert af.theme_shares(empty).empty and af.by_group(empty).empty and af.cooccurrence(empty).empty
    assert af.progress(empty).empty and af.headline(empty)["answers"] == 0
    assert af.quotes(empty, 1).empty and af.coded_answers(empty, 1).empty


def test_coded_answers_limit_keeps_every_pin_and_the_first_unpinned():
    prep = random_frames(7, n_resp=80)
    every = af.coded_answers(af.select(prep, af.Filter()), 1)
    prep.pins = pd.DataFrame({"code_id": [1, 1], "response_id": [every["response_id"].iloc[-1],
                                                                every["response_id"].iloc[5]]})
    every = af.coded_answers(af.select(prep, af.Filter()), 1)
    limited = af.coded_answers(af.select(prep, af.Filter()), 1, limit=3)
    assert int(every["pinned"].sum()) == 2 and int(limited["pinned"].sum()) == 2
    assert list(limited.loc[~limited["pinned"], "response_id"]) == list(every.loc[~every["pinned"], "response_id"][:3])
    assert set(every["group"]) <= set(prep.groups.values())
