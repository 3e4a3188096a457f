"""The price-source protocol and the normalised frames every implementation returns.

A source answers per ticker, so one unknown or failing ticker never hides the others'
bars. Frames are normalised at this edge and nowhere else:

- daily bars: ``date`` (the exchange's session date), ``open``, ``high``, ``low``,
  ``close`` (raw: split-adjusted, NOT dividend-adjusted), ``adj_close`` (split- and
  dividend-adjusted as the source computed it, NaN where the source has none; the impact
  engine derives it from ``close`` and the stored dividends then), ``volume``;
- intraday bars: ``ts`` (the bar's start, aware UTC), ``open``, ``high``, ``low``, ``close``,
  ``volume``;
- corporate actions: ``kind`` (``dividend`` | ``split``), ``ex_date``, ``value`` (cash per
  share on the split-adjusted basis, or new shares per old share).

Validation (NaN rows, non-positive prices, duplicates, non-sessions) happens in ingest,
which reports what it skipped; sources only shape and surface errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

import pandas as pd

DAILY_COLUMNS = ("date", "open", "high", "low", "close", "adj_close", "volume")
INTRADAY_COLUMNS = ("ts", "open", "high", "low", "close", "volume")
ACTION_COLUMNS = ("kind", "ex_date", "value")
INTRADAY_INTERVALS = ("1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h")


def empty_daily() -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.Series(dtype="object" if name == "date" else "float64") for name in DAILY_COLUMNS}
    )


def empty_intraday() -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype="float64") for name in INTRADAY_COLUMNS[1:]})
    frame.insert(0, "ts", pd.Series(pd.DatetimeIndex([], tz="UTC")))
    return frame


def empty_actions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": pd.Series(dtype="object"),
            "ex_date": pd.Series(dtype="object"),
            "value": pd.Series(dtype="float64"),
        }
    )


@dataclass
class TickerPrices:
    """One ticker's answer: its bars and corporate actions, or why there are none."""

    ticker: str
    bars: pd.DataFrame = field(default_factory=empty_daily)
    actions: pd.DataFrame = field(default_factory=empty_actions)
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


class PriceSource(Protocol):
    """Where bars and corporate actions come from (live Yahoo, recorded files, ...)."""

    name: str
    #: intraday intervals a plain ``tracker prices fetch`` loads from this source
    default_intervals: tuple[str, ...]

    def daily_bars(
        self, tickers: Sequence[str], start: date | None, end: date | None
    ) -> dict[str, TickerPrices]:
        """Daily bars from ``start`` to ``end`` (both included, None = unbounded), with the
        corporate actions the source knows for those tickers."""
        ...

    def intraday_bars(
        self,
        tickers: Sequence[str],
        interval: str,
        start: datetime | None,
        end: datetime | None,
    ) -> dict[str, TickerPrices]:
        """Intraday bars starting in [start, end) (aware datetimes)."""
        ...

    def corporate_actions(self, tickers: Sequence[str]) -> dict[str, TickerPrices]:
        """Every dividend and split the source knows for the tickers."""
        ...

    def available_tickers(self) -> list[str] | None:
        """The tickers the source holds, or None when it can serve any listed ticker."""
        ...

    def intraday_tickers(self, interval: str) -> list[str] | None:
        """The tickers with ``interval`` bars, or None when it can serve any listed ticker."""
        ...


def check_interval(interval: str) -> str:
    """``interval`` if it is an intraday interval Yahoo serves; a clear error otherwise."""
    if interval not in INTRADAY_INTERVALS:
        expected = ", ".join(INTRADAY_INTERVALS)
        raise ValueError(f"unknown intraday interval {interval!r}; expected one of {expected}")
    return interval
