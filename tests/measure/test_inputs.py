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


def test_fama_french_factors_join_the_sessions_only_when_asked(tmp_path) -> None:
    """Synthetic factor file (not real data): joined on the inputs' sessions, gaps as NaN."""
    from tests.sources.test_famafrench import synthetic_factor_csv
    from tracker.errors import ConfigError
    from tracker.measure.inputs import MarketInputs, add_configured_factors

    sessions = pd.bdate_range("2024-03-01", periods=6)
    returns = pd.DataFrame({"SPY": [0.01] * 6}, index=sessions)
    inputs = MarketInputs(returns, returns, returns, {}, None, None)
    text, expected = synthetic_factor_csv(sessions[1:], seed=1)  # the file lacks the first day
    path = tmp_path / "factors.csv"
    path.write_text(text)
    assert add_configured_factors(inputs, ["SPY"], None) is inputs  # nothing read
    with pytest.raises(ConfigError, match="TRACKER_FAMA_FRENCH_SOURCE"):
        add_configured_factors(inputs, ["SPY", "FF_SMB"], None)
    joined = add_configured_factors(inputs, ["SPY", "FF_SMB"], str(path))
    assert list(joined.returns.columns) == ["SPY", *expected.columns]
    assert joined.returns["FF_SMB"].isna().tolist() == [True] + [False] * 5
    assert joined.returns["FF_SMB"].iloc[1:].tolist() == expected["FF_SMB"].tolist()
