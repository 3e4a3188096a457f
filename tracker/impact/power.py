"""Power of the CAR tests: the minimum detectable effect (MDE).

"Not significant" only means "no effect" when the test could have seen one. The MDE is the
smallest true CAR that a two-sided test at level ALPHA rejects with probability POWER, given
the estimation noise: with the standard error S and d degrees of freedom (Bloom 1995,
"Minimum detectable effects", Evaluation Review 19:547-556),

    MDE = (t_{1 - ALPHA/2, d} + t_{POWER, d}) S,

which is 2.80 S for large d at 5% and 80%. For a basket the same multiplier (normal quantiles,
as the Patell and BMP tests) scales the standard error of the CAAR, sqrt(sum S_i^2) / N,
inflated for the members' residual correlation r by sqrt(1 + (N - 1) r) (Kolari-Pynnonen).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import stats

from tracker.impact.models import FloatArray

ALPHA = 0.05
POWER = 0.80


def mde_multiplier(dof: FloatArray, alpha: float = ALPHA, power: float = POWER) -> FloatArray:
    """t_{1-alpha/2,d} + t_{power,d} per element (NaN where d is not positive).

    Pairs share a few values of d: each is computed once and memoised (scipy's quantile call
    costs ~1 ms of overhead, more than the whole study of a few hundred pairs).
    """
    dof = np.asarray(dof, dtype=np.float64)
    out = np.full(dof.shape, np.nan)
    valid = np.isfinite(dof) & (dof > 0)
    if valid.any():
        distinct, inverse = np.unique(dof[valid], return_inverse=True)
        multiplier = np.array([_multiplier(float(d), alpha, power) for d in distinct])
        out[valid] = multiplier[inverse]
    return out


@lru_cache(maxsize=4096)
def _multiplier(dof: float, alpha: float, power: float) -> float:
    return float(stats.t.ppf(1.0 - alpha / 2.0, dof) + stats.t.ppf(power, dof))


def minimum_detectable_effect(
    standard_error: FloatArray, dof: FloatArray, alpha: float = ALPHA, power: float = POWER
) -> FloatArray:
    """Per pair: the smallest |CAR| detected at `alpha` (two-sided) with `power`."""
    return np.asarray(mde_multiplier(dof, alpha, power) * standard_error, dtype=np.float64)


def normal_mde_multiplier(alpha: float = ALPHA, power: float = POWER) -> float:
    """z_{1-alpha/2} + z_{power}: the large-sample multiplier the basket MDE uses."""
    return float(stats.norm.ppf(1.0 - alpha / 2.0) + stats.norm.ppf(power))
