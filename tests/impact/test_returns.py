"""Adjusted closes and returns (IMPACT_SPEC.md §2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker.impact.returns import (
    adjusted_close,
    dividend_adjusted_close,
    returns_matrix,
    simple_returns,
)

from .conftest import load_daily, load_dividends


def test_nvda_selloff_raw_return_to_the_cent(data_dir):
    nvda = load_daily(data_dir, "NVDA")
    assert round(nvda.loc["2025-01-24", "close"], 2) == 142.62
    assert round(nvda.loc["2025-01-27", "close"], 2) == 118.42
    raw = simple_returns(nvda["close"])
    assert round(raw.loc["2025-01-27"] * 100, 2) == -16.97
    vst = simple_returns(load_daily(data_dir, "VST")["close"])
    assert round(vst.loc["2025-01-27"] * 100, 2) == -28.27


def test_dividend_adjustment_crsp_convention():
    index = pd.bdate_range("2024-01-01", periods=5)
    close = pd.Series([100.0, 101.0, 99.0, 100.0, 102.0], index=index)
    dividends = pd.Series([1.01], index=[index[2]])
    adj = dividend_adjusted_close(close, dividends)
    factor = 1 - 1.01 / 101.0
    np.testing.assert_allclose(adj.to_numpy(), [100 * factor, 101 * factor, 99, 100, 102])
    # the multiplicative (Yahoo/CRSP factor) ex-day return: P_t / (P_t-1 - D) - 1
    assert simple_returns(adj).iloc[2] == pytest.approx(99 / (101 - 1.01) - 1, rel=1e-12)
    # an ex-date after the data scales every close alike: returns do not change
    later = pd.concat([dividends, pd.Series([0.5], index=[pd.Timestamp("2030-01-02")])])
    np.testing.assert_allclose(
        simple_returns(dividend_adjusted_close(close, later)).to_numpy(),
        simple_returns(adj).to_numpy(),
        rtol=1e-12,
    )
    pd.testing.assert_series_equal(dividend_adjusted_close(close, None), close, check_freq=False)


def test_derived_adjustment_matches_source_adj_close(data_dir):
    for ticker in ("MSFT", "SPY", "NVDA"):
        daily = load_daily(data_dir, ticker)
        divs = load_dividends(data_dir, ticker)
        derived = simple_returns(dividend_adjusted_close(daily["close"], divs))
        source = simple_returns(daily["adj_close"])
        raw = simple_returns(daily["close"])
        assert np.nanmax(np.abs(derived - source)) < 2e-5, ticker
        assert np.nanmax(np.abs(raw - source)) > 5e-5, ticker  # the dividends did matter


def test_source_adj_close_preferred_only_when_complete():
    index = pd.bdate_range("2024-01-01", periods=3)
    close = pd.Series([10.0, 11.0, 12.0], index=index)
    adj = pd.Series([9.0, 10.0, 11.0], index=index)
    np.testing.assert_array_equal(adjusted_close(close, None, adj).to_numpy(), adj.to_numpy())
    partial = adj.copy()
    partial.iloc[1] = np.nan
    np.testing.assert_array_equal(adjusted_close(close, None, partial).to_numpy(), close.to_numpy())


def test_missing_days_are_nan_never_zero():
    index = pd.bdate_range("2024-01-01", periods=5)
    a = pd.Series([10.0, 11.0, 12.0, 13.0, 14.0], index=index)
    b = pd.Series([20.0, 21.0, 23.0], index=index[[0, 1, 3]])  # day 2 missing
    matrix = returns_matrix({"A": a, "B": b}, sessions=index)
    assert matrix["B"].isna().tolist() == [True, False, True, True, True]
    assert (matrix["B"].dropna() != 0).all()
    assert matrix["A"].iloc[4] == pytest.approx(14 / 13 - 1)
    union = returns_matrix({"A": a, "B": b})
    assert list(union.index) == list(index)
