"""GRANK: the generalized rank test of Kolari & Pynnonen (2011) for a basket's CAR.

Why: on a shock day every member's volatility jumps and the members move together. The
parametric tests then over-reject, and the Corrado test summed over days loses power over
multi-day windows. GRANK ranks the cumulated window as one observation against the
estimation days, after rescaling it by its cross-sectional spread:

    SAR_it  = AR_it / sigma_i                     (estimation days, sigma_i^2 = SSR/(M_i - k))
    SCAR*_i = SCAR_i / s(SCAR), s = cross-sectional sd (ddof = 1), SCAR_i = CAR_i / S(CAR_i)
    GSAR_i  = the M_i values SAR_it followed by SCAR*_i (the event "day" 0)
    U_it    = rank(GSAR_it) / (T_i + 1) - 1/2,    T_i = M_i + 1, ties averaged
    Ubar_t  = mean over the N_t members present on day t (estimation days by relative day)
    S_U^2   = 1/T sum_{t in CW} (N_t / N) Ubar_t^2, CW = estimation days with a member, and 0
    Z       = Ubar_0 / S_U,    t_grank = Z sqrt((T - 2) / (T - 1 - Z^2)),   p from t(T - 2),

T = the number of days in CW. (Kolari, J. W. and Pynnonen, S. 2011, "Nonparametric rank tests
for event studies", Journal of Empirical Finance 18:953-971; the GRANK-T of EventStudyTools.)
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from tracker.impact.models import FloatArray


def grank_test(
    sum_u_est: FloatArray, present: FloatArray, sum_u0: FloatArray, n: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(Z, t_grank, p) per group from the members' summed U by estimation day and at 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ubar = sum_u_est / present
        weighted = np.where(present > 0, present / n[:, None] * ubar * ubar, 0.0).sum(axis=1)
        ubar0 = sum_u0 / n
        days = (present > 0).sum(axis=1) + 1.0
        s_u = np.sqrt((weighted + ubar0 * ubar0) / days)
        z = ubar0 / s_u
        t_grank = z * np.sqrt((days - 2.0) / (days - 1.0 - z * z))
    dof = np.where(days > 2.0, days - 2.0, np.nan)
    p_value = 2.0 * stats.t.sf(np.abs(t_grank), dof)
    return (
        np.asarray(z, dtype=np.float64),
        np.asarray(t_grank, dtype=np.float64),
        np.asarray(p_value, dtype=np.float64),
    )
