"""One event with everything stored about it: articles, entities, themes, tickers, impacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tracker.db.models import (
    Article,
    Basket,
    Entity,
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
from tracker.query.common import find_event


@dataclass(frozen=True)
class EventArticleRow:
    article_id: int
    title: str
    url: str | None
    published_at: datetime
    source: str  # the feed's name
    relevance: float


@dataclass(frozen=True)
class EventTickerRow:
    ticker: str
    name: str
    relevance: float
    reason: str


@dataclass(frozen=True)
class EventEntityRow:
    slug: str
    name: str
    kind: str
    relevance: float


@dataclass(frozen=True)
class EventThemeRow:
    slug: str
    name: str
    reason: str


@dataclass(frozen=True)
class FirmImpactRow:
    ticker: str
    model: str
    window_start: int
    window_end: int
    status: str
    day0: date | None
    car: float | None
    car_t: float | None
    car_p: float | None
    raw_return: float | None
    statistics: dict[str, Any]
    q_value: float | None = None  # BH q across the event's tickers (same window and model)


@dataclass(frozen=True)
class GroupImpactRow:
    basket: str
    model: str
    window_start: int
    window_end: int
    status: str
    n: int
    caar: float | None
    statistics: dict[str, Any]


@dataclass(frozen=True)
class EventDetail:
    id: int
    slug: str
    title: str
    kind: str
    origin: str
    description: str
    reference_url: str | None
    occurred_at: datetime | None
    first_reported_at: datetime
    day0: date | None
    article_count: int
    source_count: int
    is_novel: bool
    parent_id: int | None
    articles: tuple[EventArticleRow, ...]
    entities: tuple[EventEntityRow, ...]
    themes: tuple[EventThemeRow, ...]
    tickers: tuple[EventTickerRow, ...]
    firm_impacts: tuple[FirmImpactRow, ...]
    group_impacts: tuple[GroupImpactRow, ...]


def get_event_detail(session: Session, ref: str | int) -> EventDetail:
    """The event with id or slug ``ref``; NotFoundError when there is none."""
    event = find_event(session, ref)
    # a curated event's articles include those of the detected events merged into it
    members = select(Event.id).where(or_(Event.id == event.id, Event.parent_id == event.id))
    seen: set[int] = set()
    rows = []
    for a, feed_name, relevance in session.execute(
        select(Article, Feed.name, EventArticle.relevance)
        .join(EventArticle, EventArticle.article_id == Article.id)
        .join(Feed, Feed.id == Article.feed_id)
        .where(EventArticle.event_id.in_(members))
        .order_by(Article.published_at, Article.id, EventArticle.event_id)
    ):
        if a.id not in seen:
            seen.add(a.id)
            rows.append(
                EventArticleRow(
                    a.id, a.title, a.canonical_url, a.published_at, feed_name, relevance
                )
            )
    articles = tuple(rows)
    entities = tuple(
        EventEntityRow(slug, name, kind, relevance)
        for slug, name, kind, relevance in session.execute(
            select(Entity.slug, Entity.name, Entity.kind, EventEntity.relevance)
            .join(EventEntity, EventEntity.entity_id == Entity.id)
            .where(EventEntity.event_id == event.id)
            .order_by(EventEntity.relevance.desc(), Entity.slug)
        )
    )
    themes = tuple(
        EventThemeRow(slug, name, reason)
        for slug, name, reason in session.execute(
            select(Theme.slug, Theme.name, EventTheme.reason)
            .join(EventTheme, EventTheme.theme_id == Theme.id)
            .where(EventTheme.event_id == event.id)
            .order_by(Theme.slug)
        )
    )
    tickers = tuple(
        EventTickerRow(ticker, name, relevance, reason)
        for ticker, name, relevance, reason in session.execute(
            select(Instrument.ticker, Instrument.name, EventTicker.relevance, EventTicker.reason)
            .join(EventTicker, EventTicker.instrument_id == Instrument.id)
            .where(EventTicker.event_id == event.id)
            .order_by(EventTicker.relevance.desc(), Instrument.ticker)
        )
    )
    firm = tuple(
        FirmImpactRow(
            ticker,
            fi.model,
            fi.window_start,
            fi.window_end,
            fi.status,
            fi.day0,
            fi.car,
            fi.car_t,
            fi.car_p,
            fi.raw_return,
            dict(fi.statistics or {}),
            fi.q_value,
        )
        for fi, ticker in session.execute(
            select(FirmImpact, Instrument.ticker)
            .join(Instrument, Instrument.id == FirmImpact.instrument_id)
            .where(FirmImpact.event_id == event.id)
            .order_by(
                Instrument.ticker, FirmImpact.model, FirmImpact.window_start, FirmImpact.window_end
            )
        )
    )
    group = tuple(
        GroupImpactRow(
            slug,
            gi.model,
            gi.window_start,
            gi.window_end,
            gi.status,
            gi.n,
            gi.caar,
            dict(gi.statistics or {}),
        )
        for gi, slug in session.execute(
            select(GroupImpact, Basket.slug)
            .join(Basket, Basket.id == GroupImpact.basket_id)
            .where(GroupImpact.event_id == event.id)
            .order_by(
                Basket.slug, GroupImpact.model, GroupImpact.window_start, GroupImpact.window_end
            )
        )
    )
    return EventDetail(
        id=event.id,
        slug=event.slug,
        title=event.title,
        kind=event.kind,
        origin=event.origin,
        description=event.description,
        reference_url=event.reference_url,
        occurred_at=event.occurred_at,
        first_reported_at=event.first_reported_at,
        day0=event.day0,
        article_count=event.article_count,
        source_count=event.source_count,
        is_novel=event.is_novel,
        parent_id=event.parent_id,
        articles=articles,
        entities=entities,
        themes=themes,
        tickers=tickers,
        firm_impacts=firm,
        group_impacts=group,
    )
