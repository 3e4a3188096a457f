"""A database holding real recorded prices and the DeepSeek events of January 2025."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tracker.config import Settings, load_settings
from tracker.db import Database
from tracker.db.models import Basket, Event, EventTheme, EventTicker, Theme, ThemeBasket
from tracker.markets.universe import ensure_instruments, seed_universe

from .recorded import load_recorded_prices

SEMIS = ("NVDA", "AVGO", "TSM", "MRVL")
POWER = ("VST", "CEG", "TLN", "GEV", "NRG")
SELLOFF_TICKERS = SEMIS + POWER
PRICE_TICKERS = ("SPY", *SELLOFF_TICKERS)


@dataclass(frozen=True)
class Events:
    selloff: int
    r1: int
    rebound: int


def add_event(
    database: Database,
    slug: str,
    first_reported_at: datetime,
    tickers: Sequence[str],
    *,
    occurred_at: datetime | None = None,
    baskets: Sequence[str] = (),
    day0: date | None = None,
) -> int:
    """An event linked to ``tickers`` and, through one theme, to ``baskets``."""
    with database.session() as session:
        ids = ensure_instruments(session, list(tickers))
        event = Event(
            slug=slug,
            title=slug.replace("-", " "),
            origin="curated",
            first_reported_at=first_reported_at,
            occurred_at=occurred_at,
            day0=day0,
        )
        session.add(event)
        session.flush()
        for ticker in tickers:
            session.add(EventTicker(event_id=event.id, instrument_id=ids[ticker]))
        if baskets:
            theme = Theme(slug=f"theme-{slug}", name=f"theme of {slug}")
            session.add(theme)
            session.flush()
            session.add(EventTheme(event_id=event.id, theme_id=theme.id))
            for basket in baskets:
                basket_id = session.scalars(select(Basket.id).where(Basket.slug == basket)).one()
                session.add(ThemeBasket(theme_id=theme.id, basket_id=basket_id))
        return event.id


def add_january_events(database: Database) -> Events:
    """The 2025-01-27 sell-off, the R1 release (a holiday) and the 2025-01-28 rebound."""
    selloff = add_event(
        database,
        "deepseek-selloff",
        datetime(2025, 1, 27, 7, 49, 1, tzinfo=UTC),  # The Verge, pre-market
        SELLOFF_TICKERS,
        baskets=("ai_semis", "ai_power"),
    )
    r1 = add_event(
        database,
        "deepseek-r1-released",
        datetime(2025, 1, 20, 21, 0, 24, tzinfo=UTC),  # HN front page, MLK Day
        ("NVDA",),
        occurred_at=datetime(2025, 1, 20, tzinfo=UTC),
    )
    rebound = add_event(
        database,
        "nvidia-rebound",
        datetime(2025, 1, 28, 15, 0, tzinfo=UTC),
        ("NVDA", "AVGO"),
    )
    return Events(selloff, r1, rebound)


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
