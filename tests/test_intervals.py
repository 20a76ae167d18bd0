"""Wilson intervals on shares and Newcombe's interval on a difference of two shares, against statsmodels, and
the intervals as the findings tables carry them."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import findings as af

proportion = pytest.importorskip("statsmodels.stats.proportion", reason="statsmodels is a dev requirement")

CASES = [(0, 1), (0, 12), (1, 12), (6, 12), (12, 12), (3, 7), (45, 120), (118, 120), (250, 1000), (1, 550_000)]


@pytest.mark.parametrize(("k", "n"), CASES)
def test_wilson_matches_statsmodels(k, n):
    lo, hi = af.wilson_interval(k, n)
    ref_lo, ref_hi = proportion.proportion_confint(k, n, alpha=0.05, method="wilson")
    assert float(lo) == pytest.approx(ref_lo, abs=1e-12) and float(hi) == pytest.approx(ref_hi, abs=1e-12)
    assert 0 <= lo <= k / n <= hi <= 1


def test_wilson_vectorised_and_empty_base():
    k, n = np.array([c[0] for c in CASES]), np.array([c[1] for c in CASES])
    lo, hi = af.wilson_interval(k, n)
    ref = [proportion.proportion_confint(a, b, method="wilson") for a, b in CASES]
    assert np.allclose(lo, [r[0] for r in ref]) and np.allclose(hi, [r[1] for r in ref])
    lo, hi = af.wilson_interval([0, 3], [0, 10])
    assert np.isnan(lo[0]) and np.isnan(hi[0]) and not np.isnan(lo[1])
    # a smaller base gives a wider interval around the same share
    lo, hi = af.wilson_interval([50, 5], [100, 10])
    assert hi[1] - lo[1] > hi[0] - lo[0] and lo[1] < lo[0] < 0.5 < hi[0] < hi[1]


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [(56, 70, 48, 80), (9, 10, 3, 10), (0, 20, 0, 25),
                                                    (5, 12, 7, 12), (120, 300, 80, 310), (10, 10, 0, 10)])
def test_newcombe_matches_statsmodels_score_difference(k1, n1, k2, n2):
    lo, hi = af.newcombe_interval(k1, n1, k2, n2)
    ref = proportion.confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    assert float(lo) == pytest.approx(ref[0], abs=1e-12) and float(hi) == pytest.approx(ref[1], abs=1e-12)
    assert lo <= k1 / n1 - k2 / n2 <= hi


def test_newcombe_reference_values():
    # Newcombe (1998), Table II, example (a): 56/70 - 48/80, method 10 interval 0.0524 to 0.3339
    lo, hi = af.newcombe_interval(56, 70, 48, 80)
    assert (round(float(lo), 4), round(float(hi), 4)) == (0.0524, 0.3339)


def test_could_be_chance_in_words():
    assert af.could_be_chance(-0.05, 0.2) and af.could_be_chance(float("nan"), 0.1)
    assert not af.could_be_chance(0.01, 0.3) and not af.could_be_chance(-0.3, -0.02)
    assert af.pct_interval(0.42, 0.351, 0.493) == "42% (95% CI 35–49%)"
    assert af.pct_interval(float("nan"), 0, 0) == ""


def test_tables_carry_the_intervals(db, admin):
    from data.findings import load_frames
    from tests import findings_data

    findings_data.seed(db, admin)
    frames = load_frames(db, admin, with_text=True)
    prep = af.prepare(frames.answers, frames.codings, frames.codes, frames.pins, frames.questions, frames.groups)
    sel = af.select(prep, af.Filter())
    shares = af.theme_shares(sel, level="code")
    row = shares.iloc[0]
    ref = proportion.proportion_confint(row.respondents, row.base_respondents, method="wilson")
    assert (row.ci_low, row.ci_high) == pytest.approx(ref)
    table = af.by_group(sel, level="code", threshold=2)
    assert table.loc[table["suppressed"], "ci_low"].isna().all()
    cmp = af.compare_groups(table, "young_person", "parent_carer")
    known = cmp.dropna(subset=["difference"])
    assert len(known) and (known["diff_low"] <= known["difference"]).all()
    assert (known["difference"] <= known["diff_high"]).all()
    # "could be chance" is exactly "the interval holds 0"
    holds_zero = [bool(lo <= 0 <= hi) for lo, hi in zip(known["diff_low"], known["diff_high"], strict=True)]
    assert list(known["chance"]) == holds_zero
    assert known["chance"].any()  # a handful of people per group: at least one difference could be chance
    assert cmp.loc[cmp["difference"].isna(), "chance"].all()
