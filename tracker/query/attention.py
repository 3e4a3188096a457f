"""Reads of attention and of the anchored study, for the dashboard, the digest and the CLI.

Nothing is computed here: the series are counts of stored articles (``tracker.link.attention``)
and every number is a stored ``anchored_impacts`` row written by the measure layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import AnchoredImpact, Entity, Event
from tracker.errors import NotFoundError, UserInputError
from tracker.impact.calendar import DEFAULT_CALENDAR
from tracker.link.attention import (
    entity_articles,
    event_subject,
    hourly_counts,
    session_counts,
    subject_articles,
)
from tracker.query.common import DEFAULT_MODEL, find_event

SERIES_PADDING = timedelta(days=14)  # calendar days shown around day 0 and attention day 0


@dataclass(frozen=True)
class AnchoredRow:
    """One stored result at another day 0 (a ticker or ``basket:<slug>``)."""

    subject: str
    anchor: str  # attention | shift
    shift: int
    day0: date
    window_start: int
    window_end: int
    status: str
    car: float | None
    car_t: float | None
    car_p: float | None
    value_change: float | None


@dataclass(frozen=True)
class EventAttention:
    """An event's two day 0s, why the second, and its anchored results."""

    event_id: int
    day0: date | None
    attention_day0: date | None
    lag_sessions: int | None
    detail: dict[str, Any]
    rows: list[AnchoredRow] = field(default_factory=list)

    def strip(self, subject: str) -> list[AnchoredRow]:
        """The sensitivity strip of one ticker or basket, by shift."""
        return sorted(
            (r for r in self.rows if r.anchor == "shift" and r.subject == subject),
            key=lambda r: r.shift,
        )

    def at_attention(self, window: tuple[int, int]) -> dict[str, AnchoredRow]:
        return {
            r.subject: r
            for r in self.rows
            if r.anchor == "attention" and (r.window_start, r.window_end) == window
        }


def event_attention(
    session: Session, event: str | int, model: str = DEFAULT_MODEL
) -> EventAttention:
    """The attention summary and every stored anchored row of one event and model."""
    found = find_event(session, event)
    rows = [
        AnchoredRow(
            subject=row.subject,
            anchor=row.anchor,
            shift=row.shift,
            day0=row.day0,
            window_start=row.window_start,
            window_end=row.window_end,
            status=row.status,
            car=row.car,
            car_t=row.car_t,
            car_p=row.car_p,
            value_change=(row.statistics or {}).get("value_change"),
        )
        for row in session.scalars(
            select(AnchoredImpact)
            .where(AnchoredImpact.event_id == found.id, AnchoredImpact.model == model)
            .order_by(AnchoredImpact.subject, AnchoredImpact.anchor, AnchoredImpact.shift)
        )
    ]
    detail = dict(found.attention_detail or {})
    lag = detail.get("lag_sessions") if found.attention_day0 is not None else None
    return EventAttention(found.id, found.day0, found.attention_day0, lag, detail, rows)


def event_attention_series(
    session: Session,
    event: str | int,
    *,
    by: str = "session",
    calendar: str = DEFAULT_CALENDAR,
) -> pd.DataFrame:
    """Articles and sources about the event's subject (its story, else its named entities).

    ``by="session"``: every session around day 0 and the attention day 0 (columns session,
    articles, sources); ``by="hour"``: the UTC hours with articles (hour, articles, sources).
    """
    found = find_event(session, event)
    subject = event_subject(session, found)
    articles = subject_articles(session, subject) if subject else pd.DataFrame()
    return _series(articles, found.day0, found.attention_day0, by, calendar)


def story_attention_series(
    session: Session,
    story_id: int,
    *,
    by: str = "session",
    calendar: str = DEFAULT_CALENDAR,
) -> pd.DataFrame:
    """Articles and sources of every event of a story, by session (its whole span) or hour.

    For the story page: ``dashboard.charts.attention_figure`` plots the result.
    """
    from tracker.db.models import Story
    from tracker.link.attention import story_articles

    _check_by(by)
    story = session.get(Story, story_id)
    if story is None:
        raise NotFoundError(f"no story with id {story_id}")
    articles = story_articles(session, story_id)
    if by == "hour":
        return hourly_counts(articles)
    if articles.empty:
        return pd.DataFrame({"session": [], "articles": [], "sources": []})
    first = articles["published_at"].min().date()
    last = articles["published_at"].max().date()
    return session_counts(articles, first - SERIES_PADDING, last + SERIES_PADDING, calendar)


def entity_attention_series(
    session: Session,
    slugs: Sequence[str],
    start: date,
    end: date,
    *,
    by: str = "session",
    calendar: str = DEFAULT_CALENDAR,
) -> pd.DataFrame:
    """Per entity: articles and sources by session (or hour) from start to end.

    Columns: entity, then session|hour, articles, sources. Unknown slugs raise NotFoundError.
    """
    _check_by(by)
    ids = dict(
        session.execute(select(Entity.slug, Entity.id).where(Entity.slug.in_(list(slugs)))).all()
    )
    missing = [s for s in slugs if s not in ids]
    if missing:
        raise NotFoundError(f"unknown entity {', '.join(missing)}")
    frames = []
    for slug in slugs:
        articles = entity_articles(session, [ids[slug]])
        if by == "session":
            counts = session_counts(articles, start, end, calendar)
        else:
            counts = hourly_counts(articles)
            hours = pd.to_datetime(counts["hour"], utc=True)
            counts = counts[(hours.dt.date >= start) & (hours.dt.date <= end)]
        frames.append(counts.assign(entity=slug))
    if not frames:
        return pd.DataFrame({"entity": [], by: [], "articles": [], "sources": []})
    out = pd.concat(frames, ignore_index=True)
    return out[["entity", by, "articles", "sources"]]


def _check_by(by: str) -> None:
    if by not in ("session", "hour"):
        raise UserInputError(f"bad grouping {by!r}: expected session or hour")


def _series(
    articles: pd.DataFrame,
    day0: date | None,
    attention_day0: date | None,
    by: str,
    calendar: str,
) -> pd.DataFrame:
    _check_by(by)
    if by == "hour":
        return hourly_counts(articles)
    days = [d for d in (day0, attention_day0) if d is not None]
    if not days:
        return pd.DataFrame({"session": [], "articles": [], "sources": []})
    start, end = min(days) - SERIES_PADDING, max(days) + SERIES_PADDING
    return session_counts(articles, start, end, calendar)


def event_ids_with_attention(session: Session, event_ids: Sequence[int]) -> dict[int, date]:
    """Event id -> attention day 0, for the events that have one."""
    rows = session.execute(
        select(Event.id, Event.attention_day0).where(
            Event.id.in_(list(event_ids)), Event.attention_day0.is_not(None)
        )
    ).all()
    return {event_id: day for event_id, day in rows if day is not None}


def entities_with_articles(session: Session, limit: int = 200) -> list[str]:
    """Entity slugs mentioned in stored articles, most mentioned first (the pickers' list)."""
    from sqlalchemy import func

    from tracker.db.models import ArticleEntity

    rows = session.execute(
        select(Entity.slug, func.count(ArticleEntity.article_id).label("n"))
        .join(ArticleEntity, ArticleEntity.entity_id == Entity.id)
        .group_by(Entity.slug)
        .order_by(func.count(ArticleEntity.article_id).desc(), Entity.slug)
        .limit(limit)
    ).all()
    return [row.slug for row in rows]
