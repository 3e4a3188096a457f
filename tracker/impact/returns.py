"""Adjusted closes and simple returns (IMPACT_SPEC.md §2).

Pure functions on pandas objects; reading the CSVs is the caller's job. A missing price is a
missing return (NaN), never a zero return: a zero would pass as "no reaction" and bias every
statistic toward nothing happening.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd


def _date_index(index: pd.Index | Sequence[date]) -> pd.DatetimeIndex:
    dates = pd.DatetimeIndex(pd.to_datetime(index)).normalize()
    if dates.tz is not None:
        raise ValueError("session indexes are calendar dates and must be tz-naive")
    return dates


def dividend_adjusted_close(close: pd.Series, dividends: pd.Series | None = None) -> pd.Series:
    """Derive the adjusted close from raw closes and ex-date dividends (CRSP/Yahoo convention).

    For a dividend D with ex-date t every close before t is multiplied by
    (1 - D / c), c being the close on the last session before t; factors compound over
    dividends. Dividends whose ex-date has no earlier close in the series are ignored: they
    would scale every close alike and leave every return unchanged.
    """
    close = close.astype(float)
    close.index = _date_index(close.index)
    if dividends is None or dividends.empty:
        return close.copy()
    div = dividends.astype(float)
    div.index = _date_index(div.index)
    valid_close = close.dropna()
    factors = np.ones(len(close))
    dates = close.index.values
    for ex_date, amount in zip(div.index, div.to_numpy(), strict=True):  # a few a year
        before = valid_close[valid_close.index < ex_date]
        if before.empty or not np.isfinite(amount) or amount == 0.0:
            continue
        ratio = 1.0 - amount / float(before.iloc[-1])
        factors[dates < ex_date.to_datetime64()] *= ratio
    return pd.Series(close.to_numpy() * factors, index=close.index, name=close.name)


def adjusted_close(
    close: pd.Series,
    dividends: pd.Series | None = None,
    adj_close: pd.Series | None = None,
) -> pd.Series:
    """The close to compute returns from: the source's adjusted close when it is complete.

    The source's own adjustment is preferred because it also covers dividends our files lack
    (SMH, XLU, VST, NRG). It is used only when present on every day that has a close; a partial
    column would turn adjusted days into missing ones, so the derivation takes over instead.
    """
    if adj_close is not None:
        adj = adj_close.astype(float)
        adj.index = _date_index(adj.index)
        has_close = close.notna().to_numpy()
        if adj.notna().to_numpy()[has_close].all() and has_close.any():
            return adj
    return dividend_adjusted_close(close, dividends)


def simple_returns(prices: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """Row-to-row simple returns; NaN wherever either price is missing (no forward fill)."""
    return prices / prices.shift(1) - 1.0


def returns_matrix(
    prices: Mapping[str, pd.Series],
    sessions: Sequence[date] | pd.Index | None = None,
) -> pd.DataFrame:
    """Wide matrix of simple returns: sessions x tickers, NaN for missing days.

    Every price series is first placed on the session index (the union of the series' dates
    unless the calendar's sessions are given), so a day a firm did not trade stays a gap: the
    returns on both sides of it are NaN rather than one return spanning two sessions.
    """
    frame = pd.DataFrame({t: s.set_axis(_date_index(s.index)) for t, s in prices.items()})
    if sessions is not None:
        frame = frame.reindex(_date_index(sessions))
    frame = frame.sort_index()
    frame.index.name = "date"
    result = simple_returns(frame)
    assert isinstance(result, pd.DataFrame)
    return result
