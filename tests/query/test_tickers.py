"""A ticker's largest abnormal moves, their events, and large moves with no event."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.query.conftest import World, synthetic_bars
from tracker.db import Database
from tracker.errors import NotFoundError, UserInputError
from tracker.query import ticker_moves

QUIET_JUMP = date(2024, 1, 22)
EVENT_DAY = date(2024, 1, 10)  # event a's day 0


def _seed_prices(database: Database) -> None:
    """Synthetic closes: a flat benchmark, NVDA -5% on event a's day and +10% on a quiet day."""
    with database.session() as session:
        days = synthetic_bars(session, {"SPY": [400.0] * 30}, date(2024, 1, 2))
        closes, price = [], 100.0
        for day in days:
            price *= {EVENT_DAY: 0.95, QUIET_JUMP: 1.10}.get(day, 1.0)
            closes.append(price)
        synthetic_bars(session, {"NVDA": closes}, date(2024, 1, 2))


def test_event_moves_with_linked_events_and_quiet_day_moves(
    database: Database, world: World
) -> None:
    _seed_prices(database)
    with database.session() as session:
        result = ticker_moves(session, "nvda", top=2)
        everything = ticker_moves(session, "NVDA", top=10)
    assert result.ticker == "NVDA"
    assert [move.day0 for move in result.moves] == [EVENT_DAY, date(2024, 3, 5)]
    assert [move.abnormal_return for move in result.moves] == [-0.05, 0.015]
    assert [event.id for event in result.moves[0].events] == [world.events["a"]]
    assert result.moves[0].p_value == 0.001
    assert len(everything.moves) == 3
    # the event day's -5% is explained; the +10% quiet day is the largest unexplained move
    assert result.unexplained_model == "market_adjusted"
    assert result.unexplained[0].date == QUIET_JUMP
    assert result.unexplained[0].abnormal_return == pytest.approx(0.10)
    assert EVENT_DAY not in {move.date for move in everything.unexplained}
    frame = result.moves_frame()
    assert list(frame["day0"]) == [EVENT_DAY, date(2024, 3, 5)]


def test_a_provider_supplies_the_day_abnormal_returns(database: Database, world: World) -> None:
    def provider(session, instrument):
        return pd.Series({date(2024, 2, 1): -0.2, EVENT_DAY: 0.3, date(2024, 2, 2): 0.01})

    with database.session() as session:
        result = ticker_moves(
            session, "NVDA", top=1, abnormal_returns=provider, unexplained_model="market"
        )
        with pytest.raises(NotFoundError, match="ticker"):
            ticker_moves(session, "NOPE")
        with pytest.raises(UserInputError, match="--top"):
            ticker_moves(session, "NVDA", top=0)
        quiet = ticker_moves(session, "CEG")  # no [0,0] results, no bars
    assert [(m.date, m.abnormal_return) for m in result.unexplained] == [(date(2024, 2, 1), -0.2)]
    assert quiet.moves == ()
    assert quiet.unexplained == ()


def test_only_a_stored_model_is_accepted(database: Database, world: World) -> None:
    with database.session() as session:
        with pytest.raises(UserInputError, match="unknown model 'bogus'"):
            ticker_moves(session, "NVDA", model="bogus")
        with pytest.raises(UserInputError, match="only stored results"):
            ticker_moves(session, "NVDA", model="constant_mean")
        assert ticker_moves(session, "NVDA", model="market").moves
