"""Price history for the dashboard's timeline."""

from __future__ import annotations

from datetime import date

import pytest

from tests.query.conftest import synthetic_bars
from tracker.db import Database
from tracker.errors import NotFoundError, UserInputError
from tracker.markets.universe import seed_universe
from tracker.query import price_history


def test_tickers_basket_range_and_rebasing(database: Database) -> None:
    with database.session() as session:
        seed_universe(session)
        days = synthetic_bars(
            session,
            {"VST": [10.0, 11.0, 12.0, 9.0], "CEG": [200.0, 210.0, 190.0, 220.0]},
            date(2024, 1, 2),
        )
        raw = price_history(session, ["VST", "ceg"])
        ranged = price_history(session, ["VST"], start=days[1], end=days[2])
        rebased = price_history(session, basket="ai_power", rebase_at=days[1])
        with pytest.raises(NotFoundError):
            price_history(session, ["NOPE"])
        with pytest.raises(NotFoundError):
            price_history(session, basket="nope")
        with pytest.raises(UserInputError):
            price_history(session)
    assert list(raw.columns) == ["VST", "CEG"]
    assert list(raw["VST"]) == [10.0, 11.0, 12.0, 9.0]
    assert list(ranged["VST"]) == [11.0, 12.0]
    assert rebased.loc[str(days[1]), "VST"] == pytest.approx(100.0)
    assert rebased.loc[str(days[3]), "CEG"] == pytest.approx(220.0 / 210.0 * 100)
    assert rebased["TLN"].isna().all()  # a member with no stored bars stays empty


def test_dates_are_sorted_and_a_missing_bar_is_nan(database: Database) -> None:
    with database.session() as session:
        seed_universe(session)
        days = synthetic_bars(
            session, {"VST": [10.0, 11.0, 12.0], "CEG": [200.0]}, date(2024, 1, 2)
        )
        wide = price_history(session, ["CEG", "VST"])
    assert list(wide.columns) == ["CEG", "VST"]
    assert wide.index.name == "date"
    assert [day.date() for day in wide.index] == days
    assert list(wide["VST"]) == [10.0, 11.0, 12.0]
    assert wide["CEG"].iloc[0] == 200.0
    assert wide["CEG"].iloc[1:].isna().all()
