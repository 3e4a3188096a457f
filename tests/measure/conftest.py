"""A database holding real recorded prices and the DeepSeek events of January 2025."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.config import Settings, load_settings
from tracker.db import Database
from tracker.markets.universe import seed_universe

from .recorded import PRICE_TICKERS, Events, add_january_events, load_recorded_prices


@pytest.fixture
def settings(database: Database) -> Settings:
    return load_settings(database_url=database.engine.url.render_as_string(hide_password=False))


@pytest.fixture
def priced_database(database: Database, data_dir: Path) -> Database:
    with database.session() as session:
        load_recorded_prices(session, data_dir, PRICE_TICKERS)
    return database


@pytest.fixture
def january(priced_database: Database) -> Events:
    return add_january_events(priced_database)


@pytest.fixture
def unpriced_january(database: Database) -> Events:
    """The events and the default universe, without any price (for the error paths)."""
    with database.session() as session:
        seed_universe(session)
    return add_january_events(database)
