"""Curated events: the shipped timeline's themes expose the same baskets detected events get."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from tracker.db import Database
from tracker.db.models import Event, EventTheme
from tracker.errors import UserInputError
from tracker.link.events import event_tickers, load_curated_events


def _event(database: Database, title: str) -> Event:
    with database.session() as session:
        return session.scalars(select(Event).where(Event.title == title)).one()


def test_app_store_event_exposes_semis_and_power_names_with_reasons(database: Database) -> None:
    load_curated_events(database)
    event = _event(database, "DeepSeek app becomes No. 1 free app on the US App Store")
    assert event.origin == "curated"
    assert event.day0 == date(2025, 1, 27)  # a Sunday: the next session
    with database.session() as session:
        tickers = {row["ticker"]: str(row["reason"]) for row in event_tickers(session, event.id)}
        themes = session.scalars(select(EventTheme).where(EventTheme.event_id == event.id)).all()
    assert len(themes) == 1
    for ticker in ("NVDA", "AVGO", "TSM", "MRVL", "VST", "CEG", "TLN", "GEV", "NRG"):
        assert ticker in tickers
    assert tickers["VST"].startswith("theme: AI efficiency shock")
    assert "data-centre power" in tickers["VST"]
    assert "AAPL" in tickers  # named in the timeline row itself
    assert tickers["AAPL"] == "curated timeline"


def test_reloading_keeps_one_link_per_ticker(database: Database) -> None:
    load_curated_events(database)
    load_curated_events(database)
    event = _event(database, "Stargate Project announced at the White House")
    with database.session() as session:
        rows = event_tickers(session, event.id)
    names = [row["ticker"] for row in rows]
    assert len(names) == len(set(names))
    orcl = next(row for row in rows if row["ticker"] == "ORCL")
    assert str(orcl["reason"]).startswith("curated timeline; theme: AI capex")


def test_unknown_theme_names_the_event(database: Database, tmp_path: Path) -> None:
    timeline = tmp_path / "timeline.csv"
    timeline.write_text(
        "date,time_utc,title,kind,entities,tickers,source,themes\n"
        "2025-01-27,,Something happened,news,,NVDA,,no-such-theme\n"
    )
    with pytest.raises(UserInputError, match="no-such-theme"):
        load_curated_events(database, timeline)
    with database.session() as session:
        assert session.scalars(select(Event)).all() == []


def test_market_moves_measure_the_session_they_describe(database: Database) -> None:
    load_curated_events(database)
    fall = _event(database, "Nvidia falls about 17% in record one-day value loss")
    rebound = _event(database, "Nvidia rebounds about 9%")
    assert fall.day0 == date(2025, 1, 27)
    assert rebound.day0 == date(2025, 1, 28)
