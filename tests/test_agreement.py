"""Coder agreement: Cohen's kappa and Krippendorff's alpha against hand-worked examples, the degenerate cases,
stratified stable samples, disagreements side by side and their resolution."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from analysis import agreement as stats
from data import agreement, coding
from data import codebook as cb
from data.importer import import_responses
from data.users import PermissionDenied
from tests.conftest import make_user

ITEMS = [f"i{k}" for k in range(10)]


def test_kappa_and_alpha_by_hand():
    # A applies the code to i0-i3, B to i0-i2 and i4: 8 of 10 decisions agree.
    # Cohen: Ao = 0.8; pA(yes) = pB(yes) = 0.4, so Ae = 0.4*0.4 + 0.6*0.6 = 0.52; kappa = (0.8-0.52)/0.48 = 7/12.
    # Krippendorff (nominal): 20 values, 8 "yes" and 12 "no"; the two disagreeing items give o(yes,no) +
    # o(no,yes) = 4 coincidences; alpha = 1 - (20-1) * 4 / (2 * 8 * 12) = 1 - 76/192 = 29/48.
    result = stats.code_agreement("x", ITEMS, {"i0", "i1", "i2", "i3"}, {"i0", "i1", "i2", "i4"})
    assert result.n == 10 and (result.applied_a, result.applied_b, result.both) == (4, 4, 3)
    assert result.observed == pytest.approx(0.8)
    assert result.kappa == pytest.approx(7 / 12)
    assert result.alpha == pytest.approx(29 / 48)
    assert result.reason == ""


def test_chance_level_and_perfect_agreement_by_hand():
    # A applies it once, B never: Ao = 0.9, Ae = 0.1*0 + 0.9*1 = 0.9, kappa = 0;
    # alpha = 1 - 19 * 2 / (2 * 1 * 19) = 0.
    chance = stats.code_agreement("y", ITEMS, {"i0"}, set())
    assert chance.kappa == pytest.approx(0.0) and chance.alpha == pytest.approx(0.0)
    # Complete agreement with variation: kappa = alpha = 1.
    perfect = stats.code_agreement("z", ITEMS, {"i1", "i2"}, {"i1", "i2"})
    assert perfect.kappa == pytest.approx(1.0) and perfect.alpha == pytest.approx(1.0)
    # Every decision differs: Ao = 0, Ae = 0.5*0.5 + 0.5*0.5 = 0.5, kappa = -1;
    # alpha = 1 - 19 * 20 / (2 * 10 * 10) = -0.9.
    half = {f"i{k}" for k in range(5)}
    opposite = stats.code_agreement("w", ITEMS, half, set(ITEMS) - half)
    assert opposite.kappa == pytest.approx(-1.0) and opposite.alpha == pytest.approx(-0.9)


def test_degenerate_cases_return_none_with_a_reason():
    nobody = stats.code_agreement("n", ITEMS, set(), set())
    assert (nobody.kappa, nobody.alpha, nobody.observed, nobody.n) == (None, None, 1.0, 10)
    assert "neither coder" in nobody.reason
    everyone = stats.code_agreement("e", ITEMS, set(ITEMS), set(ITEMS))
    assert (everyone.kappa, everyone.alpha) == (None, None) and "every answer" in everyone.reason
    empty = stats.code_agreement("x", [], {"i0"}, set())
    assert (empty.n, empty.kappa, empty.alpha, empty.observed) == (0, None, None, None)
    assert "no answers" in empty.reason


# --- the closed form against nltk's AnnotationTask (which this module used per code until it cost the board
# report 82 of 98 seconds at 100,000 answers) ---------------------------------------------------------------------

def _nltk(both: int, only_a: int, only_b: int, neither: int) -> tuple[float, float]:
    """Kappa and alpha of one 2x2 table through nltk.metrics.agreement.AnnotationTask, as the module computed them."""
    from nltk.metrics.agreement import AnnotationTask

    labels = [(1, 1)] * both + [(1, 0)] * only_a + [(0, 1)] * only_b + [(0, 0)] * neither
    random.Random(len(labels)).shuffle(labels)  # the order of the answers must not matter
    task = AnnotationTask(data=[("A", f"i{k}", x) for k, (x, _) in enumerate(labels)]
                          + [("B", f"i{k}", y) for k, (_, y) in enumerate(labels)])
    return float(task.kappa()), float(task.alpha())


def _random_tables(count: int, seed: int) -> list[tuple[int, int, int, int]]:
    rng = random.Random(seed)
    tables = []
    while len(tables) < count:
        n = rng.choice([1, 2, 3, 5, 10, 37, 120])
        weights = [rng.random() ** 2 for _ in range(4)]  # skewed: rare codes, lopsided coders
        cells = [0, 0, 0, 0]
        for _ in range(n):
            cells[rng.choices(range(4), weights)[0]] += 1
        tables.append(tuple(cells))
    return tables


def _degenerate(both: int, only_a: int, only_b: int, neither: int) -> bool:
    n = both + only_a + only_b + neither
    return n == 0 or both + only_a + only_b == 0 or neither + only_a + only_b == 0


def test_closed_form_equals_nltk_on_random_tables():
    compared = 0
    for table in _random_tables(400, seed=12):
        result = stats.from_counts("c", *table)
        both, only_a, only_b, neither = table
        n = sum(table)
        assert (result.n, result.applied_a, result.applied_b, result.both) == (n, both + only_a, both + only_b, both)
        assert result.observed == pytest.approx((both + neither) / n, abs=1e-12)
        if _degenerate(*table):
            assert result.kappa is None and result.alpha is None and result.reason
            continue
        kappa, alpha = _nltk(*table)
        assert result.kappa == pytest.approx(kappa, abs=1e-12), table
        assert result.alpha == pytest.approx(alpha, abs=1e-12), table
        assert result.reason == ""
        compared += 1
    assert compared > 300  # the draw really exercises the non-degenerate path


@pytest.mark.parametrize("table", [
    (3, 0, 0, 7),    # complete agreement with variation
    (0, 4, 0, 6),    # coder B never applied it
    (0, 0, 10, 0),   # coder A never, B on every answer
    (9, 1, 0, 0),    # A on every answer, B on all but one
    (9, 0, 1, 0),    # B on every answer, A on all but one
    (0, 1, 0, 0),    # a single answer, coders differ
    (0, 10, 10, 0),  # every decision differs
    (1, 0, 0, 1),    # two answers
    (500, 3, 2, 4495),
])
def test_closed_form_equals_nltk_on_edge_tables(table):
    result = stats.from_counts("c", *table)
    kappa, alpha = _nltk(*table)
    assert result.kappa == pytest.approx(kappa, abs=1e-12)
    assert result.alpha == pytest.approx(alpha, abs=1e-12)


@pytest.mark.parametrize(("table", "reason"), [
    ((0, 0, 0, 0), "no answers"), ((0, 0, 0, 1), "neither coder"), ((0, 0, 0, 25), "neither coder"),
    ((1, 0, 0, 0), "every answer"), ((25, 0, 0, 0), "every answer"),
])
def test_undefined_tables_are_reported_as_before(table, reason):
    """Expected agreement 1 (a single answer they agree on, the code never or always applied) or no answers:
    None with the reason, as before; nltk would have said 1 (or failed on no data), which hides that there was
    nothing to agree about."""
    result = stats.from_counts("c", *table)
    assert (result.kappa, result.alpha) == (None, None) and reason in result.reason
    assert result.observed == (None if sum(table) == 0 else 1.0)
    if sum(table):
        assert _nltk(*table) == (1.0, 1.0)
    # the same through the item-level entry point
    items = [f"i{k}" for k in range(sum(table))]
    same = stats.code_agreement("c", items, set(items[:table[0]]), set(items[:table[0]]))
    assert same == result


def test_expected_agreement_one_without_observed_one_is_refused_like_nltk():
    assert stats._chance_corrected(1.0, 1.0) == 1.0
    assert stats._chance_corrected(0.8, 0.52) == pytest.approx(7 / 12)
    with pytest.raises(ValueError):
        stats._chance_corrected(0.5, 1.0)
    with pytest.raises(ValueError):
        stats.from_counts("c", 1, -1, 0, 0)


def test_published_examples():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", binary data, two observers, 10 units:
    # A = 0 1 0 0 0 0 0 0 1 0, B = 1 1 1 0 0 1 0 0 0 0 -> alpha = 0.095 (1 - 19*4/(14*6) = 2/21).
    # Cohen's kappa of the same: Ao = 0.6, Ae = 0.2*0.4 + 0.8*0.6 = 0.56, kappa = 0.04/0.44 = 1/11.
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    items = [f"u{k}" for k in range(10)]
    applied_a = {i for i, x in zip(items, a, strict=True) if x}
    applied_b = {i for i, y in zip(items, b, strict=True) if y}
    result = stats.code_agreement("x", items, applied_a, applied_b)
    assert (result.both, result.applied_a, result.applied_b) == (1, 2, 4)
    assert round(result.alpha, 3) == 0.095 and result.alpha == pytest.approx(2 / 21, abs=1e-12)
    assert result.kappa == pytest.approx(1 / 11, abs=1e-12) and result.observed == pytest.approx(0.6)
    # Cohen's kappa, the common textbook table: 50 proposals, both yes 20, A yes / B no 5, A no / B yes 10,
    # both no 15: Ao = 0.7, Ae = 0.5*0.6 + 0.5*0.4 = 0.5, kappa = 0.4.
    assert stats.from_counts("y", 20, 5, 10, 15).kappa == pytest.approx(0.4, abs=1e-12)


def test_table_equals_per_code_and_nltk_on_random_codings():
    rng = random.Random(5)
    codes = [f"c{k}" for k in range(8)]
    for _ in range(20):
        answers = [f"r{k}" for k in range(rng.randint(0, 60))]
        coded_a = {r: set(rng.sample(codes, rng.randint(0, 3))) for r in answers if rng.random() < 0.8}
        coded_b = {r: set(rng.sample(codes, rng.randint(0, 3))) for r in answers if rng.random() < 0.8}
        coded_b.update({"b_only": {"c0"}})
        listed = codes[:6] + ["never_used"]  # c6, c7 are used but not asked for
        table = stats.agreement_table(listed, coded_a, coded_b)
        assert list(table) == listed
        items = sorted(set(coded_a) & set(coded_b))
        for code in listed:
            applied_a = {i for i in items if code in coded_a[i]}
            applied_b = {i for i in items if code in coded_b[i]}
            expected = stats.code_agreement(code, items, applied_a, applied_b)
            assert table[code] == expected
            both = len(applied_a & applied_b)
            cells = (both, len(applied_a) - both, len(applied_b) - both, len(items) - len(applied_a | applied_b))
            if not _degenerate(*cells):
                kappa, alpha = _nltk(*cells)
                assert table[code].kappa == pytest.approx(kappa, abs=1e-12)
                assert table[code].alpha == pytest.approx(alpha, abs=1e-12)


def test_table_uses_only_answers_both_coded():
    coded_a = {"i0": {"x"}, "i1": {"y"}, "i2": {"x", "y"}, "only_a": {"x"}}
    coded_b = {"i0": {"x"}, "i1": {"x"}, "i2": {"x", "y"}, "only_b": {"y"}}
    table = stats.agreement_table(["x", "y"], coded_a, coded_b)
    assert table["x"].n == 3 and table["x"].applied_a == 2 and table["x"].applied_b == 3
    assert table["y"].both == 1
    overall = stats.summary(table)
    assert overall["n"] == 3 and overall["codes_with_values"] == 2


def _overview_by_dicts(codings, codes):
    """The report's agreement paragraph as analysis.findings.agreement_overview computed it: per coder a dict of
    answer -> set of code names, the pair who double-coded most, agreement_table over the codebook's names."""
    names = dict(zip(codes["code_id"], codes["name"], strict=True))
    per_coder: dict[str, set[str]] = {}
    coded: dict[str, dict[str, set[str]]] = {}
    for rid, code, coder in zip(codings["response_id"], codings["code_id"], codings["coder"], strict=True):
        per_coder.setdefault(coder, set()).add(rid)
        coded.setdefault(coder, {}).setdefault(rid, set()).add(names.get(int(code), str(code)))
    coders = sorted(per_coder)
    best = max(((len(per_coder[a] & per_coder[b]), a, b) for i, a in enumerate(coders) for b in coders[i + 1:]),
               default=(0, "", ""))
    if best[0] == 0:
        return None
    _, a, b = best
    table = stats.agreement_table(sorted(set(names.values())), coded[a], coded[b])
    return {"coder_a": a, "coder_b": b, **stats.summary(table)}


def _frames(rows, code_names):
    import pandas as pd

    codings = pd.DataFrame(rows, columns=["response_id", "code_id", "coder"])
    codings = codings.astype({"response_id": "str", "coder": "str", "code_id": "int64"})
    codes = pd.DataFrame({"code_id": list(range(1, len(code_names) + 1)), "name": code_names})
    return codings, codes


def test_overview_from_the_codings_frame_equals_the_dictionaries():
    rng = random.Random(21)
    code_names = ["food", "friends", "school", "safety", "money", "parks"]
    compared = 0
    for _ in range(60):
        coders = rng.sample(["ada", "olu", "kim", "zed"], rng.randint(2, 4))
        rows = []
        for k in range(rng.randint(1, 80)):
            for coder in coders:
                if rng.random() < 0.6:
                    # code ids 1-6 are in the codebook, 9 is not (named "9" as before); a repeated row is one coding
                    for code in rng.sample([1, 2, 3, 4, 5, 6, 9], rng.randint(1, 3)):
                        rows += [(f"r{k}", code, coder)] * rng.choice([1, 1, 2])
        if not rows:
            continue
        codings, codes = _frames(rows, code_names)
        expected = _overview_by_dicts(codings, codes)
        assert stats.overview(codings, codes) == expected
        compared += expected is not None
    assert compared > 40


def test_overview_ties_and_nothing_to_compare():
    # ada/kim and kim/olu both share two answers: the pair last in name order (kim, olu), as before
    rows = [("r1", 1, "ada"), ("r2", 1, "ada"), ("r1", 1, "kim"), ("r2", 2, "kim"), ("r3", 1, "kim"),
            ("r4", 2, "kim"), ("r3", 1, "olu"), ("r4", 1, "olu")]
    codings, codes = _frames(rows, ["food", "friends"])
    result = stats.overview(codings, codes)
    assert result == _overview_by_dicts(codings, codes)
    assert (result["coder_a"], result["coder_b"], result["n"]) == ("kim", "olu", 2)
    # food: kim r3, olu r3 r4 -> table (1, 0, 1, 0); friends: kim r4 only -> (0, 1, 0, 1)
    assert result["mean_kappa"] == pytest.approx((stats.from_counts("f", 1, 0, 1, 0).kappa
                                                  + stats.from_counts("g", 0, 1, 0, 1).kappa) / 2)
    one_coder, codes = _frames([("r1", 1, "ada"), ("r2", 2, "ada")], ["food", "friends"])
    assert stats.overview(one_coder, codes) is None
    apart, codes = _frames([("r1", 1, "ada"), ("r2", 1, "olu")], ["food"])
    assert stats.overview(apart, codes) is None and _overview_by_dicts(apart, codes) is None
    empty, codes = _frames([], ["food"])
    assert stats.overview(empty, codes) is None


def test_stratified_sample_is_proportional_and_stable():
    strata = {"q1": [f"a{k}" for k in range(60)], "q2": [f"b{k}" for k in range(30)], "q3": [f"c{k}" for k in range(10)]}
    drawn = stats.stratified_sample(strata, 20, seed=7)
    assert len(drawn) == 20 == len(set(drawn))
    assert Counter(x[0] for x in drawn) == {"a": 12, "b": 6, "c": 2}
    assert stats.stratified_sample(strata, 20, seed=7) == drawn
    assert stats.stratified_sample(strata, 20, seed=8) != drawn
    tiny = stats.stratified_sample({"q1": ["a"] * 1 + [], "q2": [f"b{k}" for k in range(99)]}, 3, seed=1)
    assert "a" in tiny and len(tiny) == 3  # a small question still gets one answer
    assert len(stats.stratified_sample(strata, 1000, seed=1)) == 100


ANSWERS = "id,question,group,text\n" + "".join(
    f"r{k},{q},young_person,answer {k}\n" for k, q in enumerate(["thrive_helps"] * 6 + ["thrive_stops"] * 4))


@pytest.fixture
def two_coders(db, admin, officer):
    import_responses(db, admin, ANSWERS.encode(), "a.csv", event="Fair")
    for name in ("food", "friends", "unused"):
        cb.create_code(db, officer, name, name.title())
    ids = dict(db.execute("SELECT external_id, id FROM responses").fetchall())
    other = make_user("engagement_officer", name="kim_officer")
    a_codes = {"r0": ["food"], "r1": ["food", "friends"], "r2": ["friends"], "r3": ["food"], "r4": ["friends"]}
    b_codes = {"r0": ["food"], "r1": ["food"], "r2": ["friends"], "r3": ["friends"], "r4": ["friends"],
               "r9": ["food"]}
    coding.apply_many(db, officer, [(ids[r], c) for r, codes in a_codes.items() for c in codes])
    coding.apply_many(db, other, [(ids[r], c) for r, codes in b_codes.items() for c in codes])
    return ids, other


def test_report_from_the_database(db, officer, two_coders):
    report = agreement.report(db, officer, "olu_officer", "kim_officer")
    assert report.n == 5
    # food: A on r0,r1,r3; B on r0,r1 over r0-r4 -> agree 4/5; pA=.6, pB=.4, Ae=.24+.24=.48,
    # kappa = (.8-.48)/.52 = 8/13; alpha: 10 values, 5 yes, 5 no, 2 coincidences: 1 - 9*2/(2*5*5) = 0.64
    food = report.codes["food"]
    assert (food.n, food.kappa, food.alpha) == (5, pytest.approx(8 / 13), pytest.approx(0.64))
    assert report.codes["unused"].kappa is None and "neither" in report.codes["unused"].reason
    data = report.as_json()
    assert set(data["codes"]["food"]) >= {"kappa", "alpha", "n"}
    json.dumps(data)  # serialisable
    with pytest.raises(agreement.AgreementError):
        agreement.report(db, officer, "olu_officer", "olu_officer")


def test_disagreements_side_by_side_and_resolve(db, officer, two_coders):
    ids, other = two_coders
    rows = agreement.disagreements(db, officer, "olu_officer", "kim_officer")
    assert [(r.response_id, r.only_a, r.only_b) for r in rows] == sorted([
        (ids["r1"], ("friends",), ()), (ids["r3"], ("food",), ("friends",))])
    r3 = next(r for r in rows if r.response_id == ids["r3"])
    assert r3.codes_a == ("food",) and r3.codes_b == ("friends",) and r3.text == "answer 3"
    # resolve: the second coder adopts "food" and drops "friends" on r3; the officer drops "friends" on r1
    agreement.resolve(db, other, ids["r3"], "food", apply=True)
    agreement.resolve(db, other, ids["r3"], "friends", apply=False)
    agreement.resolve(db, officer, ids["r1"], "friends", apply=False)
    assert agreement.disagreements(db, officer, "olu_officer", "kim_officer") == []
    assert agreement.report(db, officer, "olu_officer", "kim_officer").codes["food"].kappa == pytest.approx(1.0)


def test_sample_is_stored_stratified_and_restricts_the_report(db, officer, two_coders):
    ids, _ = two_coders
    sample = agreement.draw_sample(db, officer, coder_a="olu_officer", coder_b="kim_officer", size=5, seed=3)
    items = agreement.sample_items(db, officer, sample.id)
    assert len(items) == 5 and sample.size == 5 and sample.seed == 3
    questions = Counter(db.execute(f"SELECT question_id FROM responses WHERE id IN ({','.join('?' * 5)})",
                                   items).fetchall())
    assert questions == {("thrive_helps",): 3, ("thrive_stops",): 2}
    again = agreement.draw_sample(db, officer, coder_a="olu_officer", coder_b="kim_officer", size=5, seed=3)
    assert agreement.sample_items(db, officer, again.id) == items  # same data + seed: same draw
    assert agreement.sample_items(db, officer, sample.id) == items  # stored: stable
    report = agreement.report(db, officer, "olu_officer", "kim_officer", sample_id=sample.id)
    both_coded = {ids[r] for r in ("r0", "r1", "r2", "r3", "r4")}
    assert report.n == len(both_coded & set(items))
    queue = coding.queue(db, officer, coding.Filters(sample_id=sample.id), page_size=50)
    assert {a.id for a in queue.answers} == set(items)
    assert db.execute("SELECT count(*) FROM audit WHERE action = 'agreement_sample_drawn'").fetchone()[0] == 2
    with pytest.raises(agreement.AgreementError):
        agreement.draw_sample(db, officer, coder_a="a", coder_b="b", size=0)


def test_agreement_permission(db, lead):
    with pytest.raises(PermissionDenied):
        agreement.report(db, lead, "a", "b")


def test_cli_agreement_json(db_path, db, officer, two_coders, tmp_path):
    from click.testing import CliRunner

    from cli import cli

    db.conn.close()
    result = CliRunner().invoke(cli, ["agreement", "--coders", "olu_officer,kim_officer", "--json",
                                      "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["codes"]["food"]["kappa"] == pytest.approx(8 / 13)
    assert data["codes"]["food"]["alpha"] == pytest.approx(0.64) and data["codes"]["food"]["n"] == 5
    assert data["codes"]["unused"]["kappa"] is None and data["codes"]["unused"]["reason"]
    assert data["n"] == 5
    result = CliRunner().invoke(cli, ["agreement", "--coders", "olu_officer", "--db", str(db_path)])
    assert result.exit_code == 1 and "exactly two coders" in result.output


def test_cli_codings_round_trip(db_path, db, officer, two_coders, tmp_path):
    from click.testing import CliRunner

    from cli import cli

    before = db.execute("SELECT response_id, code_id, coder, source, created_at FROM codings ORDER BY 1, 2, 3").fetchall()
    db.conn.close()
    out = tmp_path / "codings.csv"
    runner = CliRunner()
    assert runner.invoke(cli, ["codings", "export", str(out), "--db", str(db_path)]).exit_code == 0
    from data import open_db

    again = open_db(db_path)
    again.execute("DELETE FROM codings")
    again.conn.commit()
    again.conn.close()
    result = runner.invoke(cli, ["codings", "import", str(out), "--db", str(db_path)])
    assert result.exit_code == 0 and f"{len(before)} coding(s) added" in result.output and len(before) == 12
    after = open_db(db_path)
    assert after.execute("SELECT response_id, code_id, coder, source, created_at FROM codings ORDER BY 1, 2, 3"
                         ).fetchall() == before
    after.conn.close()
