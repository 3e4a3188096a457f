"""What ``tracker status`` reports: per job, failing feeds, data freshness per ticker.

Read-only queries over the job-run log, the feeds table and the bars; usable from the
CLI, the dashboard or a monitoring script alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from tracker.db import Database
from tracker.db.models import DailyBar, Feed, Instrument, JobRun
from tracker.impact import calendar as cal
from tracker.scheduler import runlog
from tracker.scheduler.jobs import JobSpec


@dataclass(frozen=True)
class StatusReport:
    jobs: list[dict[str, Any]]
    failing_feeds: list[dict[str, Any]]
    freshness: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"jobs": self.jobs, "failing_feeds": self.failing_feeds, "freshness": self.freshness}


def _latest_run(db: Database, job: str) -> JobRun | None:
    with db.session() as session:
        return session.scalars(
            select(JobRun)
            .where(JobRun.job == job)
            .order_by(JobRun.scheduled_for.desc(), JobRun.id.desc())
            .limit(1)
        ).first()


def job_status(db: Database, jobs: Sequence[JobSpec], now: datetime) -> list[dict[str, Any]]:
    """Per job: its last run, and the lag between what was due and what last succeeded."""
    known = {spec.id: spec for spec in jobs}
    with db.session() as session:
        logged = set(session.scalars(select(JobRun.job).distinct()))
    rows = []
    for name in [*known, *sorted(logged - set(known))]:
        spec = known.get(name)
        last = _latest_run(db, name)
        succeeded = runlog.job_watermark(db, name)
        due = spec.schedule.latest_at_or_before(now) if spec else None
        lag: float | None = None
        if due is not None:
            lag = max(0.0, (due - succeeded).total_seconds()) if succeeded else None
        rows.append(
            {
                "job": name,
                "schedule": spec.schedule.describe() if spec else "(not scheduled)",
                "last_scheduled_for": last.scheduled_for if last else None,
                "last_started_at": last.started_at if last else None,
                "last_finished_at": last.finished_at if last else None,
                "last_status": last.status if last else "never",
                "last_error": _first_line(last.error) if last else None,
                "last_success_for": succeeded,
                "due_for": due,
                "lag_seconds": lag,
                "next_due": spec.schedule.next_after(now) if spec else None,
            }
        )
    return rows


def _first_line(text: str | None) -> str | None:
    return text.strip().splitlines()[0] if text and text.strip() else None


def failing_feeds(db: Database) -> list[dict[str, Any]]:
    with db.session() as session:
        feeds = session.scalars(
            select(Feed)
            .where(Feed.enabled, or_(Feed.failing_since.is_not(None), Feed.error_count > 0))
            .order_by(Feed.failing_since, Feed.name)
        )
        return [
            {
                "feed": feed.name,
                "url": feed.url,
                "failing_since": feed.failing_since,
                "error_count": feed.error_count,
                "last_error": _first_line(feed.last_error),
                "last_success_at": feed.last_success_at,
            }
            for feed in feeds
        ]


def last_closed_session(now: datetime, calendar: str) -> date:
    """The latest session whose close is at or before ``now``."""
    upcoming = cal.first_affected_session(now, calendar)  # first close strictly after now
    earlier = cal.sessions_between(upcoming - timedelta(days=14), upcoming, calendar)
    return earlier[-2] if earlier[-1] == upcoming else earlier[-1]


def data_freshness(db: Database, now: datetime, calendar: str) -> list[dict[str, Any]]:
    """Per active ticker: its newest daily bar and how many closed sessions it is behind."""
    expected = last_closed_session(now, calendar)
    with db.session() as session:
        rows = session.execute(
            select(Instrument.ticker, func.max(DailyBar.date))
            .outerjoin(DailyBar, DailyBar.instrument_id == Instrument.id)
            .where(Instrument.active)
            .group_by(Instrument.ticker)
            .order_by(Instrument.ticker)
        ).all()
    result = []
    for ticker, latest in rows:
        behind = None
        if latest is not None:
            missing = cal.sessions_between(latest + timedelta(days=1), expected, calendar)
            behind = len(missing)
        result.append(
            {"ticker": ticker, "last_bar": latest, "expected": expected, "sessions_behind": behind}
        )
    return result


def collect_status(
    db: Database, jobs: Sequence[JobSpec], now: datetime, calendar: str
) -> StatusReport:
    return StatusReport(
        jobs=job_status(db, jobs, now),
        failing_feeds=failing_feeds(db),
        freshness=data_freshness(db, now, calendar),
    )
