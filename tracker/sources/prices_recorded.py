"""Recorded real price history (``prices/`` of the recorded-data directory).

The same pipeline runs offline, in tests and in the demo by reading the files a yfinance
download produced (see the directory's SOURCES.md). Layout: ``daily/T.csv``
(``date,open,high,low,close,adj_close,volume``), ``intraday/T_1h.csv``
(``timestamp,open,high,low,close,volume``, bar starts in UTC), ``actions/T_dividends.csv``
(``date,dividend``) and ``actions/T_splits.csv`` (``date,ratio``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from tracker.errors import DataUnavailableError
from tracker.sources.prices import (
    DAILY_COLUMNS,
    INTRADAY_COLUMNS,
    TickerPrices,
    check_interval,
    empty_actions,
)


class RecordedPriceSource:
    """Serves the recorded CSVs through the ``PriceSource`` protocol."""

    name = "recorded"
    default_intervals: tuple[str, ...] = ("1h",)

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "prices"
        if not (self.root / "daily").is_dir():
            raise DataUnavailableError(f"no recorded prices at {self.root / 'daily'}")

    def available_tickers(self) -> list[str]:
        return sorted(path.stem.upper() for path in (self.root / "daily").glob("*.csv"))

    def intraday_tickers(self, interval: str) -> list[str]:
        suffix = f"_{interval}"
        return sorted(
            path.stem.removesuffix(suffix).upper()
            for path in (self.root / "intraday").glob(f"*{suffix}.csv")
        )

    def daily_bars(
        self, tickers: Sequence[str], start: date | None, end: date | None
    ) -> dict[str, TickerPrices]:
        return {ticker: self._daily(ticker, start, end) for ticker in tickers}

    def intraday_bars(
        self,
        tickers: Sequence[str],
        interval: str,
        start: datetime | None,
        end: datetime | None,
    ) -> dict[str, TickerPrices]:
        check_interval(interval)
        return {ticker: self._intraday(ticker, interval, start, end) for ticker in tickers}

    def corporate_actions(self, tickers: Sequence[str]) -> dict[str, TickerPrices]:
        answers = {}
        for ticker in tickers:
            try:
                answers[ticker] = TickerPrices(ticker, actions=self._actions(ticker))
            except (OSError, ValueError, KeyError) as exc:
                answers[ticker] = TickerPrices(ticker, error=f"unreadable actions file: {exc}")
        return answers

    # ------------------------------------------------------------------ files

    def _daily(self, ticker: str, start: date | None, end: date | None) -> TickerPrices:
        path = self.root / "daily" / f"{ticker}.csv"
        if not path.is_file():
            return TickerPrices(ticker, error=f"no recorded daily bars for {ticker}")
        try:
            frame = pd.read_csv(path, dtype={"date": str})
            missing = set(DAILY_COLUMNS) - set(frame.columns)
            if missing:
                raise ValueError(f"{path.name} lacks columns {sorted(missing)}")
            frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d").dt.date
            frame = frame.loc[:, list(DAILY_COLUMNS)]
            frame["adj_close"] = frame["adj_close"].astype("float64")
            actions = self._actions(ticker)
        except (OSError, ValueError, KeyError) as exc:
            return TickerPrices(ticker, error=f"unreadable recorded file: {exc}")
        if start is not None:
            frame = frame[frame["date"] >= start]
        if end is not None:
            frame = frame[frame["date"] <= end]
        return TickerPrices(ticker, bars=frame.reset_index(drop=True), actions=actions)

    def _intraday(
        self, ticker: str, interval: str, start: datetime | None, end: datetime | None
    ) -> TickerPrices:
        path = self.root / "intraday" / f"{ticker}_{interval}.csv"
        if not path.is_file():
            return TickerPrices(ticker, error=f"no recorded {interval} bars for {ticker}")
        try:
            frame = pd.read_csv(path)
            frame["ts"] = pd.to_datetime(frame.pop("timestamp"), utc=True, format="ISO8601")
            frame = frame.loc[:, list(INTRADAY_COLUMNS)]
        except (OSError, ValueError, KeyError) as exc:
            return TickerPrices(ticker, error=f"unreadable recorded file: {exc}")
        if start is not None:
            frame = frame[frame["ts"] >= pd.Timestamp(start).tz_convert(UTC)]
        if end is not None:
            frame = frame[frame["ts"] < pd.Timestamp(end).tz_convert(UTC)]
        return TickerPrices(ticker, bars=frame.reset_index(drop=True))

    def _actions(self, ticker: str) -> pd.DataFrame:
        parts = []
        for kind, suffix, column in (
            ("dividend", "dividends", "dividend"),
            ("split", "splits", "ratio"),
        ):
            path = self.root / "actions" / f"{ticker}_{suffix}.csv"
            if not path.is_file():
                continue
            frame = pd.read_csv(path, dtype={"date": str})
            if frame.empty:
                continue
            parts.append(
                pd.DataFrame(
                    {
                        "kind": kind,
                        "ex_date": pd.to_datetime(frame["date"], format="%Y-%m-%d").dt.date,
                        "value": frame[column].astype("float64"),
                    }
                )
            )
        if not parts:
            return empty_actions()
        return pd.concat(parts, ignore_index=True)
