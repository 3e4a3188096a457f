"""Historical analogs: earlier events of the same kind or theme and their CAR distribution."""

from __future__ import annotations

import statistics

import pytest

from tests.query.conftest import World
from tracker.db import Database
from tracker.errors import NotFoundError, UserInputError
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
    assert [row.p_value for row in analogs.rows] == [0.03, 0.03]
    assert analogs.unmeasured == 1  # d: same kind, no stored CAAR
    assert analogs.distribution.median == pytest.approx(-0.055)
    assert "CAAR[0,+5] of ai_power" in analogs.summary()


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
