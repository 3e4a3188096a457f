"""daily_abnormal_returns: today's movers through the same engine."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.config import Settings
from tracker.db import Database
from tracker.errors import NotFoundError, UserInputError
from tracker.measure.daily import DAILY_COLUMNS
from tracker.measure.read import event_impact
from tracker.measure.service import daily_abnormal_returns

from .recorded import SELLOFF_TICKERS, Events


def test_movers_of_the_selloff_session(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    movers = daily_abnormal_returns(priced_database, settings, date(2025, 1, 27))
    assert list(movers.columns) == list(DAILY_COLUMNS)
    assert set(movers.index) == set(SELLOFF_TICKERS)  # every ticker with a bar, not SPY
    assert round(movers.loc["NVDA", "raw_return"] * 100, 2) == -16.97
    assert movers.loc["NVDA", "benchmark_return"] == pytest.approx(-0.0141, abs=1e-4)
    assert (movers["p"] < 0.01).all()
    # the same engine and inputs as the event study with day 0 on that session
    impact = event_impact(priced_database, settings, "deepseek-selloff", window="0,0")
    by_ticker = {firm["ticker"]: firm for firm in impact["firms"]}
    for ticker in SELLOFF_TICKERS:
        assert movers.loc[ticker, "ar"] == by_ticker[ticker]["car"]
        assert movers.loc[ticker, "t"] == by_ticker[ticker]["car_t"]


def test_chosen_tickers_and_bad_input(priced_database: Database, settings: Settings) -> None:
    movers = daily_abnormal_returns(priced_database, settings, date(2025, 1, 28), ["vst", "NVDA"])
    assert list(movers.index) == ["VST", "NVDA"]
    assert movers.loc["NVDA", "ar"] > 0
    with pytest.raises(UserInputError, match="2025-01-20"):
        daily_abnormal_returns(priced_database, settings, date(2025, 1, 20))
    with pytest.raises(NotFoundError, match="NOPE"):
        daily_abnormal_returns(priced_database, settings, date(2025, 1, 28), ["NOPE"])
    future = daily_abnormal_returns(priced_database, settings, date(2026, 3, 2), ["NVDA"])
    assert future.loc["NVDA", "status"] == "pending"
