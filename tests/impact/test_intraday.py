"""Intraday reaction from hourly bars labelled by their UTC start."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest

from tracker.impact.intraday import intraday_reaction


@pytest.fixture(scope="module")
def bars(data_dir):
    load = lambda t: pd.read_csv(data_dir / "prices" / "intraday" / f"{t}_1h.csv")  # noqa: E731
    return load("QQQ"), load("SPY")


def test_selloff_morning_reaction(bars):
    qqq, spy = bars
    got = intraday_reaction(qqq, datetime(2025, 1, 27, 15, 0, tzinfo=UTC), spy, ticker="QQQ")
    assert got.status == "ok"
    assert got.base_time == datetime(2025, 1, 24, 21, 0, tzinfo=UTC)  # Friday's last bar end
    friday_close = qqq.loc[qqq.timestamp == "2025-01-24T20:30:00+00:00", "close"].item()
    first_bar = qqq.loc[qqq.timestamp == "2025-01-27T14:30:00+00:00", "close"].item()
    monday_close = qqq.loc[qqq.timestamp == "2025-01-27T20:30:00+00:00", "close"].item()
    assert got.base_price == friday_close
    assert got.returns["30m"] == pytest.approx(first_bar / friday_close - 1, rel=1e-12)
    assert got.returns["close"] == pytest.approx(monday_close / friday_close - 1, rel=1e-12)
    assert got.returns["close"] < -0.02
    spy_move = got.benchmark_returns["close"]
    assert got.excess_returns["close"] == pytest.approx(got.returns["close"] - spy_move)


def test_weekend_news_starts_at_the_open_and_hourly_bars_miss_30_minutes(bars):
    qqq, spy = bars
    got = intraday_reaction(qqq, datetime(2025, 1, 25, 12, 0, tzinfo=UTC), spy)
    assert got.status == "partial"
    assert math.isnan(got.returns["30m"])  # first bar ends an hour after the open
    assert math.isfinite(got.returns["1h"])


def test_no_bars_is_a_status_not_an_error(bars):
    qqq, spy = bars
    got = intraday_reaction(qqq, datetime(2023, 3, 1, 16, 0, tzinfo=UTC), spy)
    assert got.status == "no_bars"
    assert all(math.isnan(v) for v in got.returns.values())
    empty = intraday_reaction(qqq.iloc[:0], datetime(2025, 1, 27, 15, 0, tzinfo=UTC))
    assert empty.status == "no_bars"
    with pytest.raises(ValueError, match="aware"):
        intraday_reaction(qqq, datetime(2025, 1, 27, 15, 0))
