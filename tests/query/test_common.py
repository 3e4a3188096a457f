"""Parsing of user input shared by the queries and the CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tracker.config import load_settings
from tracker.db import Database
from tracker.db.models import Event
from tracker.errors import NotFoundError, UserInputError
from tracker.measure.read import query_parameters, resolve_event
from tracker.measure.study import default_parameters
from tracker.query import parse_day, parse_window
from tracker.query.common import QUERY_MODELS, STORED_MODELS, STORED_WINDOWS, find_event


def test_parse_day_accepts_iso_and_names_the_option_otherwise() -> None:
    assert parse_day("2025-01-27", "--from") == date(2025, 1, 27)
    for bad in ("27/01/2025", "2025-02-30", "yesterday", ""):
        with pytest.raises(UserInputError, match="--to"):
            parse_day(bad, "--to")


def test_parse_window() -> None:
    assert parse_window("0,5") == (0, 5)
    assert parse_window(" -1 , 1 ") == (-1, 1)
    for bad in ("5,0", "0", "a,b", "0,1,2"):
        with pytest.raises(UserInputError, match="--window"):
            parse_window(bad)


def test_parse_window_is_the_one_parser_of_queries_and_measure_reads() -> None:
    assert parse_window("[-1,1]") == (-1, 1)
    assert parse_window((0, 5)) == (0, 5)
    for bad in ((1, 0), (0, 1, 2), "0;1"):
        with pytest.raises(UserInputError, match="--window"):
            parse_window(bad)
    with pytest.raises(UserInputError, match="--window: start 3 is after end 1"):
        query_parameters(load_settings(), "market", "3,1")


def test_stored_models_and_windows_are_what_the_measure_stage_stores() -> None:
    stored = default_parameters(load_settings())
    assert (str(stored.model_name),) == STORED_MODELS
    assert tuple(stored.event_windows) == STORED_WINDOWS
    assert set(STORED_MODELS) <= set(QUERY_MODELS)


def test_every_event_lookup_says_the_same(database: Database) -> None:
    """The query layer, the measure reads and ``tracker events`` share one lookup."""
    with database.session() as session:
        session.add(
            Event(
                slug="synthetic-lookup",
                title="Synthetic: lookup",
                kind="news",
                origin="detected",
                first_reported_at=datetime(2024, 1, 2, 14, tzinfo=UTC),
            )
        )
    with database.session() as session:
        found = find_event(session, "synthetic-lookup")
        assert find_event(session, str(found.id)) is found
        assert resolve_event(session, found.id) is found
        for lookup in (find_event, resolve_event):
            with pytest.raises(NotFoundError) as raised:
                lookup(session, " nope ")
            assert str(raised.value) == "no event with id or slug 'nope'"


@pytest.mark.parametrize("ref", ["99999999999999999999999", "²", "١٢", "9223372036854775808"])
def test_ids_that_are_not_row_ids_are_not_found_never_a_crash(
    database: Database, ref: str
) -> None:
    """``"²".isdigit()`` is true and ``int`` refuses it; a 23-digit id overflows the driver.

    Both used to raise out of the lookup (a traceback in ``events show``, ``query impact``,
    ``impact compute`` and on the dashboard's event page); both are simply not an event.
    """
    with database.session() as session, pytest.raises(NotFoundError) as raised:
        find_event(session, ref)
    assert str(raised.value) == f"no event with id or slug {ref!r}"
