"""Cached reads for the dashboard: thin wrappers around tracker.query and tracker.measure.read.

The dashboard computes no statistics and writes no SQL: every number comes from the query
layer. Wrapping each call in ``st.cache_data`` (with a TTL, so new data shows up within a
minute) keeps reruns fast: Streamlit reruns the whole page on every click. The Database is a
``st.cache_resource`` so one engine (and its connection pool) serves every session.
Arguments are plain hashable values so they can form the cache key.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from tracker.config import Settings, load_settings
from tracker.db import Database
from tracker.impact.calendar import sessions_between
from tracker.query import (
    EventDetail,
    EventFilter,
    EventSummary,
    FailingFeed,
    Freshness,
    Headline,
    JobSummary,
    LatestBar,
    TickerAttribution,
    data_freshness,
    event_attribution,
    failing_feeds,
    get_event_detail,
    job_runs_summary,
    latest_bars,
    latest_headlines,
    price_history,
    search_events,
    ticker_moves,
)
from tracker.query.stories import StoryDetail, StorySummary, get_story, list_stories, story_of_event

if TYPE_CHECKING:  # the engine (SciPy) loads only when a page needs it: faster first render
    from tracker.impact.intraday import IntradayReaction
    from tracker.query.attention import EventAttention

HEAVY_TTL = 60  # seconds: prices, events, details
LIVE_TTL = 20  # seconds: the live page refreshes often

EMPTY_HINT = (
    "No data yet — run `tracker demo` (offline, recorded data) or `tracker run` "
    "(live feeds and prices), then reload this page."
)


@st.cache_resource
def settings() -> Settings:
    """Settings from the environment (``tracker dashboard`` passes TRACKER_DATABASE_URL)."""
    return load_settings()


@st.cache_resource
def database(url: str | None = None) -> Database:
    """The dashboard's one engine, read-only: SQLite ``mode=ro``, PostgreSQL sessions with
    ``default_transaction_read_only`` (and, in production, a role that holds SELECT only)."""
    return Database.connect(url or database_url(), read_only=True)


def database_url() -> str:
    """``TRACKER_DASHBOARD_DATABASE_URL`` (the read-only role) when set, else the main URL."""
    return (
        os.environ.get("TRACKER_DASHBOARD_DATABASE_URL")
        or settings().dashboard_database_url
        or os.environ.get("TRACKER_DATABASE_URL")
        or settings().database_url
    )


def _db() -> Database:
    return database(database_url())


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def freshness(url: str) -> Freshness:
    with database(url).session() as session:
        return data_freshness(session)


def current_freshness() -> Freshness:
    return freshness(database_url())


def is_empty(fresh: Freshness) -> bool:
    return fresh.article_count == 0 and fresh.latest_bar_date is None


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _events(url: str, flt: EventFilter) -> list[EventSummary]:
    with database(url).session() as session:
        return search_events(session, flt)


def events(flt: EventFilter) -> list[EventSummary]:
    return _events(database_url(), flt)


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _stories(url: str, limit: int) -> list[StorySummary]:
    with database(url).session() as session:
        return list_stories(session, limit=limit)


def stories(limit: int = 200) -> list[StorySummary]:
    return _stories(database_url(), limit)


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _story(url: str, ref: str) -> StoryDetail:
    with database(url).session() as session:
        return get_story(session, ref)


def story(ref: str | int) -> StoryDetail:
    return _story(database_url(), str(ref))


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _story_of(url: str, ref: str) -> StorySummary | None:
    with database(url).session() as session:
        return story_of_event(session, ref)


def story_of(ref: str | int) -> StorySummary | None:
    return _story_of(database_url(), str(ref))


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _event_detail(url: str, ref: str) -> EventDetail:
    with database(url).session() as session:
        return get_event_detail(session, ref)


def event_detail(ref: str | int) -> EventDetail:
    return _event_detail(database_url(), str(ref))


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _ticker_moves(url: str, ticker: str, top: int) -> pd.DataFrame:
    with database(url).session() as session:
        return ticker_moves(session, ticker, top=top).moves_frame()


def ticker_moves_frame(ticker: str, top: int = 10) -> pd.DataFrame:
    """A ticker's largest event-day moves, each with its primary catalyst (stored)."""
    return _ticker_moves(database_url(), ticker, top)


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _event_attribution(
    url: str, event_id: int, window: tuple[int, int], model: str
) -> dict[str, TickerAttribution]:
    with database(url).session() as session:
        return event_attribution(session, event_id, window, model)


def event_attribution_of(
    event_id: int, window: tuple[int, int], model: str
) -> dict[str, TickerAttribution]:
    """Each linked ticker: the event its day-0 move is attributed to, and its window's confounds."""
    return _event_attribution(database_url(), event_id, window, model)


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _prices(
    url: str,
    tickers: tuple[str, ...],
    basket: str | None,
    start: date | None,
    end: date | None,
    rebase_at: date | None,
) -> pd.DataFrame:
    with database(url).session() as session:
        return price_history(
            session, tickers, basket=basket, start=start, end=end, rebase_at=rebase_at
        )


def prices(
    tickers: Sequence[str],
    basket: str | None = None,
    start: date | None = None,
    end: date | None = None,
    rebase_at: date | None = None,
) -> pd.DataFrame:
    return _prices(database_url(), tuple(tickers), basket, start, end, rebase_at)


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _instruments(url: str) -> list[LatestBar]:
    with database(url).session() as session:
        return latest_bars(session)


def instruments() -> list[LatestBar]:
    """Active instruments with their newest stored session (the ticker picker and health)."""
    return _instruments(database_url())


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _baskets(url: str) -> dict[str, list[str]]:
    from tracker.measure.events import basket_memberships

    with database(url).session() as session:
        return {slug: sorted(members) for slug, (_, members) in basket_memberships(session).items()}


def baskets() -> dict[str, list[str]]:
    return _baskets(database_url())


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def _headlines(url: str, limit: int, text: str | None) -> list[Headline]:
    with database(url).session() as session:
        return latest_headlines(session, limit=limit, text=text)


def headlines(limit: int = 30, text: str | None = None) -> list[Headline]:
    return _headlines(database_url(), limit, text)


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _movers(url: str, day: date) -> pd.DataFrame:
    from tracker.measure.daily import daily_abnormal_returns

    return daily_abnormal_returns(database(url), settings(), day)


def movers(day: date) -> pd.DataFrame:
    """Every ticker's abnormal return against the benchmark on one session (the engine's)."""
    return _movers(database_url(), day)


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _intraday(url: str, event_id: int) -> list[IntradayReaction]:
    from tracker.measure.intraday import intraday_reaction

    return intraday_reaction(database(url), settings(), event_id)


def intraday(event_id: int) -> list[IntradayReaction]:
    return _intraday(database_url(), event_id)


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _car_paths(url: str, event_id: int, tickers: tuple[str, ...], model: str) -> pd.DataFrame:
    from tracker.measure.path import car_paths

    return car_paths(database(url), settings(), event_id, tickers=list(tickers), model=model)


def car_paths(event_id: int, tickers: list[str], model: str) -> pd.DataFrame:
    """CAR[0,t] and its corrected standard error for t = 0..+5 (the engine's, per day)."""
    return _car_paths(database_url(), event_id, tuple(sorted(tickers)), model)


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _jobs(url: str) -> list[JobSummary]:
    with database(url).session() as session:
        return job_runs_summary(session)


def jobs() -> list[JobSummary]:
    return _jobs(database_url())


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _failing(url: str) -> list[FailingFeed]:
    with database(url).session() as session:
        return failing_feeds(session)


def failing() -> list[FailingFeed]:
    return _failing(database_url())


@st.cache_data(ttl=24 * 3600, show_spinner=False)
def closed_weekdays(start: date, end: date, calendar: str) -> list[date]:
    """Weekdays without a session (holidays) between start and end: the chart's rangebreaks."""
    sessions = set(sessions_between(start, end, calendar))
    days = pd.bdate_range(start, end).date
    return [day for day in days if day not in sessions]


def calendar_name() -> str:
    return settings().calendar


def now_utc() -> datetime:
    return pd.Timestamp.now(tz="UTC").to_pydatetime()


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _event_attention(url: str, event_id: int, model: str) -> EventAttention:
    from tracker.query.attention import event_attention

    with database(url).session() as session:
        return event_attention(session, event_id, model)


def event_attention(event_id: int, model: str) -> EventAttention:
    """The event's attention day 0, its lag and the stored anchored results (strip included)."""
    return _event_attention(database_url(), event_id, model)


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _event_attention_series(url: str, event_id: int, by: str) -> pd.DataFrame:
    from tracker.query.attention import event_attention_series

    with database(url).session() as session:
        return event_attention_series(session, event_id, by=by, calendar=settings().calendar)


def event_attention_series(event_id: int, by: str = "session") -> pd.DataFrame:
    return _event_attention_series(database_url(), event_id, by)


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _entity_attention(
    url: str, slugs: tuple[str, ...], start: date, end: date, by: str
) -> pd.DataFrame:
    from tracker.query.attention import entity_attention_series

    with database(url).session() as session:
        return entity_attention_series(
            session, slugs, start, end, by=by, calendar=settings().calendar
        )


def entity_attention(
    slugs: Sequence[str], start: date, end: date, by: str = "session"
) -> pd.DataFrame:
    """Articles and sources per entity by session or hour (the timeline's attention plot)."""
    return _entity_attention(database_url(), tuple(slugs), start, end, by)


@st.cache_data(ttl=HEAVY_TTL, show_spinner=False)
def _entities(url: str) -> list[str]:
    from tracker.query.attention import entities_with_articles

    with database(url).session() as session:
        return entities_with_articles(session)


def entities() -> list[str]:
    """Entity slugs with stored articles, most mentioned first."""
    return _entities(database_url())
