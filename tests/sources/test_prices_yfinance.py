"""The yfinance adapter, tested at yfinance's own function boundary.

The injected downloader answers like ``yf.download(..., group_by="column")``: a frame with
a (Price, Ticker) column index. Its prices are the REAL recorded history (read from the
recorded-data directory); failures follow yfinance's own behaviour, which is to log
``['TICKER']: Error(...)`` on the ``yfinance`` logger and leave the ticker's columns NaN.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tracker.sources.prices_yfinance import YFinancePriceSource, is_retryable

PRICE_NAMES = {
    "open": "Open",
    "high": "High",
    "low": "Low",
    "close": "Close",
    "adj_close": "Adj Close",
    "volume": "Volume",
}


def recorded_frame(data_dir: Path, ticker: str, start: str, end: str) -> pd.DataFrame:
    """One ticker's real bars shaped as yfinance returns them (auto_adjust=False, actions)."""
    daily = pd.read_csv(data_dir / "prices" / "daily" / f"{ticker}.csv", parse_dates=["date"])
    daily = daily[(daily["date"] >= start) & (daily["date"] < end)].set_index("date")
    frame = daily.rename(columns=PRICE_NAMES)
    frame["Dividends"] = 0.0
    frame["Stock Splits"] = 0.0
    dividends = data_dir / "prices" / "actions" / f"{ticker}_dividends.csv"
    if dividends.is_file():
        for ex_date, amount in pd.read_csv(dividends, parse_dates=["date"]).itertuples(index=False):
            if ex_date in frame.index:
                frame.loc[ex_date, "Dividends"] = amount
    frame.index.name = "Date"
    return frame


class FakeDownload:
    """Replays recorded frames; ``script`` lists, per call, the tickers that fail and how."""

    def __init__(self, data_dir: Path, script: list[dict[str, Any]] | None = None) -> None:
        self.data_dir = data_dir
        self.script = list(script or [])
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> pd.DataFrame:
        self.calls.append(kwargs)
        step = self.script.pop(0) if self.script else {}
        if "raise" in step:
            raise step["raise"]
        failures: dict[str, str] = step.get("fail", {})
        parts = {}
        for ticker in kwargs["tickers"]:
            if ticker in failures:
                logging.getLogger("yfinance").error(f"{[ticker]}: {failures[ticker]}")
                parts[ticker] = pd.DataFrame(columns=[*PRICE_NAMES.values()])
                continue
            parts[ticker] = recorded_frame(
                self.data_dir, ticker, kwargs["start"], kwargs.get("end", "2100-01-01")
            )
        frame = pd.concat(parts, axis=1, names=["Ticker", "Price"], sort=True)
        frame.columns = frame.columns.swaplevel(0, 1)
        return frame.sort_index(axis=1)


def make_source(download: Any, **kwargs: Any) -> tuple[YFinancePriceSource, list[float]]:
    sleeps: list[float] = []
    source = YFinancePriceSource(download, sleep=sleeps.append, rng=random.Random(1), **kwargs)
    return source, sleeps


def test_several_tickers_in_one_call_with_raw_and_adjusted_close(data_dir: Path) -> None:
    download = FakeDownload(data_dir)
    source, _ = make_source(download)
    answers = source.daily_bars(["NVDA", "VST", "CEG"], date(2025, 1, 21), date(2025, 1, 31))
    assert len(download.calls) == 1
    call = download.calls[0]
    assert call["auto_adjust"] is False
    assert call["actions"] is True
    assert call["end"] == "2025-02-01"  # our end is inclusive, yfinance's exclusive
    nvda = answers["NVDA"].bars.set_index("date")
    assert nvda.loc[date(2025, 1, 27), "close"] == pytest.approx(118.42, abs=0.005)
    assert nvda.loc[date(2025, 1, 27), "adj_close"] < nvda.loc[date(2025, 1, 27), "close"]
    assert answers["CEG"].bars["adj_close"].isna().all()  # the source had none: kept missing
    vst = answers["VST"].bars.set_index("date")
    assert vst.loc[date(2025, 1, 27), "close"] == pytest.approx(137.08, abs=0.005)


def test_dividends_in_the_window_become_actions(data_dir: Path) -> None:
    source, _ = make_source(FakeDownload(data_dir))
    answer = source.daily_bars(["CEG"], date(2025, 2, 1), date(2025, 3, 31))["CEG"]
    dividends = pd.read_csv(
        data_dir / "prices" / "actions" / "CEG_dividends.csv", parse_dates=["date"]
    )
    expected = {
        d.date() for d in dividends["date"] if date(2025, 2, 1) <= d.date() <= date(2025, 3, 31)
    }
    assert expected
    assert set(answer.actions["ex_date"]) == expected
    assert set(answer.actions["kind"]) == {"dividend"}


def test_rate_limit_then_success_backs_off_with_jitter(data_dir: Path) -> None:
    download = FakeDownload(
        data_dir,
        [{"fail": {"NVDA": "YFRateLimitError('Too Many Requests. Rate limited.')"}}],
    )
    source, sleeps = make_source(download, base_delay=2.0)
    answers = source.daily_bars(["NVDA", "AMD"], date(2025, 1, 21), date(2025, 1, 31))
    assert answers["NVDA"].ok
    assert answers["AMD"].ok
    assert [c["tickers"] for c in download.calls] == [
        ["NVDA", "AMD"],
        ["NVDA"],
    ]  # only the failed one again
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 2.0


def test_whole_call_network_error_is_retried(data_dir: Path) -> None:
    download = FakeDownload(data_dir, [{"raise": ConnectionError("reset by peer")}])
    source, sleeps = make_source(download)
    assert source.daily_bars(["MSFT"], date(2025, 1, 21), date(2025, 1, 24))["MSFT"].ok
    assert len(download.calls) == 2
    assert len(sleeps) == 1


def test_one_unknown_ticker_among_many_is_reported_not_retried(data_dir: Path) -> None:
    download = FakeDownload(
        data_dir, [{"fail": {"ZZZZ": "YFTzMissingError('possibly delisted; no timezone found')"}}]
    )
    source, sleeps = make_source(download)
    answers = source.daily_bars(["NVDA", "ZZZZ", "AMD"], date(2025, 1, 21), date(2025, 1, 24))
    assert answers["NVDA"].ok
    assert answers["AMD"].ok
    assert answers["ZZZZ"].error is not None
    assert "delisted" in answers["ZZZZ"].error
    assert len(download.calls) == 1
    assert sleeps == []


def test_empty_frame_is_an_error_not_silence(data_dir: Path) -> None:
    source, _ = make_source(lambda **_: pd.DataFrame())
    answer = source.daily_bars(["NVDA"], date(2025, 1, 21), date(2025, 1, 24))["NVDA"]
    assert answer.error is not None
    assert "empty" in answer.error


def test_time_budget_stops_retrying(data_dir: Path) -> None:
    always = [{"fail": {"NVDA": "YFRateLimitError('Too Many Requests')"}}] * 10
    now = [0.0]
    download = FakeDownload(data_dir, always)
    source = YFinancePriceSource(
        download,
        sleep=lambda s: now.__setitem__(0, now[0] + s),
        clock=lambda: now[0],
        base_delay=10.0,
        time_budget=25.0,
        max_attempts=10,
        rng=random.Random(3),
    )
    answer = source.daily_bars(["NVDA"], date(2025, 1, 21), date(2025, 1, 24))["NVDA"]
    assert answer.error is not None
    assert "Rate" in answer.error
    assert now[0] <= 25.0
    assert len(download.calls) < 10


def test_intraday_timezone_is_converted_to_utc(data_dir: Path) -> None:
    """yfinance returns intraday bars in the exchange's zone (America/New_York)."""
    hourly = pd.read_csv(data_dir / "prices" / "intraday" / "SPY_1h.csv")
    stamps = pd.to_datetime(hourly["timestamp"], utc=True)
    day = hourly[(stamps >= "2025-01-27") & (stamps < "2025-01-28")]
    local = pd.DatetimeIndex(pd.to_datetime(day["timestamp"], utc=True)).tz_convert(
        "America/New_York"
    )
    frame = day.drop(columns="timestamp").rename(columns=PRICE_NAMES).set_index(local)
    frame.columns = pd.MultiIndex.from_product([frame.columns, ["SPY"]], names=["Price", "Ticker"])
    now = datetime(2025, 1, 28, tzinfo=UTC)
    source, _ = make_source(lambda **_: frame, now=lambda: now)
    answer = source.intraday_bars(["SPY"], "1h", datetime(2025, 1, 27, tzinfo=UTC), now)["SPY"]
    assert answer.ok
    assert answer.bars["ts"].iloc[0] == pd.Timestamp("2025-01-27T14:30:00Z")
    naive = frame.set_axis(local.tz_localize(None), axis=0)
    source, _ = make_source(lambda **_: naive, now=lambda: now)
    refused = source.intraday_bars(["SPY"], "1h", datetime(2025, 1, 27, tzinfo=UTC), now)["SPY"]
    assert refused.error is not None
    assert "naive" in refused.error


def test_one_minute_requests_are_split_and_clamped() -> None:
    calls: list[dict[str, Any]] = []

    def download(**kwargs: Any) -> pd.DataFrame:
        calls.append(kwargs)
        return pd.DataFrame()

    now = datetime(2025, 3, 1, tzinfo=UTC)
    source, _ = make_source(download, now=lambda: now)
    answer = source.intraday_bars(["SPY"], "1m", now - timedelta(days=90), now)["SPY"]
    assert all(c["end"] - c["start"] <= timedelta(days=7) for c in calls)
    assert min(c["start"] for c in calls) >= now - timedelta(days=30)
    assert len(calls) == 5
    assert answer.error is not None  # every window came back empty


def test_retryable_classification() -> None:
    assert is_retryable("YFRateLimitError('Too Many Requests')")
    assert is_retryable(TimeoutError("read timed out"))
    assert not is_retryable("YFTzMissingError('possibly delisted; no timezone found')")
