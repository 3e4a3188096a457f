"""Benjamini-Hochberg q-values: the false-discovery-rate control behind "significant".

An event is tested on 20 tickers at once, and a digest day on every mover; at p < 0.05 one
ticker in twenty looks significant by chance alone. The tracker therefore calls a result
significant when its BH q-value (Benjamini & Hochberg 1995, JRSS B 57:289-300) is below
the configured level, and still shows the raw p.

For m p-values sorted ascending p_(1) <= ... <= p_(m):
``q_(i) = min_{j >= i} min(1, m p_(j) / j)`` (the step-up adjusted p-value, identical to
statsmodels' ``multipletests(method="fdr_bh")``). Missing p-values (None / NaN) are left
out of m and get a NaN q-value: a result that could not be measured is not a test.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def bh_qvalues(p_values: Sequence[float | None] | NDArray[np.float64]) -> NDArray[np.float64]:
    """BH q-values in the input order; NaN where the p-value is missing.

    Raises ValueError naming the first p-value outside [0, 1].
    """
    p = np.array([np.nan if v is None else float(v) for v in p_values], dtype=np.float64)
    present = np.flatnonzero(np.isfinite(p))
    bad = present[(p[present] < 0.0) | (p[present] > 1.0)]
    if len(bad):
        raise ValueError(f"p-value {p[bad[0]]!r} at position {int(bad[0])} is outside [0, 1]")
    q = np.full(len(p), np.nan)
    m = len(present)
    if m == 0:
        return q
    order = np.argsort(p[present], kind="stable")
    ranked = p[present][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    out = np.empty(m)
    out[order] = adjusted
    q[present] = out
    return q
