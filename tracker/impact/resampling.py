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
from numpy.typing import NDArray

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
    """B start positions (0-based, in estimation days) of the pseudo-event windows.

    Uniforms scaled to the window's number of stretches, so one basket's draws serve every
    window length.
    """
    return starts_from_uniforms(placebo_uniforms(seed, basket, draws), n_starts)


def placebo_uniforms(seed: int, basket: str, draws: int) -> FloatArray:
    """The basket's B uniforms in [0, 1) behind its placebo start days."""
    return basket_generator(seed, basket, PLACEBO_STREAM).random(draws)


def starts_from_uniforms(uniforms: FloatArray, n_starts: int) -> IntArray:
    """floor(u * n_starts), kept below n_starts."""
    starts = np.floor(uniforms * n_starts).astype(np.int64)
    return np.asarray(np.minimum(starts, n_starts - 1), dtype=np.int64)


def rademacher_bits(seed: int, basket: str, draws: int, n: int) -> NDArray[np.uint8]:
    """The basket's sign bits, (B, ceil(n/8)) bytes, one row per draw (bit 1 = sign -1).

    Member j's sign in draw b is bit j of row b, most significant bit first (np.unpackbits).
    """
    width = (n + 7) // 8
    rng = basket_generator(seed, basket, BOOTSTRAP_STREAM)
    return np.frombuffer(rng.bytes(draws * width), dtype=np.uint8).reshape(draws, width)


def rademacher_signs(seed: int, basket: str, draws: int, n: int) -> FloatArray:
    """(B, n) independent +-1 weights."""
    bits = np.unpackbits(rademacher_bits(seed, basket, draws, n), axis=1)[:, :n]
    return np.asarray(1.0 - 2.0 * bits, dtype=np.float64)


# _BYTE_BITS[v] = the 8 bits of byte value v in np.unpackbits order
_BYTE_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).astype(np.float64)


def placebo_p(aar_est: FloatArray, length: int, caar: float, starts: IntArray) -> float:
    """p of |CAAR| against pseudo-event windows of `length` days of the estimation AAR."""
    return float(placebo_p_many(aar_est[None, :], length, np.array([caar]), starts[None, :])[0])


def placebo_p_many(
    aar_est: FloatArray, length: int, caar: FloatArray, starts: IntArray
) -> FloatArray:
    """placebo_p for G baskets at once: aar_est (G, E), caar (G,), starts (G, B)."""
    filled = np.where(np.isfinite(aar_est), aar_est, 0.0)
    prefix = np.concatenate([np.zeros((len(filled), 1)), np.cumsum(filled, axis=1)], axis=1)
    pseudo = np.take_along_axis(prefix, starts + length, axis=1)
    pseudo -= np.take_along_axis(prefix, starts, axis=1)
    hits = (np.abs(pseudo) >= np.abs(caar)[:, None]).sum(axis=1)
    p_value = (1.0 + hits) / (starts.shape[1] + 1.0)
    ok = np.isfinite(caar) & (starts.shape[1] > 0)
    return np.asarray(np.where(ok, p_value, np.nan), dtype=np.float64)


def wild_bootstrap_p(car: FloatArray, signs: FloatArray) -> float:
    """p of the cross-sectional t of CAR against its wild bootstrap with the given signs."""
    n = len(car)
    if n < 2 or len(signs) == 0:
        return float("nan")
    mean = float(car.mean())
    dev = car - mean
    boot_mean = signs @ dev / n
    return float(_bootstrap_p(dev[None, :], np.array([mean]), boot_mean[None, :])[0])


def wild_bootstrap_p_many(
    dev: FloatArray, mean: FloatArray, packed: Sequence[NDArray[np.uint8]], draws: int
) -> FloatArray:
    """wild_bootstrap_p for G baskets of one size n: dev (G, n) = CAR - CAAR, in the order the
    signs were drawn for; packed holds each basket's rademacher_bits.

    No sign matrix is built: sum_j v_j e_j = sum e - 2 sum_{bit j set} e_j, and the second sum
    is read byte by byte from a per-basket table of the 256 partial sums of 8 members' e
    (n/8 lookups per draw instead of n products).
    """
    g_count, n = dev.shape
    out = np.full(g_count, np.nan)
    if n < 2 or draws == 0:
        return out
    width = (n + 7) // 8
    padded = np.zeros((g_count, width * 8))
    padded[:, :n] = dev
    # table[g, k, v] = sum of e over the members of byte k whose bit is set in value v
    table = padded.reshape(g_count, width, 8) @ _BYTE_BITS.T
    total = dev.sum(axis=1)
    step = max(1, (1 << 22) // (draws * width))
    for lo in range(0, g_count, step):
        hi = min(g_count, lo + step)
        chunk = np.stack(packed[lo:hi]).astype(np.intp)  # (c, B, width)
        chunk += (np.arange(hi - lo)[:, None, None] * width + np.arange(width)) * 256
        set_sum = np.take(table[lo:hi].reshape(-1), chunk).sum(axis=2)
        boot_mean = (total[lo:hi, None] - 2.0 * set_sum) / n
        out[lo:hi] = _bootstrap_p(dev[lo:hi], mean[lo:hi], boot_mean)
    return out


def _bootstrap_p(dev: FloatArray, mean: FloatArray, boot_mean: FloatArray) -> FloatArray:
    """(1 + #{|t*| >= |t|}) / (B + 1) per basket; dev (G, n), boot_mean (G, B)."""
    n = dev.shape[1]
    ss = (dev * dev).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_obs = np.sqrt(n) * mean / np.sqrt(ss / (n - 1))
        # sum (v e - m)^2 = sum e^2 - n m^2 as v^2 = 1; clamped: an exact 0 is an infinite t*
        spread = np.maximum(ss[:, None] - n * boot_mean**2, 0.0) / (n - 1)
        boot_t = np.sqrt(n) * boot_mean / np.sqrt(spread)
    hits = (np.abs(boot_t) >= np.abs(t_obs)[:, None]).sum(axis=1)
    p_value = (1.0 + hits) / (boot_mean.shape[1] + 1.0)
    return np.asarray(np.where(ss > 0, p_value, np.nan), dtype=np.float64)
