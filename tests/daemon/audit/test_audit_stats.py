"""The numerics of the house-edge meter against published values (tables of the chi-square
and Kolmogorov laws, as printed by every statistics reference and SciPy)."""

from __future__ import annotations

import math

import pytest

from rugsd.daemon.audit.stats import (
    Z95,
    chi2_sf,
    gamma_q,
    kolmogorov_sf,
    ks_p_value,
    normal_sf,
    two_sided,
    wilson,
)


@pytest.mark.parametrize(
    ("x", "df", "p"),
    [
        (3.841458820694124, 1, 0.05),  # the 95 % critical values
        (5.991464547107979, 2, 0.05),
        (11.070497693516351, 5, 0.05),
        (23.209251158954356, 10, 0.01),
        (30.143527205646155, 19, 0.05),
        (10.0, 5, 0.07523524614651217),
        (0.5, 3, 0.9188914116546758),
        (100.0, 50, 3.454931382984853e-05),
        (0.0, 4, 1.0),
    ],
)
def test_chi2_survival_matches_the_tables(x: float, df: int, p: float) -> None:
    assert chi2_sf(x, df) == pytest.approx(p, rel=1e-9, abs=1e-15)


def test_gamma_q_edges() -> None:
    assert gamma_q(1.0, 2.0) == pytest.approx(math.exp(-2.0), rel=1e-12)  # Q(1, x) = e^-x
    with pytest.raises(ValueError):
        gamma_q(0.0, 1.0)
    with pytest.raises(ValueError):
        chi2_sf(1.0, 0)


@pytest.mark.parametrize(
    ("lam", "p"),
    [(1.3580986393225505, 0.05), (1.6276236115189502, 0.01), (1.2238478702170825, 0.10),
     (0.5, 0.9639452436648751), (0.1, 1.0)],
)
def test_kolmogorov_survival_matches_the_tables(lam: float, p: float) -> None:
    assert kolmogorov_sf(lam) == pytest.approx(p, rel=1e-9)


def test_ks_p_value_uses_stephens_correction() -> None:
    n = 100
    lam = 1.3580986393225505
    d = lam / (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n))
    assert ks_p_value(d, n) == pytest.approx(0.05, rel=1e-9)
    assert ks_p_value(0.5, 0) == 1.0


def test_normal_and_wilson() -> None:
    assert two_sided(Z95) == pytest.approx(0.05, rel=1e-12)
    assert normal_sf(0.0) == 0.5
    lo, hi = wilson(5, 10)
    assert (lo, hi) == pytest.approx((0.2365930905, 0.7634069095), abs=1e-9)
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(0, 50)[0] == pytest.approx(0.0, abs=1e-12)
    assert wilson(50, 50)[1] == pytest.approx(1.0, abs=1e-12)
