"""car_paths: the day-by-day CAR and its corrected standard error, from the one engine."""

from __future__ import annotations

import pytest

from tracker.config import Settings
from tracker.db import Database
from tracker.errors import NotFoundError, UserInputError
from tracker.measure.path import car_paths
from tracker.measure.read import event_impact

from .recorded import Events


def test_each_day_equals_the_engines_cumulative_window(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    path = car_paths(priced_database, settings, "deepseek-selloff", tickers=["NVDA", "VST"])
    assert set(path["ticker"]) == {"NVDA", "VST"}
    assert list(path[path["ticker"] == "NVDA"]["day"]) == [0, 1, 2, 3, 4, 5]
    for day in (0, 1, 5):
        impact = event_impact(
            priced_database, settings, "deepseek-selloff", tickers=["NVDA", "VST"], window=(0, day)
        )
        for firm in impact["firms"]:
            row = path[(path["ticker"] == firm["ticker"]) & (path["day"] == day)].iloc[0]
            assert row["car"] == pytest.approx(firm["car"], rel=1e-12)
            assert row["car_se"] == pytest.approx(firm["car_se"], rel=1e-12)
    nvda = path[path["ticker"] == "NVDA"].set_index("day")
    assert nvda.loc[0, "car"] < -0.10  # the sell-off day
    # the window variance grows with its length (L + L^2/M ... of the spec), never a reset
    assert nvda.loc[5, "car_se"] > nvda.loc[0, "car_se"]


def test_bad_requests_are_named(
    priced_database: Database, settings: Settings, january: Events
) -> None:
    with pytest.raises(NotFoundError):
        car_paths(priced_database, settings, "no-such-event")
    with pytest.raises(UserInputError, match="too long"):
        car_paths(priced_database, settings, "deepseek-selloff", window=(-5, 100))
