"""Inter-coder agreement per code on the applied / not-applied decision: Cohen's kappa and Krippendorff's alpha
(nltk.metrics.agreement), with the degenerate cases handled explicitly rather than left to a division by zero.

Degenerate cases (documented contract, also in the CLI JSON):
- n == 0 (no answer coded by both coders): kappa and alpha are None, reason "no answers coded by both coders".
- only one decision seen (nobody applied the code on those answers, or both applied it to every one): the
  coders agree completely but there is no variation, so chance-corrected agreement is undefined: kappa and
  alpha are None, `observed` is 1.0 and the reason says which case it was.
Otherwise kappa and alpha are floats (they may be negative: worse than chance).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from nltk.metrics.agreement import AnnotationTask


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


def code_agreement(code: str, items: Iterable[str], applied_a: set[str], applied_b: set[str]) -> CodeAgreement:
    """Agreement on one code over `items` (answers both coders coded); applied_x are the items coder x gave it."""
    items = list(dict.fromkeys(items))
    n = len(items)
    a = {i for i in items if i in applied_a}
    b = {i for i in items if i in applied_b}
    both = len(a & b)
    if n == 0:
        return CodeAgreement(code, 0, 0, 0, 0, None, None, None, "no answers coded by both coders")
    same = sum(1 for i in items if (i in a) == (i in b))
    observed = same / n
    if not a and not b:
        return CodeAgreement(code, n, 0, 0, 0, observed, None, None,
                             "neither coder applied this code: complete agreement, but kappa and alpha are undefined "
                             "without variation")
    if len(a) == n and len(b) == n:
        return CodeAgreement(code, n, n, n, n, observed, None, None,
                             "both coders applied this code to every answer: complete agreement, but kappa and alpha "
                             "are undefined without variation")
    triples = [("A", i, int(i in a)) for i in items] + [("B", i, int(i in b)) for i in items]
    task = AnnotationTask(data=triples)
    return CodeAgreement(code, n, len(a), len(b), both, observed, float(task.kappa()), float(task.alpha()))


def agreement_table(codes: Iterable[str], coded_a: Mapping[str, set[str]], coded_b: Mapping[str, set[str]],
                    ) -> dict[str, CodeAgreement]:
    """Per code, agreement over the answers both coders coded. coded_x maps answer id -> the codes x applied
    (an answer is 'coded' by x when it appears as a key)."""
    items = sorted(set(coded_a) & set(coded_b))
    result = {}
    for code in codes:
        applied_a = {i for i in items if code in coded_a[i]}
        applied_b = {i for i in items if code in coded_b[i]}
        result[code] = code_agreement(code, items, applied_a, applied_b)
    return result


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
