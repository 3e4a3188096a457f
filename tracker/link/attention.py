"""Attention series: how much coverage a story or an entity gets, by hour and by session.

Facts about news, derived from stored articles (no prices): the number of articles and of
distinct sources (feeds) that mention an entity, or that belong to a story's events, per UTC
hour and per exchange session (an article counts on the session it can first move prices:
the same mapping as an event's day 0, ``tracker.impact.calendar.first_affected_session``).

Each event also gets an attention day 0 (``update_attention_day0``): the session where
coverage of its subject first surged, by the pure method of ``tracker.impact.onset``. The
subject is the event's story when it has one (every article of the story's events);
otherwise the entities its title names (R1's "DeepSeek-R1 released" -> DeepSeek and
DeepSeek-R1, not OpenAI, which the release also mentions and which is in the news every
day), else all its entities. ``events.attention_day0`` is set where the surge session
differs from the publication day 0; ``events.attention_detail`` always says what was found.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.db import Database
from tracker.db.models import (
    Article,
    ArticleEntity,
    Entity,
    EntityAlias,
    Event,
    EventArticle,
    EventEntity,
)
from tracker.impact.calendar import (
    DEFAULT_CALENDAR,
    closes_after,
    first_affected_session,
    sessions_between,
)
from tracker.impact.onset import OnsetParameters, detect_onset

log = logging.getLogger(__name__)

COLUMNS = ("article_id", "published_at", "feed_id")
#: calendar days of history loaded before day 0: enough sessions for the trailing baseline
HISTORY_DAYS = 60
#: days without any stored article that break coverage (see ``coverage_start``)
COVERAGE_GAP_DAYS = 7


def _frame(rows: Sequence[Any]) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(row) for row in rows], columns=list(COLUMNS))
    frame["published_at"] = pd.to_datetime(frame["published_at"], utc=True)
    return frame.drop_duplicates("article_id")


def entity_articles(session: Session, entity_ids: Sequence[int]) -> pd.DataFrame:
    """Every stored article mentioning one of the entities: article_id, published_at, feed_id."""
    rows = session.execute(
        select(Article.id, Article.published_at, Article.feed_id)
        .join(ArticleEntity, ArticleEntity.article_id == Article.id)
        .where(ArticleEntity.entity_id.in_(list(entity_ids)))
    ).all()
    return _frame(rows)


def story_articles(session: Session, story_id: int) -> pd.DataFrame:
    """Every stored article attached to one of the story's events."""
    rows = session.execute(
        select(Article.id, Article.published_at, Article.feed_id)
        .join(EventArticle, EventArticle.article_id == Article.id)
        .join(Event, Event.id == EventArticle.event_id)
        .where(Event.story_id == story_id)
    ).all()
    return _frame(rows)


def hourly_counts(articles: pd.DataFrame) -> pd.DataFrame:
    """Articles and distinct sources per UTC hour (only hours with articles)."""
    if articles.empty:
        return pd.DataFrame({"hour": [], "articles": [], "sources": []})
    hours = articles["published_at"].dt.floor("h")
    grouped = articles.groupby(hours)
    out = pd.DataFrame(
        {"articles": grouped["article_id"].nunique(), "sources": grouped["feed_id"].nunique()}
    )
    out.index.name = "hour"
    return out.reset_index()


def article_sessions(articles: pd.DataFrame, calendar: str = DEFAULT_CALENDAR) -> pd.Series:
    """The session each article can first move prices on (as a day 0 is mapped)."""
    if articles.empty:
        return pd.Series([], dtype=object)
    closes = closes_after(pd.DatetimeIndex(articles["published_at"]), calendar)
    # a session's close is in the afternoon in New York: its local date is the session's
    local = closes.tz_convert("America/New_York")
    return pd.Series([ts.date() for ts in local], index=articles.index)


def session_counts(
    articles: pd.DataFrame,
    start: date,
    end: date,
    calendar: str = DEFAULT_CALENDAR,
    known_from: date | None = None,
) -> pd.DataFrame:
    """Articles and distinct sources on every session from start to end.

    Zero where no article was published; NaN on sessions before ``known_from`` (the session
    of the first stored article: before it nothing was collected, which is not "no news").
    """
    sessions = sessions_between(start, end, calendar)
    counts = pd.DataFrame(
        {"articles": 0.0, "sources": 0.0}, index=pd.Index(sessions, name="session")
    )
    if not articles.empty:
        mapped = (
            articles
            if "session" in articles.columns
            else articles.assign(session=article_sessions(articles, calendar))
        )
        grouped = mapped.groupby("session")
        found = pd.DataFrame(
            {"articles": grouped["article_id"].nunique(), "sources": grouped["feed_id"].nunique()}
        ).reindex(sessions, fill_value=0)
        counts = found.astype(float)
        counts.index.name = "session"
    if known_from is not None:
        counts.loc[[s < known_from for s in sessions], :] = float("nan")
    return counts.reset_index()


def article_days(session: Session) -> list[date]:
    """Every UTC date with at least one stored article, in order."""
    stamps = session.scalars(select(Article.published_at)).all()
    return sorted({stamp.astimezone(UTC).date() for stamp in stamps})


def coverage_start(
    days: Sequence[date], before: date, max_gap: int = COVERAGE_GAP_DAYS
) -> date | None:
    """The first day of the unbroken coverage that runs up to ``before``.

    Feeds carry a few stray old items (an evergreen page from 2016); they are not collected
    coverage. Coverage is known from the first article after the last gap of more than
    ``max_gap`` days without any article before ``before``; None when nothing precedes it.
    """
    earlier = [d for d in days if d < before]
    if not earlier:
        return None
    start = earlier[0]
    for previous, current in itertools.pairwise(earlier):
        if (current - previous).days > max_gap:
            start = current
    return start


# ------------------------------------------------------------------ subjects


@dataclass(frozen=True)
class Subject:
    """What an event's attention is measured on: a story, or a set of entities."""

    kind: str  # story | entities
    story_id: int | None
    entity_ids: tuple[int, ...]
    label: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "story_id": self.story_id,
            "entity_ids": list(self.entity_ids),
            "label": self.label,
        }


def _named_in(title: str, aliases: Sequence[str]) -> bool:
    return any(
        re.search(rf"(?<!\w){re.escape(alias)}(?!\w)", title, re.IGNORECASE) for alias in aliases
    )


def event_subject(session: Session, event: Event) -> Subject | None:
    """The event's story if it has one, else the entities its title names (see module)."""
    if event.story_id is not None:
        return Subject("story", event.story_id, (), f"story {event.story_id}")
    entities = session.execute(
        select(Entity.id, Entity.slug, Entity.name)
        .join(EventEntity, EventEntity.entity_id == Entity.id)
        .where(EventEntity.event_id == event.id)
        .order_by(Entity.slug)
    ).all()
    if not entities:
        return None
    aliases: dict[int, list[str]] = {row.id: [row.name] for row in entities}
    for entity_id, alias in session.execute(
        select(EntityAlias.entity_id, EntityAlias.alias).where(
            EntityAlias.entity_id.in_(list(aliases))
        )
    ):
        aliases[entity_id].append(alias)
    named = [row for row in entities if _named_in(event.title, aliases[row.id])]
    chosen = named or list(entities)
    return Subject(
        "entities", None, tuple(row.id for row in chosen), ", ".join(row.slug for row in chosen)
    )


def subject_articles(session: Session, subject: Subject) -> pd.DataFrame:
    if subject.kind == "story" and subject.story_id is not None:
        return story_articles(session, subject.story_id)
    return entity_articles(session, subject.entity_ids)


# ------------------------------------------------------------- attention day 0


@dataclass
class AttentionReport:
    events: int = 0
    surged: int = 0
    shifted: int = 0  # attention day 0 differs from the publication day 0
    failed: int = 0

    def as_counts(self) -> dict[str, int]:
        return {
            "events": self.events,
            "surged": self.surged,
            "shifted": self.shifted,
            "failed": self.failed,
        }


def event_onset(
    session: Session,
    event: Event,
    day0: date,
    params: OnsetParameters,
    calendar: str = DEFAULT_CALENDAR,
    known_from: date | None = None,
    cache: dict[tuple[Any, ...], pd.DataFrame] | None = None,
) -> tuple[date | None, dict[str, Any]]:
    """(attention day 0 or None, the detail stored with it) for one event."""
    detail: dict[str, Any] = {"parameters": params.to_dict(), "calendar": calendar}
    subject = event_subject(session, event)
    if subject is None:
        detail["result"] = "no subject: the event has no story and no entities"
        return None, detail
    detail["subject"] = subject.to_dict()
    key = (subject.kind, subject.story_id, subject.entity_ids)
    if cache is not None and key in cache:
        articles = cache[key]
    else:
        articles = subject_articles(session, subject)
        if cache is not None:
            # the session each article maps to, once per subject: many events share one
            articles = articles.assign(session=article_sessions(articles, calendar))
            cache[key] = articles
    start = day0 - timedelta(days=HISTORY_DAYS)
    end = day0 + timedelta(days=2 * params.max_lag + 7)
    counts = session_counts(articles, start, end, calendar, known_from)
    onset = detect_onset(
        list(counts["session"]), list(counts["articles"]), list(counts["sources"]), day0, params
    )
    detail["publication_day0"] = day0.isoformat()
    detail["coverage_from"] = known_from.isoformat() if known_from else None
    if onset is None:
        detail["result"] = "no surge within the search range"
        return None, detail
    detail["result"] = "surge"
    detail["onset"] = onset.to_dict()
    detail["lag_sessions"] = onset.lag
    return (onset.session if onset.session != day0 else None), detail


def update_attention_day0(
    db: Database,
    *,
    calendar: str = DEFAULT_CALENDAR,
    params: OnsetParameters | None = None,
    event_ids: Sequence[int] | None = None,
) -> AttentionReport:
    """Set every event's attention day 0 and detail; one failing event never stops the rest.

    Events without a stored day 0 are skipped (the measure step stores it first).
    """
    params = params or OnsetParameters()
    report = AttentionReport()
    cache: dict[tuple[Any, ...], pd.DataFrame] = {}
    with db.session() as session:
        query = select(Event.id).where(Event.day0.is_not(None)).order_by(Event.id)
        if event_ids is not None:
            query = query.where(Event.id.in_(list(event_ids)))
        ids = list(session.scalars(query))
        days = article_days(session)
    for event_id in ids:
        report.events += 1
        try:
            with db.session() as session:
                event = session.get_one(Event, event_id)
                assert event.day0 is not None
                start = coverage_start(days, event.day0)
                known_from = first_affected_session(_midnight(start), calendar) if start else None
                found, detail = event_onset(
                    session, event, event.day0, params, calendar, known_from, cache
                )
                # written only on change: updated_at is what the scheduler watches
                if (event.attention_day0, event.attention_detail) != (found, detail):
                    session.execute(
                        update(Event)
                        .where(Event.id == event_id)
                        .values(attention_day0=found, attention_detail=detail)
                    )
        except Exception:
            report.failed += 1
            log.exception("event %s: attention onset failed", event_id)
            continue
        report.surged += detail.get("result") == "surge"
        report.shifted += found is not None
    return report


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
