"""study_inputs: every reader of the engine gets the same inputs, factors included."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tests.sources.test_famafrench import synthetic_factor_csv
from tracker.config import Settings
from tracker.db import Database
from tracker.errors import ConfigError
from tracker.measure.anchored import compute_anchored
from tracker.measure.daily import daily_abnormal_returns
from tracker.measure.path import car_paths
from tracker.measure.read import event_impact
from tracker.measure.study import default_parameters
from tracker.measure.study_inputs import study_inputs

from .recorded import Events

FACTOR = "FF_MKT-RF"


@pytest.fixture
def factor_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The market model against a factor series read from a factors file (not a ticker).

    The file's values are synthetic (a test of the wiring, not of the numbers)."""
    text, _ = synthetic_factor_csv(pd.bdate_range("2023-01-02", "2025-12-31"))
    path = tmp_path / "factors.csv"
    path.write_text(text, encoding="utf-8")
    return settings.model_copy(update={"benchmark": FACTOR, "fama_french_source": str(path)})


def test_the_factor_benchmark_reaches_every_reader(
    priced_database: Database, factor_settings: Settings, january: Events
) -> None:
    params = default_parameters(factor_settings)
    with priced_database.session() as session:
        inputs = study_inputs(session, factor_settings, params, ["NVDA"])
    assert FACTOR in inputs.returns.columns
    assert inputs.returns[FACTOR].notna().sum() > 400

    movers = daily_abnormal_returns(priced_database, factor_settings, date(2025, 1, 27), ["NVDA"])
    assert movers.loc["NVDA", "status"] == "ok"
    assert movers.loc["NVDA", "benchmark_return"] == pytest.approx(
        inputs.returns.loc[pd.Timestamp("2025-01-27"), FACTOR]
    )
    impact = event_impact(
        priced_database, factor_settings, "deepseek-selloff", window="0,0", compute=True
    )
    nvda = next(f for f in impact["firms"] if f["ticker"] == "NVDA")
    assert nvda["status"] == "ok"
    assert nvda["car"] == movers.loc["NVDA", "ar"]
    path = car_paths(
        priced_database, factor_settings, "deepseek-selloff", tickers=["NVDA"], window=(0, 2)
    )
    assert set(path["status"]) == {"ok"}
    report = compute_anchored(priced_database, factor_settings)
    assert not report.failed


def test_factors_without_a_source_are_refused_by_every_reader(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    no_source = settings.model_copy(update={"benchmark": FACTOR})
    with pytest.raises(ConfigError, match="TRACKER_FAMA_FRENCH_SOURCE"):
        daily_abnormal_returns(priced_database, no_source, date(2025, 1, 27), ["NVDA"])
    with pytest.raises(ConfigError, match="TRACKER_FAMA_FRENCH_SOURCE"):
        car_paths(priced_database, no_source, "deepseek-selloff", tickers=["NVDA"], window=(0, 2))
