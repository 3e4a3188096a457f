"""Data freshness and operations: latest bars and articles, job runs, failing feeds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tracker.db.models import Article, DailyBar, Feed, Instrument, JobRun

FAILED_STATUSES = ("failed", "error")


@dataclass(frozen=True)
class LatestBar:
    ticker: str
    latest_date: date | None  # None: no bar stored yet


@dataclass(frozen=True)
class Freshness:
    latest_article_at: datetime | None
    latest_bar_date: date | None
    article_count: int
    instruments_without_bars: int


@dataclass(frozen=True)
class JobSummary:
    job: str
    runs: int
    failures: int
    last_status: str
    last_started_at: datetime
    last_finished_at: datetime | None
    last_error: str | None
    last_counts: dict[str, object]


@dataclass(frozen=True)
class FailingFeed:
    name: str
    url: str
    failing_since: datetime | None
    error_count: int
    last_status: str | None
    last_error: str | None
    last_success_at: datetime | None


def latest_bars(session: Session) -> list[LatestBar]:
    """Each active instrument's newest stored session (one index seek per instrument)."""
    latest = (
        select(func.max(DailyBar.date))
        .where(DailyBar.instrument_id == Instrument.id)
        .scalar_subquery()
    )
    return [
        LatestBar(ticker, day)
        for ticker, day in session.execute(
            select(Instrument.ticker, latest)
            .where(Instrument.active.is_(True))
            .order_by(Instrument.ticker)
        )
    ]


def latest_article_time(session: Session) -> datetime | None:
    return session.scalar(select(func.max(Article.published_at)))


def data_freshness(session: Session) -> Freshness:
    bars = latest_bars(session)
    dates = [bar.latest_date for bar in bars if bar.latest_date is not None]
    return Freshness(
        latest_article_at=latest_article_time(session),
        latest_bar_date=max(dates) if dates else None,
        article_count=session.scalar(select(func.count()).select_from(Article)) or 0,
        instruments_without_bars=sum(1 for bar in bars if bar.latest_date is None),
    )


def job_runs_summary(session: Session, since: datetime | None = None) -> list[JobSummary]:
    """Per job: runs and failures (since ``since`` if given) and the last run's outcome."""
    counted = select(
        JobRun.job,
        func.count().label("runs"),
        func.count().filter(JobRun.status.in_(FAILED_STATUSES)).label("failures"),
        func.max(JobRun.started_at).label("last_started_at"),
    ).group_by(JobRun.job)
    if since is not None:
        counted = counted.where(JobRun.started_at >= since)
    totals = counted.subquery()
    rows = session.execute(
        select(JobRun, totals.c.runs, totals.c.failures)
        .join(
            totals,
            (JobRun.job == totals.c.job) & (JobRun.started_at == totals.c.last_started_at),
        )
        .order_by(JobRun.job, JobRun.id.desc())
    ).all()
    out: dict[str, JobSummary] = {}
    for run, runs, failures in rows:
        out.setdefault(
            run.job,
            JobSummary(
                job=run.job,
                runs=runs,
                failures=failures,
                last_status=run.status,
                last_started_at=run.started_at,
                last_finished_at=run.finished_at,
                last_error=run.error,
                last_counts=dict(run.counts or {}),
            ),
        )
    return list(out.values())


def failing_feeds(session: Session) -> list[FailingFeed]:
    """Enabled feeds currently failing (oldest failure first)."""
    feeds = session.scalars(
        select(Feed)
        .where(Feed.enabled.is_(True), or_(Feed.failing_since.is_not(None), Feed.error_count > 0))
        .order_by(Feed.failing_since.asc().nulls_last(), Feed.name)
    )
    return [
        FailingFeed(
            feed.name,
            feed.url,
            feed.failing_since,
            feed.error_count,
            feed.last_status,
            feed.last_error,
            feed.last_success_at,
        )
        for feed in feeds
    ]
