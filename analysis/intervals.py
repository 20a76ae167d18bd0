"""Confidence intervals for shares and for the difference between two shares (Wilson; Newcombe's hybrid score).

Pure arithmetic (no pandas): used by the round comparison in analysis/findings.py and its tests.
"""

from __future__ import annotations

import math

#: The two-sided 95 % normal quantile.
Z95 = 1.959963984540054


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for k successes in n trials: (low, high), within [0, 1].

    With n = 0 there is no information: (0.0, 1.0)."""
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low, high = centre - half, centre + half
    # exact at the edges (the formula gives them up to rounding)
    return (0.0 if k == 0 else max(0.0, low)), (1.0 if k == n else min(1.0, high))


def newcombe_difference(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> tuple[float, float, float]:
    """The difference p1 - p2 of two independent shares and its Newcombe (1998, method 10) hybrid score interval,
    built from each share's Wilson interval: (difference, low, high). Either n = 0 gives NaNs."""
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan, math.nan
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, z)
    l2, u2 = wilson_interval(k2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, max(-1.0, low), min(1.0, high)
