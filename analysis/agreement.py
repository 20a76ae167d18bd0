"""Inter-coder agreement per code on the applied / not-applied decision: Cohen's kappa and Krippendorff's alpha
(nominal, two coders), computed in closed form from each code's 2x2 table of counts (both applied / only A /
only B / neither), with the degenerate cases handled explicitly rather than left to a division by zero.

The closed forms reproduce nltk.metrics.agreement.AnnotationTask (which this module used to build per code: 82 of
98 profiled seconds of the board report at 100,000 answers) operation for operation, so the figures are the same
floats; tests/test_agreement.py compares them with AnnotationTask on random and edge-case tables. With n answers,
a = both + only_a and b = both + only_b the answers each coder gave the code, and d = only_a + only_b:
- observed agreement Ao = (both + neither) / n;
- Cohen: Ae = (a/n)(b/n) + ((n-a)/n)((n-b)/n), kappa = (Ao - Ae) / (1 - Ae);
- Krippendorff (nominal): 2n pairable values, n1 = a + b "applied" and n0 = 2n - n1 "not applied";
  Do = 2d / 2n, De = 2 n0 n1 / (2n (2n - 1)), alpha = 1 - Do / De.

Degenerate cases (documented contract, also in the CLI JSON):
- n == 0 (no answer coded by both coders): kappa and alpha are None, reason "no answers coded by both coders".
- only one decision seen (nobody applied the code on those answers, or both applied it to every one): the
  coders agree completely but there is no variation, so chance-corrected agreement is undefined (expected
  agreement is 1): kappa and alpha are None, `observed` is 1.0 and the reason says which case it was.
Otherwise kappa and alpha are floats (they may be negative: worse than chance).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

NO_ANSWERS = "no answers coded by both coders"
NOBODY = ("neither coder applied this code: complete agreement, but kappa and alpha are undefined without "
          "variation")
EVERY = ("both coders applied this code to every answer: complete agreement, but kappa and alpha are undefined "
         "without variation")


@dataclass(frozen=True)
class CodeAgreement:
    code: str
    n: int                  # answers both coders coded
    applied_a: int          # of those, answers coder A gave this code
    applied_b: int
    both: int               # answers both gave it
    observed: float | None  # share of the n answers with the same decision
    kappa: float | None
    alpha: float | None
    reason: str = ""        # why kappa/alpha are None

    def as_dict(self) -> dict:
        return asdict(self)


def _chance_corrected(observed: float, expected: float) -> float:
    """(observed - expected) / (1 - expected), as nltk's AnnotationTask computes it: where expected agreement is
    (close to) 1 it gives 1.0 if observed agreement is too and refuses otherwise. The degenerate tables never get
    here; a non-degenerate one has 1 - Ae >= 1/n, so this refusal needs more than 10^9 answers."""
    if math.isclose(expected, 1.0):
        if math.isclose(observed, 1.0):
            return 1.0
        raise ValueError(f"Expected agreement is 1.0 but observed agreement is {observed:.4f}.")
    return (observed - expected) / (1.0 - expected)


def from_counts(code: str, both: int, only_a: int, only_b: int, neither: int) -> CodeAgreement:
    """Agreement on one code from its 2x2 table over the answers both coders coded: how many both coders gave the
    code, only coder A, only coder B, neither."""
    both, only_a, only_b, neither = (int(x) for x in (both, only_a, only_b, neither))
    if min(both, only_a, only_b, neither) < 0:
        raise ValueError("counts cannot be negative")
    n = both + only_a + only_b + neither
    if n == 0:
        return CodeAgreement(code, 0, 0, 0, 0, None, None, None, NO_ANSWERS)
    a, b = both + only_a, both + only_b
    observed = (both + neither) / n
    if a == 0 and b == 0:
        return CodeAgreement(code, n, 0, 0, 0, observed, None, None, NOBODY)
    if a == n and b == n:
        return CodeAgreement(code, n, n, n, n, observed, None, None, EVERY)
    nitems = float(n)
    expected = (a / nitems) * (b / nitems) + ((n - a) / nitems) * ((n - b) / nitems)
    kappa = _chance_corrected(observed, expected)
    applied, values = a + b, 2 * n              # pairable values: two per answer
    do = (2.0 * (only_a + only_b)) / values     # each disagreeing answer: 2 ordered (applied, not) pairs / (2 - 1)
    de = (2.0 * applied * (values - applied)) / (values * (values - 1))
    alpha = 1.0 - do / de
    return CodeAgreement(code, n, a, b, both, observed, float(kappa), float(alpha))


def code_agreement(code: str, items: Iterable[str], applied_a: set[str], applied_b: set[str]) -> CodeAgreement:
    """Agreement on one code over `items` (answers both coders coded); applied_x are the items coder x gave it."""
    items = set(items)
    a, b = items & set(applied_a), items & set(applied_b)
    both = len(a & b)
    return from_counts(code, both, len(a) - both, len(b) - both, len(items) - len(a) - len(b) + both)


def agreement_table(codes: Iterable[str], coded_a: Mapping[str, set[str]], coded_b: Mapping[str, set[str]],
                    ) -> dict[str, CodeAgreement]:
    """Per code, agreement over the answers both coders coded. coded_x maps answer id -> the codes x applied
    (an answer is 'coded' by x when it appears as a key). One pass over the answers counts every code's table."""
    items = set(coded_a) & set(coded_b)
    n = len(items)
    count_a: Counter[str] = Counter()
    count_b: Counter[str] = Counter()
    count_both: Counter[str] = Counter()
    for i in items:
        sa, sb = set(coded_a[i]), set(coded_b[i])
        count_a.update(sa)
        count_b.update(sb)
        count_both.update(sa & sb)
    result = {}
    for code in codes:
        both, a, b = count_both[code], count_a[code], count_b[code]
        result[code] = from_counts(code, both, a - both, b - both, n - a - b + both)
    return result


def overview(codings: Any, codes: Any) -> dict[str, Any] | None:
    """Agreement between the two coders who double-coded the most answers (ties: the pair last in name order),
    over the codebook's names (`codes`: code_id, name), or None when no answer was coded by two people. Keys:
    coder_a, coder_b and summary()'s n, codes_with_values, mean_kappa, mean_alpha.

    `codings` is a frame of response_id, code_id, coder (the exports' codings). The same figures as building
    {answer: set of code names} per coder and calling agreement_table, counted with numpy over integer keys
    (at 100,000 answers that dictionary building cost ~1.5 s of the report; this takes ~0.06 s, ~0.5 s at 1.1 M
    codings)."""
    import numpy as np
    import pandas as pd

    if codings is None or codings.empty or codings["coder"].nunique() < 2:
        return None
    names = dict(zip(codes["code_id"], codes["name"], strict=False))
    rid, answers = pd.factorize(codings["response_id"])
    coders = sorted(codings["coder"].dropna().unique())
    coder_idx = pd.Categorical(codings["coder"], categories=coders).codes
    # which answers each coder coded, as one row of booleans per coder (cheaper than unique/intersect at 1 M codings)
    present = np.zeros((len(coders), len(answers)), dtype=bool)
    known = coder_idx >= 0
    present[coder_idx[known], rid[known]] = True
    best = max(((int(np.count_nonzero(present[i] & present[j])), coders[i], coders[j], i, j)
                for i in range(len(coders)) for j in range(i + 1, len(coders))), default=(0, "", "", -1, -1))
    if best[0] == 0:
        return None
    _, a, b, ia, ib = best
    shared = present[ia] & present[ib]
    n = int(np.count_nonzero(shared))
    item_pos = np.cumsum(shared) - 1  # each shared answer's place among them
    # each coding's code name as an integer (a code id missing from `codes` is named by its id, as before)
    code_inverse, code_values = pd.factorize(codings["code_id"])
    name_idx, labels = pd.factorize(pd.Series([names.get(int(c), str(c)) for c in code_values], dtype=object))
    name_of_row = name_idx[code_inverse]
    k = max(len(labels), 1)
    on_shared = shared[rid]

    def seen(coder: int) -> np.ndarray:  # the coder's (shared answer, code name) pairs, each once, as n x k booleans
        mask = on_shared & (coder_idx == coder)
        out = np.zeros(n * k, dtype=bool)
        out[item_pos[rid[mask]].astype(np.int64) * k + name_of_row[mask]] = True
        return out.reshape(n, k)

    seen_a, seen_b = seen(ia), seen(ib)
    count_a, count_b = seen_a.sum(axis=0), seen_b.sum(axis=0)
    count_both = (seen_a & seen_b).sum(axis=0)
    position = {name: i for i, name in enumerate(labels)}
    table = {}
    for code in sorted(set(names.values())):
        i = position.get(code)
        both, in_a, in_b = (0, 0, 0) if i is None else (int(count_both[i]), int(count_a[i]), int(count_b[i]))
        table[code] = from_counts(code, both, in_a - both, in_b - both, n - in_a - in_b + both)
    return {"coder_a": a, "coder_b": b, **summary(table)}


def summary(table: Mapping[str, CodeAgreement]) -> dict[str, float | int | None]:
    """Overall figures: mean kappa and alpha over the codes where they are defined, and how many codes that is."""
    kappas = [c.kappa for c in table.values() if c.kappa is not None]
    alphas = [c.alpha for c in table.values() if c.alpha is not None]
    n = max((c.n for c in table.values()), default=0)
    return {"n": n, "codes_with_values": len(kappas),
            "mean_kappa": sum(kappas) / len(kappas) if kappas else None,
            "mean_alpha": sum(alphas) / len(alphas) if alphas else None}


def stratified_sample(items_by_stratum: Mapping[str, list[str]], size: int, seed: int) -> list[str]:
    """Draw `size` items at random, allocated to strata (questions) in proportion to their size (largest
    remainder, at least one per non-empty stratum when size allows). Same inputs and seed give the same draw."""
    strata = {k: sorted(v) for k, v in sorted(items_by_stratum.items()) if v}
    total = sum(len(v) for v in strata.values())
    size = max(0, min(int(size), total))
    if size == 0:
        return []
    quotas = {k: size * len(v) / total for k, v in strata.items()}
    allocation = {k: int(q) for k, q in quotas.items()}
    if size >= len(strata):
        for k in strata:
            allocation[k] = max(1, allocation[k])
    # hand out what is left by largest remainder; take back any surplus from the largest allocations
    while sum(allocation.values()) < size:
        k = max((k for k in strata if allocation[k] < len(strata[k])), key=lambda k: (quotas[k] - allocation[k], k))
        allocation[k] += 1
    while sum(allocation.values()) > size:
        k = max(strata, key=lambda k: (allocation[k] - quotas[k], k))
        allocation[k] -= 1
    rng = random.Random(seed)
    drawn: list[str] = []
    for k, members in strata.items():
        drawn.extend(rng.sample(members, min(allocation[k], len(members))))
    return drawn
