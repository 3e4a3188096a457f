"""Historical analogs: earlier events of the same kind or theme and their CAR distribution."""

from __future__ import annotations

import statistics

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.query.conftest import World
from tracker.db import Database
from tracker.db.models import Event, EventTicker, FirmImpact, Instrument
from tracker.errors import NotFoundError, UserInputError
from tracker.markets.universe import ensure_instruments
from tracker.query import find_analogs


def test_analogs_for_a_ticker_same_kind_or_theme_strictly_earlier(
    database: Database, world: World
) -> None:
    with database.session() as session:
        analogs = find_analogs(session, "synthetic-d")  # NVDA, its top ticker; CAR[0,+5]
        by_kind = find_analogs(session, "synthetic-d", ticker="NVDA", match="kind")
        by_theme = find_analogs(session, world.events["d"], match="theme")
    ids = dict(world.events.items())
    # "later" is after d; "b" shares neither kind nor theme; "b" has no [0,+5] result anyway
    assert [row.event_id for row in analogs.rows] == [ids["c"], ids["deal"], ids["a"]]
    assert analogs.target == "NVDA"
    cars = [-0.08, 0.02, 0.01]
    assert analogs.distribution.n == 3
    assert analogs.distribution.median == pytest.approx(statistics.median(cars))
    assert analogs.distribution.mean == pytest.approx(statistics.mean(cars))
    assert analogs.distribution.share_negative == pytest.approx(1 / 3)
    assert analogs.summary().startswith("events like this, n = 3: median CAR[0,+5] of NVDA +1.0%")
    assert [row.event_id for row in by_kind.rows] == [ids["c"], ids["a"]]
    assert [row.event_id for row in by_theme.rows] == [ids["deal"], ids["a"]]
    assert list(analogs.to_frame()["car"]) == [0.02, 0.01, -0.08]


def test_analogs_for_a_basket_use_group_impacts(database: Database, world: World) -> None:
    with database.session() as session:
        analogs = find_analogs(session, "synthetic-later", basket="ai_power")
    assert [row.car for row in analogs.rows] == [-0.07, -0.04]
    # the stored group statistics carry bmp_p, patell_p, kp_p, ...: analogs report kp_p
    assert [row.p_value for row in analogs.rows] == [0.03, 0.03]
    assert analogs.p_value_label == "kp_p"
    assert analogs.unmeasured == 1  # d: same kind, no stored CAAR
    assert analogs.distribution.median == pytest.approx(-0.055)
    assert "CAAR[0,+5] of ai_power" in analogs.summary()


def test_an_analog_of_both_kind_and_theme_counts_once(database: Database, world: World) -> None:
    ids = world.events
    with database.session() as session:
        # d (model release, efficiency theme): a shares both, c the kind, deal the theme
        basket = find_analogs(session, "synthetic-d", basket="ai_power")
        # VST has no [0,+5] result: every candidate is unmeasured, none is listed
        unmeasured_only = find_analogs(session, "synthetic-d", ticker="VST")
    assert [row.event_id for row in basket.rows] == [ids["c"], ids["a"]]
    assert [(row.same_kind, row.shared_theme) for row in basket.rows] == [
        (True, False),
        (True, True),
    ]
    assert basket.unmeasured == 1  # deal: no stored CAAR
    assert unmeasured_only.rows == ()
    assert unmeasured_only.unmeasured == 3  # a, c and deal, a once


def test_analogs_bad_input(database: Database, world: World) -> None:
    with database.session() as session:
        with pytest.raises(NotFoundError):
            find_analogs(session, "nope")
        with pytest.raises(NotFoundError):
            find_analogs(session, "synthetic-d", ticker="NOPE")
        with pytest.raises(UserInputError, match="not both"):
            find_analogs(session, "synthetic-d", ticker="NVDA", basket="ai_power")
        with pytest.raises(UserInputError, match="window"):
            find_analogs(session, "synthetic-d", window=(5, 0))
        empty = find_analogs(session, "synthetic-a")  # nothing earlier
    assert empty.distribution.n == 0
    assert "n = 0" in empty.summary()


def _link(
    session: Session, event_id: int, ticker: str, relevance: float, car: float | None
) -> None:
    """Link ``ticker`` to the event with a stored [0,+5] result (car None: unknown_ticker)."""
    ensure_instruments(session, [ticker])
    instrument = session.scalars(select(Instrument).where(Instrument.ticker == ticker)).one()
    event = session.get(Event, event_id)
    assert event is not None
    session.add(EventTicker(event_id=event_id, instrument_id=instrument.id, relevance=relevance))
    session.add(
        FirmImpact(
            event_id=event_id,
            instrument_id=instrument.id,
            model="market",
            window_start=0,
            window_end=5,
            status="ok" if car is not None else "unknown_ticker",
            day0=event.day0,
            car=car,
            statistics={"synthetic": True},
            parameters={},
            input_fingerprint="synthetic",
        )
    )


def test_default_ticker_is_the_most_relevant_one_with_a_stored_car(
    database: Database, world: World
) -> None:
    c = world.events["c"]  # NVDA relevance 1.0, CAR[0,+5] +0.02; CEG 0.9 without [0,+5]
    with database.session() as session:
        _link(session, c, "AAPL", 5.0, None)  # most relevant, but no prices: never chosen
        _link(session, c, "AMD", 0.95, -0.50)  # larger |CAR|, but less relevant
    with database.session() as session:
        assert find_analogs(session, c).target == "NVDA"
        assert find_analogs(session, c, ticker="AAPL").distribution.n == 0
    with database.session() as session:  # equal relevance: the larger |CAR| wins
        amd = session.scalars(select(Instrument.id).where(Instrument.ticker == "AMD")).one()
        session.execute(
            update(EventTicker)
            .where(EventTicker.event_id == c, EventTicker.instrument_id == amd)
            .values(relevance=1.0)
        )
    with database.session() as session:
        assert find_analogs(session, c).target == "AMD"
        # only results of the requested window count: none of c's tickers has [0,0] but NVDA
        assert find_analogs(session, c, window=(0, 0)).target == "NVDA"


def test_no_measured_ticker_is_said_clearly(database: Database, world: World) -> None:
    with database.session() as session:
        with pytest.raises(UserInputError, match=r"no linked ticker with a stored CAR\[0,5\]"):
            find_analogs(session, "synthetic-b")  # NVDA linked, but only [0,+1] stored
        assert find_analogs(session, "synthetic-b", window=(0, 1)).target == "NVDA"


def test_analogs_refuse_models_and_windows_that_are_not_stored(
    database: Database, world: World
) -> None:
    with database.session() as session:
        with pytest.raises(UserInputError, match=r"unknown model 'bogus'.*market_adjusted"):
            find_analogs(session, "synthetic-d", model="bogus")
        with pytest.raises(UserInputError, match=r"stored model.*: market"):
            find_analogs(session, "synthetic-d", model="constant_mean")
        with pytest.raises(UserInputError, match=r"0,3 is not a stored window.*0,5"):
            find_analogs(session, "synthetic-d", window=(0, 3))
