"""Resampling nulls for a basket's CAAR: a placebo (permutation) test and a wild bootstrap.

Both are seeded per basket (by its members' tickers, see draw_key), so a basket's p-values do
not depend on its name or on which other baskets are computed in the same call, and a rerun
reproduces them exactly. Draws are indices and signs
drawn in bulk; the statistics are array operations (no loop over draws).

Placebo test (pseudo-event dates; Brown & Warner 1985's simulation design, Corrado 1989):
under the null the event window is just another L-day stretch of the members' history. Draw B
start days s uniformly (with replacement) among the E - L + 1 stretches of the estimation
window and take the pseudo CAAR(s) = sum_{t=s}^{s+L-1} AAR_t, AAR_t the members' mean
estimation residual on relative day t. The same s serves every member in a draw, so the
members' cross-correlation (one shock date for all) is kept in the null.
    p = (1 + #{b: |CAAR(s_b)| >= |CAAR|}) / (B + 1).

Wild bootstrap of the cross-sectional t (Wu 1986; Liu 1988; Mammen 1993; Rademacher
weights): t = sqrt(N) CAAR / sd(CAR). Under the null, CAR*_i = v_i (CAR_i - CAAR) with
independent signs v_i = +-1, which keeps each firm's own variance (event-induced volatility)
and imposes a zero mean; t*_b is t recomputed on CAR*.
    p = (1 + #{b: |t*_b| >= |t|}) / (B + 1).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from tracker.impact.models import FloatArray, IntArray

DEFAULT_DRAWS = 1000
DEFAULT_SEED = 20250127
PLACEBO_STREAM = 0
BOOTSTRAP_STREAM = 1


def draw_key(sorted_tickers: Sequence[str]) -> str:
    """What a basket's draws are seeded by: its members' tickers, in sorted order."""
    return "\n".join(sorted_tickers)


def basket_generator(seed: int, basket: str, stream: int) -> np.random.Generator:
    """The generator of one basket's draws: the same seed and basket key give the same draws."""
    return np.random.default_rng([seed, zlib.crc32(basket.encode("utf-8")), stream])


def placebo_starts(seed: int, basket: str, n_starts: int, draws: int) -> IntArray:
    """B start positions (0-based, in estimation days) of the pseudo-event windows."""
    rng = basket_generator(seed, basket, PLACEBO_STREAM)
    return np.asarray(rng.integers(0, n_starts, size=draws), dtype=np.int64)


def rademacher_signs(seed: int, basket: str, draws: int, n: int) -> FloatArray:
    """(B, n) independent +-1 weights, from random bytes (cheap at 100k memberships)."""
    rng = basket_generator(seed, basket, BOOTSTRAP_STREAM)
    count = draws * n
    bits = np.unpackbits(np.frombuffer(rng.bytes((count + 7) // 8), dtype=np.uint8))[:count]
    return np.asarray(1.0 - 2.0 * bits.reshape(draws, n), dtype=np.float64)


def placebo_p(aar_est: FloatArray, length: int, caar: float, starts: IntArray) -> float:
    """p of |CAAR| against pseudo-event windows of `length` days of the estimation AAR."""
    if not np.isfinite(caar) or len(starts) == 0:
        return float("nan")
    prefix = np.concatenate([[0.0], np.cumsum(np.where(np.isfinite(aar_est), aar_est, 0.0))])
    pseudo = prefix[starts + length] - prefix[starts]
    return float((1.0 + np.count_nonzero(np.abs(pseudo) >= abs(caar))) / (len(starts) + 1.0))


def wild_bootstrap_p(car: FloatArray, signs: FloatArray) -> float:
    """p of the cross-sectional t of CAR against its Rademacher wild bootstrap."""
    n = len(car)
    if n < 2 or len(signs) == 0:
        return float("nan")
    mean = float(car.mean())
    dev = car - mean
    ss = float(dev @ dev)
    if not ss > 0:
        return float("nan")
    t_obs = np.sqrt(n) * mean / np.sqrt(ss / (n - 1))
    boot_mean = signs @ dev / n
    with np.errstate(divide="ignore", invalid="ignore"):
        boot_t = np.sqrt(n) * boot_mean / np.sqrt((ss - n * boot_mean**2) / (n - 1))
    return float((1.0 + np.count_nonzero(np.abs(boot_t) >= abs(t_obs))) / (len(signs) + 1.0))
