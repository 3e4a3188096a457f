"""BH q-values against statsmodels' ``multipletests(method="fdr_bh")``."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from tracker.impact.multitest import bh_qvalues


@pytest.mark.parametrize("m", [1, 2, 7, 20, 500])
def test_matches_statsmodels(m: int) -> None:
    rng = np.random.default_rng(m)
    p = np.concatenate([rng.uniform(0, 1, m // 2), rng.uniform(0, 0.01, m - m // 2)])
    expected = multipletests(p, alpha=0.05, method="fdr_bh")[1]
    np.testing.assert_allclose(bh_qvalues(p), expected, rtol=1e-12, atol=0)


def test_ties_and_ones_match_statsmodels() -> None:
    p = np.array([0.01, 0.01, 0.04, 0.04, 1.0, 0.5, 0.0])
    np.testing.assert_allclose(bh_qvalues(p), multipletests(p, method="fdr_bh")[1], rtol=1e-12)


def test_missing_values_are_not_tests() -> None:
    p = [0.01, None, 0.04, float("nan"), 0.03]
    q = bh_qvalues(p)
    assert np.isnan(q[1])
    assert np.isnan(q[3])
    present = np.array([0.01, 0.04, 0.03])
    np.testing.assert_allclose(q[[0, 2, 4]], multipletests(present, method="fdr_bh")[1])


def test_q_never_below_p_and_empty_input() -> None:
    p = np.array([0.2, 0.001, 0.03])
    assert (bh_qvalues(p) >= p).all()
    assert bh_qvalues([]).shape == (0,)


def test_rejects_p_outside_unit_interval() -> None:
    with pytest.raises(ValueError, match="outside"):
        bh_qvalues([0.1, 1.5])
