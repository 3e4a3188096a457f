"""Test helper: load a few tickers of the real recorded prices into DailyBar/CorporateAction.

The recorded files are read in place from the ``data_dir`` fixture (never copied). Only the
tickers a test needs are loaded, so each test stays at a few thousand rows.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tracker.db import Database
from tracker.db.models import (
    Basket,
    CorporateAction,
    DailyBar,
    Event,
    EventTheme,
    EventTicker,
    IntradayBar,
    Theme,
    ThemeBasket,
)
from tracker.markets.universe import ensure_instruments, seed_universe


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def load_recorded_prices(session: Session, data_dir: Path, tickers: Sequence[str]) -> None:
    """Seed the universe, then store the daily bars and dividends of ``tickers``."""
    seed_universe(session)
    ids = ensure_instruments(session, list(tickers))
    for ticker in tickers:
        with open(data_dir / "prices" / "daily" / f"{ticker}.csv", newline="") as handle:
            bars = [
                {
                    "instrument_id": ids[ticker],
                    "date": date.fromisoformat(row["date"]),
                    "open": _number(row["open"]),
                    "high": _number(row["high"]),
                    "low": _number(row["low"]),
                    "close": float(row["close"]),
                    "adj_close": _number(row["adj_close"]),
                    "volume": int(float(row["volume"])) if row["volume"] else None,
                    "source": "recorded",
                }
                for row in csv.DictReader(handle)
            ]
        session.execute(insert(DailyBar), bars)
        dividends = data_dir / "prices" / "actions" / f"{ticker}_dividends.csv"
        if dividends.exists():
            with open(dividends, newline="") as handle:
                actions = [
                    {
                        "instrument_id": ids[ticker],
                        "kind": "dividend",
                        "ex_date": date.fromisoformat(row["date"]),
                        "value": float(row["dividend"]),
                        "source": "recorded",
                    }
                    for row in csv.DictReader(handle)
                ]
            if actions:
                session.execute(insert(CorporateAction), actions)
    session.flush()


def load_recorded_intraday(
    session: Session, data_dir: Path, ticker: str, start: datetime, end: datetime
) -> int:
    """Store the recorded hourly bars of ``ticker`` starting in [start, end]; returns the count."""
    ids = ensure_instruments(session, [ticker])
    with open(data_dir / "prices" / "intraday" / f"{ticker}_1h.csv", newline="") as handle:
        bars = []
        for row in csv.DictReader(handle):
            ts = datetime.fromisoformat(row["timestamp"]).astimezone(UTC)
            if start <= ts <= end:
                bars.append(
                    {
                        "instrument_id": ids[ticker],
                        "interval": "1h",
                        "ts": ts,
                        "open": _number(row["open"]),
                        "high": _number(row["high"]),
                        "low": _number(row["low"]),
                        "close": float(row["close"]),
                        "volume": int(float(row["volume"])) if row["volume"] else None,
                        "source": "recorded",
                    }
                )
    if bars:
        session.execute(insert(IntradayBar), bars)
    session.flush()
    return len(bars)


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
