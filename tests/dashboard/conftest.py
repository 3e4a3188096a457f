"""A demo database for the dashboard tests, built once per session from the recorded data.

It runs the real pipeline (recorded prices, recorded feeds, curated timeline, linking, event
studies) on a smaller slice than ``tracker demo``: prices from 2024 (the estimation window of
January 2025) to March 2025, and impacts only for events of 20-31 January 2025, so the whole
build takes seconds rather than a minute.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tracker.config import load_settings
from tracker.db import Database, migrate
from tracker.db.models import Event
from tracker.ingest.news import poll_recorded
from tracker.ingest.prices import ingest_daily_bars
from tracker.link.events import link_new_articles, load_curated_events
from tracker.markets.universe import seed_universe
from tracker.measure.service import compute_impacts
from tracker.sources.prices_recorded import RecordedPriceSource

PRICES_FROM, PRICES_TO = date(2024, 1, 2), date(2025, 3, 31)
MEASURED_FROM = datetime(2025, 1, 20, tzinfo=UTC)
MEASURED_TO = datetime(2025, 2, 1, tzinfo=UTC)


def build_demo_database(url: str, data_dir: Path) -> None:
    migrate.upgrade(url)
    settings = load_settings(database_url=url, data_dir=data_dir)
    database = Database.connect(url)
    try:
        source = RecordedPriceSource(data_dir)
        with database.session() as session:
            seed_universe(session)
        ingest_daily_bars(
            database,
            source,
            source.available_tickers(),
            PRICES_FROM,
            PRICES_TO,
            calendar=settings.calendar,
        )
        poll_recorded(database, data_dir)
        load_curated_events(database, None)
        link_new_articles(database)
        with database.session() as session:
            ids = list(
                session.scalars(
                    select(Event.id).where(
                        Event.first_reported_at >= MEASURED_FROM,
                        Event.first_reported_at < MEASURED_TO,
                    )
                )
            )
        compute_impacts(database, settings, event_ids=ids)
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def demo_database_url(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> str:
    path = tmp_path_factory.mktemp("dashboard-demo") / "demo.db"
    url = f"sqlite:///{path}"
    build_demo_database(url, data_dir)
    return url
