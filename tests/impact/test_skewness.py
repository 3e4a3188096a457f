"""Skewness-corrected t: reduces to the plain t without skew, and corrects against the skew."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tracker.impact.skewness import skewness_corrected_t


def test_symmetric_sample_gives_the_plain_t() -> None:
    values = np.array([-0.03, -0.01, 0.0, 0.02, 0.04, 0.05, 0.07])
    centre = values.mean()
    symmetric = np.concatenate([values, 2 * centre - values])  # skewness exactly 0
    t_skew, p = skewness_corrected_t(symmetric, np.array([len(symmetric)]))
    plain = stats.ttest_1samp(symmetric, 0.0)
    assert t_skew[0] == pytest.approx(plain.statistic, rel=1e-9)
    assert p[0] == pytest.approx(plain.pvalue, rel=1e-9)


def test_groups_are_independent_and_small_groups_are_nan() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(0, 1, 30) - 1.5, rng.normal(0.01, 0.02, 12)
    together, _ = skewness_corrected_t(np.concatenate([a, b, [0.1, 0.2]]), np.array([30, 12, 2]))
    alone_a, _ = skewness_corrected_t(a, np.array([30]))
    assert together[0] == alone_a[0]
    assert math.isnan(together[2])


def test_right_skew_pulls_a_negative_t_toward_zero() -> None:
    rng = np.random.default_rng(2)
    values = rng.lognormal(0, 1.0, 40) - 1.9  # mean below zero, long right tail
    t_skew, _ = skewness_corrected_t(values, np.array([40]))
    plain = stats.ttest_1samp(values, 0.0).statistic
    assert plain < 0
    assert plain < t_skew[0]
