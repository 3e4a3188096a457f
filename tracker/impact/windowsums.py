"""Sums over every pair's estimation window from cumulative sums down the sessions axis.

A pair's window is a run of consecutive rows of one ticker's column, so once each quantity
(count, sum, sum of squares, cross products) is cumulated down the sessions x tickers matrix,
any window sum is the difference of two entries: O(sessions x tickers) once, then O(1) per
pair, instead of gathering and reducing pairs x days arrays.

The differences lose a little precision against summing the window directly (the cumulated
value is larger than the window's own sum): about sqrt(sessions) * eps relative to the
cumulated magnitude, ~1e-13 relative for decades of daily returns. Callers that subtract
such sums (centred sums of squares) check the conditioning and send ill-conditioned pairs
down the exact path.
"""

from __future__ import annotations

import numpy as np

from tracker.impact.models import FloatArray, IntArray


class WindowSums:
    """Cumulative sums of k quantities (sessions x tickers each), read back per window."""

    def __init__(self, quantities: list[FloatArray]) -> None:
        rows, cols = quantities[0].shape
        self.rows = rows
        self.width = cols + 1  # one all-zero column for tickers without data
        stacked = np.zeros((rows + 1, len(quantities) * self.width))
        for k, values in enumerate(quantities):
            base = k * self.width
            np.cumsum(values, axis=0, out=stacked[1:, base : base + cols])
        self.cum = stacked
        self.k = len(quantities)

    def window(self, cols: IntArray, first: IntArray, last: IntArray) -> FloatArray:
        """(P, k) sums over rows first..last (inclusive, clipped to the data) of column cols.

        cols may be the extra index `tickers` (no data): every sum is then zero.
        """
        lo = np.clip(first, 0, self.rows)
        hi = np.clip(last + 1, 0, self.rows)
        hi = np.maximum(hi, lo)
        offsets = np.arange(self.k, dtype=np.int64) * self.width
        columns = cols[:, None] + offsets[None, :]
        return np.asarray(self.cum[hi[:, None], columns] - self.cum[lo[:, None], columns])


ROWS_PER_BLOCK = 4096  # pairs per block: pairs x days temporaries of ~8 MB, reused


def row_blocks(total: int, step: int = ROWS_PER_BLOCK) -> list[slice]:
    """Consecutive slices of about `step` pairs.

    Work on pairs x days arrays goes block by block: small temporaries are reused instead of
    touching hundreds of MB of fresh memory per step (expensive page faults, cache misses).
    """
    return [slice(s, min(s + step, total)) for s in range(0, total, step)]


def window_rows(
    padded_t: FloatArray,
    cols: IntArray,
    starts: IntArray,
    length: int,
    out: FloatArray | None = None,
) -> FloatArray:
    """(P, length) copies of padded_t[cols[p], starts[p] : starts[p] + length].

    padded_t is tickers x sessions (contiguous per ticker), so each pair's window is one
    contiguous run of the flat array: a row of its sliding-window view, picked by one index
    per pair (a (P, length) array of flat indices cost twice the time), block by block.
    """
    flat = padded_t.reshape(-1)
    windows = np.lib.stride_tricks.sliding_window_view(flat, length)
    out = np.empty((len(cols), length)) if out is None else out
    for part in row_blocks(len(cols)):
        out[part] = windows[cols[part] * padded_t.shape[1] + starts[part]]
    return out
