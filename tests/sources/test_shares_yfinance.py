"""The yfinance share-count adapter, tested at yfinance's own function boundary.

The injected fetcher answers like ``yf.Ticker(t).get_shares_full(start, end)``: a Series of
counts indexed by aware timestamps in the exchange's zone. Its counts are the REAL recorded
filings (``prices/shares.csv``); failures raise as yfinance does with hide_exceptions off.
"""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tracker.sources.shares_yfinance import YAHOO_CLASS, YFinanceSharesSource


def recorded_series(data_dir: Path, ticker: str) -> pd.Series:
    with open(data_dir / "prices" / "shares.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["ticker"] == ticker]
    index = pd.DatetimeIndex(
        [pd.Timestamp(row["as_of"]).tz_localize("America/New_York") for row in rows]
    )
    return pd.Series([int(row["shares_outstanding"]) for row in rows], index=index)


class FakeShares:
    """Replays recorded counts; ``script`` lists, per call, an exception to raise instead."""

    def __init__(self, data_dir: Path, script: dict[str, list[Exception]] | None = None) -> None:
        self.data_dir = data_dir
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.calls: list[tuple[str, Any, Any]] = []

    def __call__(self, ticker: str, start: date | None, end: date | None) -> pd.Series | None:
        self.calls.append((ticker, start, end))
        failures = self.script.get(ticker, [])
        if failures:
            raise failures.pop(0)
        series = recorded_series(self.data_dir, ticker)
        return series if len(series) else None


def make_source(fetcher: Any) -> tuple[YFinanceSharesSource, list[float]]:
    sleeps: list[float] = []
    return YFinanceSharesSource(fetcher, sleep=sleeps.append, rng=random.Random(1)), sleeps


def test_counts_come_back_per_ticker_as_dated_rows(data_dir: Path) -> None:
    fetcher = FakeShares(data_dir)
    source, _ = make_source(fetcher)
    answers = source.shares_outstanding(["nvda", "AVGO"], date(2024, 1, 1), date(2025, 3, 31))
    assert fetcher.calls[0] == ("NVDA", date(2024, 1, 1), date(2025, 4, 1))  # end exclusive
    nvda = answers["nvda"]
    assert nvda.ok
    assert nvda.counts[0].as_of == date(2024, 11, 15)
    assert nvda.counts[0].shares == 24_490_000_000
    assert {c.share_class for c in nvda.counts} == {YAHOO_CLASS}
    assert answers["AVGO"].counts[0].shares == 4_670_576_083


def test_one_failing_ticker_never_hides_the_others(data_dir: Path) -> None:
    source, _ = make_source(FakeShares(data_dir, {"TLN": [KeyError("'shares' not found for TLN")]}))
    answers = source.shares_outstanding(["TLN", "NVDA", "VST"], None, None)
    assert answers["TLN"].error == "KeyError: \"'shares' not found for TLN\""
    assert answers["VST"].error == "empty answer: no share counts returned"  # none recorded
    assert answers["NVDA"].ok


def test_rate_limit_is_retried_with_backoff_then_succeeds(data_dir: Path) -> None:
    fetcher = FakeShares(
        data_dir, {"NVDA": [RuntimeError("YFRateLimitError: Too Many Requests. Rate limited.")]}
    )
    source, sleeps = make_source(fetcher)
    answer = source.shares_outstanding(["NVDA"], None, None)["NVDA"]
    assert answer.ok
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 2.0
    assert [c[0] for c in fetcher.calls] == ["NVDA", "NVDA"]


def test_persistent_rate_limit_gives_up_and_says_so(data_dir: Path) -> None:
    error = RuntimeError("Too Many Requests")
    source, sleeps = make_source(FakeShares(data_dir, {"NVDA": [error] * 10}))
    answer = source.shares_outstanding(["NVDA"], None, None)["NVDA"]
    assert answer.error is not None
    assert "gave up after 4 attempts" in answer.error
    assert len(sleeps) == 3


def test_several_counts_a_day_keep_the_last_and_bad_values_are_dropped() -> None:
    index = pd.DatetimeIndex(
        [
            pd.Timestamp("2024-11-15 00:00", tz="America/New_York"),
            pd.Timestamp("2024-11-15 16:00", tz="America/New_York"),
            pd.Timestamp("2024-11-18 00:00", tz="America/New_York"),
        ]
    )
    series = pd.Series([1_000, 1_200, -5], index=index)
    source, _ = make_source(lambda ticker, start, end: series)
    answer = source.shares_outstanding(["ZZZZ"], None, None)["ZZZZ"]
    assert [(c.as_of, c.shares) for c in answer.counts] == [(date(2024, 11, 15), 1_200)]


@pytest.mark.parametrize("empty", [None, pd.Series([], dtype="int64")])
def test_an_empty_answer_is_an_error_for_that_ticker(empty: pd.Series | None) -> None:
    source, _ = make_source(lambda ticker, start, end: empty)
    assert source.shares_outstanding(["ZZZZ"], None, None)["ZZZZ"].error == (
        "empty answer: no share counts returned"
    )
