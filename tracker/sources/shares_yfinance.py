"""Live share counts from Yahoo Finance: ``yf.Ticker(t).get_shares_full(start, end)``.

Yahoo answers a Series of counts indexed by aware timestamps, several a day at times (its
own revisions); one count per date is kept (the day's last). Errors are per ticker, as for
prices: an unknown ticker, an empty answer or a failure is reported by name and the others
go on; rate limits and network errors are retried with full-jitter backoff
(``tracker.sources.prices_yfinance.is_retryable`` decides which). Yahoo's count for an
ADR or a multi-class company is whatever its quote page uses; the share class stored with it
says so ("as reported by Yahoo"), so it is never silently mixed with a filing's count.

The fetcher is injectable (same signature as ``yf.Ticker(t).get_shares_full``): tests replay
recorded counts at that boundary, as the price adapter's tests replay recorded bars.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

import pandas as pd

from tracker.sources.prices_yfinance import is_retryable
from tracker.sources.shares import ShareCount, TickerShares

SharesFetcher = Callable[[str, date | None, date | None], pd.Series | None]
YAHOO_CLASS = "as reported by Yahoo"


def _yf_shares(ticker: str, start: date | None, end: date | None) -> pd.Series | None:
    import yfinance as yf

    yf.config.debug.hide_exceptions = False
    series: pd.Series | None = yf.Ticker(ticker).get_shares_full(start=start, end=end)
    return series


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".strip().splitlines()[0]


class YFinanceSharesSource:
    """``SharesSource`` over yfinance, one request per ticker, with retries."""

    name = "yfinance"

    def __init__(
        self,
        fetcher: SharesFetcher | None = None,
        *,
        max_attempts: int = 4,
        base_delay: float = 2.0,
        max_delay: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.fetch = fetcher or _yf_shares
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.rng = rng or random.Random()

    def problems(self) -> list[str]:
        return []

    def shares_outstanding(
        self, tickers: Sequence[str], start: date | None, end: date | None
    ) -> dict[str, TickerShares]:
        # Yahoo's end is exclusive, ours inclusive
        until = end + timedelta(days=1) if end is not None else None
        return {ticker: self._one(ticker.upper(), start, until) for ticker in tickers}

    def _one(self, ticker: str, start: date | None, until: date | None) -> TickerShares:
        for attempt in range(self.max_attempts):
            try:
                series = self.fetch(ticker, start, until)
            except Exception as exc:
                if not is_retryable(exc) or attempt + 1 == self.max_attempts:
                    suffix = "" if attempt == 0 else f" (gave up after {attempt + 1} attempts)"
                    return TickerShares(ticker, error=_describe(exc) + suffix)
                self.sleep(self.rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt)))
                continue
            return _shape(ticker, series)
        raise AssertionError("unreachable")


def _shape(ticker: str, series: pd.Series | None) -> TickerShares:
    if series is None or len(series) == 0:
        return TickerShares(ticker, error="empty answer: no share counts returned")
    values = pd.to_numeric(series, errors="coerce")
    index = pd.DatetimeIndex(values.index)
    days = [ts.date() if isinstance(ts, datetime) else ts for ts in index]
    per_day: dict[date, int] = {}
    for day, value in zip(days, values.to_numpy(), strict=True):
        if pd.notna(value) and value > 0:
            per_day[day] = int(value)  # the day's last count wins (index is in time order)
    if not per_day:
        return TickerShares(ticker, error="empty answer: no positive share counts")
    counts = [
        ShareCount(day, shares, YAHOO_CLASS, "yfinance get_shares_full")
        for day, shares in sorted(per_day.items())
    ]
    return TickerShares(ticker, counts)
