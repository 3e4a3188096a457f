"""A small, clearly synthetic history to test query semantics on both backends.

Titles start with "Synthetic:" and every number is made up; only the tickers and baskets
(the default universe) are real. Full-text tests use real headlines from the recorded
corpus instead (``corpus_headlines``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db import Database
from tracker.db.models import (
    Article,
    Basket,
    DailyBar,
    Entity,
    EntityAlias,
    Event,
    EventArticle,
    EventEntity,
    EventTheme,
    EventTicker,
    Feed,
    FirmImpact,
    GroupImpact,
    Instrument,
    Theme,
)
from tracker.markets.universe import seed_universe
from tracker.measure.service import store_q_values


def at(day: str, hour: int = 14) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    events: dict[str, int]  # name -> id
    feed_id: int


def _impact(
    session: Session,
    event: Event,
    ticker: str,
    window: tuple[int, int],
    car: float,
    p: float | None = 0.5,
) -> None:
    instrument = session.scalars(select(Instrument).where(Instrument.ticker == ticker)).one()
    session.add(
        FirmImpact(
            event_id=event.id,
            instrument_id=instrument.id,
            model="market",
            window_start=window[0],
            window_end=window[1],
            status="ok",
            day0=event.day0,
            car=car,
            car_t=car * 10,
            car_p=p,
            raw_return=car,
            statistics={"synthetic": True},
            parameters={},
            input_fingerprint="synthetic",
        )
    )


def seed_world(session: Session) -> World:
    seed_universe(session)
    instruments = {i.ticker: i for i in session.scalars(select(Instrument))}
    feed = Feed(url="https://example.invalid/synthetic.xml", name="Synthetic Wire")
    session.add(feed)
    efficiency = Theme(slug="ai_efficiency", name="AI efficiency shock")
    session.add(efficiency)
    deepseek = Entity(slug="deepseek", name="DeepSeek", kind="lab")
    deepseek.aliases = [EntityAlias(alias="DeepSeek-R1"), EntityAlias(alias="Synthetic Lab Alias")]
    nvidia = Entity(slug="nvidia", name="Nvidia", kind="company", is_public=True)
    session.add_all([deepseek, nvidia])
    session.flush()

    specs = {
        # name: (title, kind, origin, day, tickers, entity, theme)
        "a": (
            "Synthetic: cheap model A released",
            "model_release",
            "detected",
            "2024-01-10",
            ["NVDA", "VST"],
            deepseek,
            efficiency,
        ),
        "b": (
            "Synthetic: chip export rule",
            "policy",
            "detected",
            "2024-03-05",
            ["NVDA"],
            nvidia,
            None,
        ),
        "deal": (
            "Synthetic: datacentre power deal",
            "deal",
            "detected",
            "2024-04-01",
            ["VST"],
            None,
            efficiency,
        ),
        "c": (
            "Synthetic: cheap model B released",
            "model_release",
            "curated",
            "2024-06-03",
            ["NVDA", "CEG"],
            None,
            None,
        ),
        "d": (
            "Synthetic: cheap model C released",
            "model_release",
            "detected",
            "2024-09-03",
            ["NVDA"],
            deepseek,
            efficiency,
        ),
        "later": (
            "Synthetic: cheap model D released",
            "model_release",
            "detected",
            "2024-12-02",
            ["NVDA"],
            None,
            None,
        ),
    }
    events: dict[str, Event] = {}
    for name, (title, kind, origin, day, tickers, entity, theme) in specs.items():
        event = Event(
            slug=f"synthetic-{name}",
            title=title,
            kind=kind,
            origin=origin,
            first_reported_at=at(day),
            day0=date.fromisoformat(day),
            description=f"Synthetic event {name} for query tests.",
        )
        session.add(event)
        session.flush()
        for rank, ticker in enumerate(tickers):
            session.add(
                EventTicker(
                    event_id=event.id,
                    instrument_id=instruments[ticker].id,
                    relevance=1.0 - rank * 0.1,
                    reason=f"synthetic reason {rank}",
                )
            )
        if entity is not None:
            session.add(EventEntity(event_id=event.id, entity_id=entity.id))
        if theme is not None:
            session.add(EventTheme(event_id=event.id, theme_id=theme.id, reason="synthetic"))
        events[name] = event
    session.flush()
    # [0,+1]
    _impact(session, events["a"], "NVDA", (0, 1), -0.06, 0.01)
    _impact(session, events["a"], "VST", (0, 1), -0.03, 0.20)
    _impact(session, events["b"], "NVDA", (0, 1), 0.02, 0.30)
    _impact(session, events["c"], "NVDA", (0, 1), -0.01, 0.60)
    _impact(session, events["c"], "CEG", (0, 1), -0.09, 0.001)
    _impact(session, events["deal"], "VST", (0, 1), 0.04, 0.04)
    # [0,+5]
    _impact(session, events["a"], "NVDA", (0, 5), -0.08)
    _impact(session, events["c"], "NVDA", (0, 5), 0.02)
    _impact(session, events["deal"], "NVDA", (0, 5), 0.01)
    _impact(session, events["d"], "NVDA", (0, 5), -0.03)
    _impact(session, events["later"], "NVDA", (0, 5), -0.20)
    # [0,0]: the day's abnormal return
    _impact(session, events["a"], "NVDA", (0, 0), -0.05, 0.001)
    _impact(session, events["b"], "NVDA", (0, 0), 0.015, 0.2)
    _impact(session, events["c"], "NVDA", (0, 0), -0.002, 0.9)
    power = session.scalars(select(Basket).where(Basket.slug == "ai_power")).one()
    for name, caar in (("a", -0.04), ("c", -0.07)):
        session.add(
            GroupImpact(
                event_id=events[name].id,
                basket_id=power.id,
                model="market",
                window_start=0,
                window_end=5,
                status="ok",
                n=5,
                caar=caar,
                # the stored shape: every group test with its p (only kp_p is reported)
                statistics={"bmp_p": 0.01, "patell_p": 0.02, "kp_p": 0.03, "p_value": 0.5},
                input_fingerprint="synthetic",
            )
        )
    for offset, name in enumerate(("a", "a", "c")):
        article = Article(
            feed_id=feed.id,
            dedupe_key=f"synthetic-{offset}",
            canonical_url=f"https://example.invalid/{offset}",
            title=f"Synthetic article {offset}",
            summary_text="Synthetic summary mentioning gigawatts.",
            published_at=at(specs[name][3], 13) + timedelta(minutes=offset),
            content_hash=f"{offset:064d}",
        )
        session.add(article)
        session.flush()
        session.add(EventArticle(event_id=events[name].id, article_id=article.id))
    session.flush()
    # the q-values the measure layer stores (BH across each event's tickers per window)
    store_q_values(session, [event.id for event in events.values()], "market")
    return World({name: event.id for name, event in events.items()}, feed.id)


@pytest.fixture
def world(database: Database) -> World:
    with database.session() as session:
        return seed_world(session)


def synthetic_bars(session: Session, closes: dict[str, list[float]], start: date) -> list[date]:
    """Weekday bars from ``start`` for each ticker's closes (synthetic prices)."""
    days: list[date] = []
    day = start
    length = max(len(values) for values in closes.values())
    while len(days) < length:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    for ticker, values in closes.items():
        instrument = session.scalars(select(Instrument).where(Instrument.ticker == ticker)).one()
        for bar_day, close in zip(days, values, strict=False):
            session.add(
                DailyBar(
                    instrument_id=instrument.id,
                    date=bar_day,
                    close=close,
                    adj_close=close,
                    source="synthetic",
                )
            )
    session.flush()
    return days


def corpus_headlines(data_dir: Path, count: int = 200) -> list[dict[str, str]]:
    """Real recorded headlines (title, link, description, date_published)."""
    rows: list[dict[str, str]] = []
    for path in sorted((data_dir / "feeds" / "corpus").glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if row.get("title"):
                    rows.append(row)
                if len(rows) >= count:
                    return rows
    return rows
