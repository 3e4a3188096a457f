"""The pipeline jobs' own decisions: windows, exposed tickers, housekeeping, the job set.

The stages they call belong to other packages and are not exercised here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from tracker.config import load_settings
from tracker.db.models import Article, Event, EventArticle, EventTicker, Feed, JobRun
from tracker.markets.universe import ensure_instruments
from tracker.scheduler import runlog
from tracker.scheduler.jobs import JobContext
from tracker.scheduler.pipeline import (
    DAILY_BARS_MARGIN,
    daily_window,
    exposed_tickers,
    housekeeping,
    impact_inputs,
    pipeline_jobs,
)
from tracker.scheduler.schedules import AfterSessionClose

NOW = datetime(2025, 1, 28, 12, tzinfo=UTC)
CLOSES = AfterSessionClose(DAILY_BARS_MARGIN)


def context(database, *, scheduled_for, since=None, settings=None) -> JobContext:
    return JobContext(
        db=database,
        settings=settings or load_settings(),
        now=scheduled_for,
        scheduled_for=scheduled_for,
        since=since,
    )


def test_daily_window_catches_up_every_session_since_the_watermark() -> None:
    since = CLOSES.instant_for(date(2025, 1, 8))
    scheduled = CLOSES.instant_for(date(2025, 1, 13))
    ctx = context(None, scheduled_for=scheduled, since=since)
    assert daily_window(ctx) == (date(2025, 1, 9), date(2025, 1, 13))
    first = context(None, scheduled_for=scheduled)
    assert daily_window(first) == (None, date(2025, 1, 13))  # each ticker resumes itself


def test_job_set_has_explicit_unique_ids_and_replay_sends_no_mail() -> None:
    settings = load_settings()
    live = [job.id for job in pipeline_jobs(settings)]
    replay = [job.id for job in pipeline_jobs(settings, replay=True)]
    assert len(set(live)) == len(live)
    assert "digest.send" in live
    assert "digest.send" not in replay
    assert set(replay) < set(live)


def test_exposed_tickers_are_those_of_fresh_events(database) -> None:
    with database.session() as session:
        ids = ensure_instruments(session, ["NVDA", "XOM"])
        fresh = Event(slug="fresh", title="t", first_reported_at=NOW - timedelta(hours=5))
        stale = Event(slug="stale", title="t", first_reported_at=NOW - timedelta(days=9))
        session.add_all([fresh, stale])
        session.flush()
        session.add(EventTicker(event_id=fresh.id, instrument_id=ids["NVDA"]))
        session.add(EventTicker(event_id=stale.id, instrument_id=ids["XOM"]))
    assert exposed_tickers(database, NOW) == ["NVDA"]
    before = impact_inputs(database)
    with database.session() as session:
        session.add(Event(slug="another", title="t", first_reported_at=NOW))
    assert impact_inputs(database) != before


def test_housekeeping_keeps_linked_and_recent_articles_and_live_runs(database) -> None:
    settings = load_settings(article_retention_days=30)
    with database.session() as session:
        feed = Feed(url="https://example.invalid/rss", name="Test feed")
        session.add(feed)
        session.flush()

        def article(key: str, age_days: int) -> Article:
            return Article(
                feed_id=feed.id,
                dedupe_key=key,
                title=key,
                content_hash=key,
                published_at=NOW - timedelta(days=age_days),
            )

        old, old_linked, recent = article("old", 60), article("linked", 60), article("new", 2)
        session.add_all([old, old_linked, recent])
        event = Event(slug="e", title="e", first_reported_at=NOW - timedelta(days=60))
        session.add(event)
        session.flush()
        session.add(EventArticle(event_id=event.id, article_id=old_linked.id))
    for job, age in (("old.finished", 200), ("recent", 1)):
        moment = NOW - timedelta(days=age)
        run_id = runlog.claim_run(database, job, moment, "w:1", moment)
        assert run_id is not None
        runlog.finish_run(database, run_id, status=runlog.RunStatus.success, finished_at=moment)

    counts = housekeeping(context(database, scheduled_for=NOW, settings=settings))

    assert counts == {"articles_deleted": 1, "job_runs_deleted": 1, "maintenance": 1}
    with database.session() as session:
        assert set(session.scalars(select(Article.dedupe_key))) == {"linked", "new"}
        assert set(session.scalars(select(JobRun.job))) == {"recent"}
