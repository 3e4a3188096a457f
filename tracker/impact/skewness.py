"""Skewness-corrected t for a cross-section of CARs or BHARs (Hall 1992, as in EventStudyTools).

Cross-sectional CARs of a shock are skewed (a few firms move a lot), and the plain t then
rejects too often on one side. Hall's (1992) transformation of the t statistic removes the
first-order skewness bias and, through its cubic term, stays monotone in t. With the N values
x_i, their mean m and standard deviation s (ddof = 1):

    S = m / s,
    gamma = N / ((N - 1)(N - 2)) sum (x_i - m)^3 / s^3,
    t_skew = sqrt(N) (S + gamma S^2 / 3 + gamma^2 S^3 / 27 + gamma / (6 N)),

two-sided p from Student t with N - 1 degrees of freedom. (Hall, P. 1992, "On the removal of
skewness by transformation", JRSS B 54:221-228; the skewness-corrected test of EventStudyTools
and of the R package EventStudy. Without the cubic term this is the skewness-adjusted t of Lyon,
Barber & Tsai 1999, JF 54:165-201, which the BHAR literature uses.)
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from tracker.impact.models import FloatArray, IntArray


def segment_sums(values: FloatArray, sizes: IntArray) -> FloatArray:
    """Sum of consecutive runs of `values` (rows stacked by group, `sizes` rows each)."""
    out = np.zeros(len(sizes))
    filled = np.flatnonzero(sizes > 0)
    if len(filled):
        starts = (np.cumsum(sizes) - sizes)[filled]
        out[filled] = np.add.reduceat(values, starts)
    return out


def skewness_corrected_t(values: FloatArray, sizes: IntArray) -> tuple[FloatArray, FloatArray]:
    """(t_skew, p) per group of stacked values; NaN for groups of fewer than three."""
    n = sizes.astype(np.float64)
    group_of = np.repeat(np.arange(len(sizes)), sizes)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = segment_sums(values, sizes) / n
        dev = values - mean[group_of]
        sd = np.sqrt(segment_sums(dev * dev, sizes) / (n - 1.0))
        gamma = n / ((n - 1.0) * (n - 2.0)) * segment_sums(dev**3, sizes) / sd**3
        ratio = mean / sd
        t_skew = np.sqrt(n) * (
            ratio + gamma * ratio**2 / 3.0 + gamma**2 * ratio**3 / 27.0 + gamma / (6.0 * n)
        )
    t_skew = np.where(n >= 3, t_skew, np.nan)
    dof = np.where(n >= 3, n - 1.0, np.nan)
    p_value = 2.0 * stats.t.sf(np.abs(t_skew), dof)
    return np.asarray(t_skew, dtype=np.float64), np.asarray(p_value, dtype=np.float64)
