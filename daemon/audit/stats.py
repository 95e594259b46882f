"""Small statistics for the house-edge meter, with no SciPy (not a dependency).

- ``chi2_sf(x, df)`` — upper tail of the chi-square law: the regularized upper incomplete
  gamma ``Q(df/2, x/2)``, by its power series below ``a + 1`` and Lentz's continued
  fraction above (Numerical Recipes §6.2);
- ``kolmogorov_sf(lam)`` — upper tail of the Kolmogorov law,
  ``2 Σ (-1)^(j-1) exp(-2 j² λ²)``; ``ks_p_value(d, n)`` applies Stephens' small-sample
  correction ``λ = (√n + 0.12 + 0.11/√n) d`` (conservative for a discrete law);
- ``normal_sf`` and ``wilson`` (score interval for a proportion).

Checked against published values in ``tests/daemon/audit/test_audit_stats.py``.
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # two-sided 95 % normal quantile
_EPS = 1e-15
_MAX_ITER = 10_000
_TINY = 1e-300


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def two_sided(z: float) -> float:
    """Two-sided p-value of a standard normal score."""
    return min(1.0, 2.0 * normal_sf(abs(z)))


def _gamma_p_series(a: float, x: float) -> float:
    term = total = 1.0 / a
    ap = a
    for _ in range(_MAX_ITER):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_q_fraction(a: float, x: float) -> float:
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        step = d * c
        h *= step
        if abs(step - 1.0) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma ``Q(a, x)`` for ``a > 0``, ``x >= 0``."""
    if a <= 0:
        raise ValueError(f"a must be > 0, got {a}")
    if x <= 0:
        return 1.0
    if x < a + 1.0:
        return max(0.0, 1.0 - _gamma_p_series(a, x))
    return min(1.0, _gamma_q_fraction(a, x))


def chi2_sf(x: float, df: int) -> float:
    """P(X > x) for X chi-square with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError(f"df must be >= 1, got {df}")
    return gamma_q(df / 2.0, x / 2.0)


def kolmogorov_sf(lam: float) -> float:
    """P(K > λ) for the Kolmogorov distribution (limit of √n · D_n)."""
    if lam <= 0.18:
        return 1.0  # the series needs huge numbers of terms there; the value is 1 - 1e-12
    total = 0.0
    for j in range(1, 101):
        term = math.exp(-2.0 * j * j * lam * lam)
        total += term if j % 2 else -term
        if term < 1e-16:
            break
    return min(1.0, max(0.0, 2.0 * total))


def ks_p_value(d: float, n: int) -> float:
    """Approximate p-value of a one-sample KS statistic ``d`` over ``n`` observations."""
    if n <= 0:
        return 1.0
    root = math.sqrt(n)
    return kolmogorov_sf((root + 0.12 + 0.11 / root) * d)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials (``(0, 1)`` for n = 0)."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))
