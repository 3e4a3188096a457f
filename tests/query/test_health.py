"""Freshness, job runs and failing feeds for the dashboard's health view."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.query.conftest import World, synthetic_bars
from tracker.db import Database
from tracker.db.models import Feed, JobRun
from tracker.query import data_freshness, failing_feeds, job_runs_summary, latest_bars

T0 = datetime(2025, 1, 27, 12, tzinfo=UTC)


def test_freshness_jobs_and_failing_feeds(database: Database, world: World) -> None:
    with database.session() as session:
        synthetic_bars(session, {"NVDA": [1.0, 2.0, 3.0], "SPY": [1.0]}, date(2024, 1, 2))
        for minutes, status in ((0, "ok"), (10, "failed"), (20, "ok")):
            session.add(
                JobRun(
                    job="prices",
                    scheduled_for=T0 + timedelta(minutes=minutes),
                    started_at=T0 + timedelta(minutes=minutes),
                    status=status,
                    counts={"bars": minutes},
                )
            )
        session.add(
            JobRun(
                job="news",
                scheduled_for=T0,
                started_at=T0,
                status="failed",
                error="synthetic failure",
            )
        )
        session.add(
            Feed(
                url="https://example.invalid/broken",
                name="Broken synthetic feed",
                failing_since=T0,
                error_count=4,
                last_status="http 500",
            )
        )
        session.add(
            Feed(
                url="https://example.invalid/off",
                name="Disabled synthetic feed",
                enabled=False,
                failing_since=T0,
                error_count=9,
            )
        )
    with database.session() as session:
        bars = {bar.ticker: bar.latest_date for bar in latest_bars(session)}
        freshness = data_freshness(session)
        jobs = {job.job: job for job in job_runs_summary(session)}
        recent = {
            job.job: job for job in job_runs_summary(session, since=T0 + timedelta(minutes=5))
        }
        feeds = failing_feeds(session)
    assert bars["NVDA"] == date(2024, 1, 4)
    assert bars["SPY"] == date(2024, 1, 2)
    assert bars["VST"] is None
    assert freshness.latest_bar_date == date(2024, 1, 4)
    assert freshness.article_count == 3
    assert freshness.latest_article_at is not None
    assert freshness.instruments_without_bars == len(bars) - 2
    assert (jobs["prices"].runs, jobs["prices"].failures, jobs["prices"].last_status) == (
        3,
        1,
        "ok",
    )
    assert jobs["prices"].last_counts == {"bars": 20}
    assert jobs["news"].last_error == "synthetic failure"
    assert set(recent) == {"prices"}
    assert recent["prices"].runs == 2
    assert [feed.name for feed in feeds] == ["Broken synthetic feed"]
