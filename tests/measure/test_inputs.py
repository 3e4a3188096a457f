"""load_market_inputs: returns on the exchange's sessions, adjusted where the source is not."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tracker.db import Database
from tracker.measure.inputs import load_market_inputs

from .recorded import load_recorded_prices


def _dividends(data_dir: Path, ticker: str) -> dict[date, float]:
    with open(data_dir / "prices" / "actions" / f"{ticker}_dividends.csv", newline="") as handle:
        return {date.fromisoformat(r["date"]): float(r["dividend"]) for r in csv.DictReader(handle)}


def test_returns_follow_sessions_and_stored_dividends(database: Database, data_dir: Path) -> None:
    with database.session() as session:
        load_recorded_prices(session, data_dir, ("SPY", "TSM"))  # TSM has no adj_close
        inputs = load_market_inputs(session, ["TSM", "SPY", "NOPE"], "XNYS")
    assert list(inputs.returns.columns) == ["SPY", "TSM"]  # no bars, no column
    assert inputs.first_session == date(2023, 1, 3)
    assert inputs.last_session == date(2025, 12, 31)
    assert pd.Timestamp("2025-01-20") not in inputs.returns.index  # MLK Day
    closes = inputs.closes["TSM"]
    sessions = list(inputs.returns.index)
    ex_dates = [
        d for d in _dividends(data_dir, "TSM") if date(2024, 1, 1) <= d <= date(2024, 12, 31)
    ]
    assert ex_dates
    for ex_date in ex_dates:
        row = sessions.index(pd.Timestamp(ex_date))
        before, on = closes.iloc[row - 1], closes.iloc[row]
        dividend = _dividends(data_dir, "TSM")[ex_date]
        # CRSP/Yahoo: the close before the ex-date is scaled by (1 - D / close)
        assert inputs.returns["TSM"].iloc[row] == pytest.approx(
            on / (before - dividend) - 1, rel=1e-9
        )
    selloff = inputs.returns["TSM"].iloc[sessions.index(pd.Timestamp("2025-01-27"))]
    assert selloff == pytest.approx(-0.1333, abs=1e-4)
