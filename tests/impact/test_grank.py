"""GRANK's final step on hand-made rank sums (the full test is checked in test_significance)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tracker.impact.grank import grank_test


def test_grank_from_rank_sums_follows_the_formula() -> None:
    rng = np.random.default_rng(8)
    n, days = 6, 40
    u = rng.uniform(-0.5, 0.5, (n, days))
    u[rng.random(u.shape) < 0.1] = np.nan
    u0 = np.full(n, 0.45)
    present = np.isfinite(u).sum(axis=0).astype(float)
    z, t, p = grank_test(
        np.nansum(u, axis=0)[None], present[None], np.array([u0.sum()]), np.array([float(n)])
    )
    ubar = np.nanmean(u, axis=0)
    big_t = days + 1
    s_u = math.sqrt((np.sum(present / n * ubar**2) + u0.mean() ** 2) / big_t)
    want_z = u0.mean() / s_u
    want_t = want_z * math.sqrt((big_t - 2) / (big_t - 1 - want_z**2))
    assert z[0] == pytest.approx(want_z, rel=1e-12)
    assert t[0] == pytest.approx(want_t, rel=1e-12)
    assert p[0] == pytest.approx(2 * stats.t.sf(abs(want_t), big_t - 2), rel=1e-12)
    assert p[0] < 0.01  # every member ranks its window near the top
