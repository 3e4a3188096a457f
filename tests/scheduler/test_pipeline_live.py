"""The live pipeline jobs (not a replay) run by the job runner against a loopback feed server:
``news.poll`` fetches the registered feed over HTTP, ``events.link`` and ``impacts.compute``
run on what it stored, and a second poll from the watermark finds the feed not modified."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from tests.feed_server import FeedServer, Reply, item, rss
from tracker.bootstrap import bootstrap
from tracker.config import load_settings
from tracker.db import Database
from tracker.db.models import Article, Feed, JobRun
from tracker.news.registry import add_feed
from tracker.scheduler.clock import ManualClock
from tracker.scheduler.pipeline import pipeline_jobs
from tracker.scheduler.runner import JobRunner, Outcome

NOW = datetime(2025, 1, 27, 14, 0, 30, tzinfo=UTC)
FEED = rss(
    [
        item(
            "live-1",
            "Synthetic lab releases an open model; chip stocks fall",
            link="https://example.test/live-1",
            date="Mon, 27 Jan 2025 13:30:00 +0000",
        ),
        item(
            "live-2",
            "Synthetic utility signs a data-centre power deal",
            link="https://example.test/live-2",
            date="Mon, 27 Jan 2025 13:45:00 +0000",
        ),
    ]
)


@pytest.fixture
def feed_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    # Loopback feeds are allowed explicitly where feed fetching refuses private targets.
    monkeypatch.setenv("TRACKER_FEED_ALLOWED_NETWORKS", "127.0.0.0/8")
    server = FeedServer().start()
    yield server
    server.stop()


def test_live_jobs_poll_a_real_http_feed_and_carry_on_from_their_watermarks(
    database: Database, feed_server: FeedServer
) -> None:
    feed_server.routes["/ai.xml"] = Reply(body=FEED, etag='"v1"')
    url = feed_server.url("/ai.xml")
    bootstrap(database)
    with database.session() as session:
        # Only the loopback feed: the seeded real feeds stay off (tests never go out).
        session.execute(update(Feed).values(enabled=False))
        add_feed(session, url)
    settings = load_settings()
    jobs = {spec.id: spec for spec in pipeline_jobs(settings)}
    clock = ManualClock(NOW)
    runner = JobRunner(database, settings, clock, worker="live:1:x")

    def run(job: str):
        due = jobs[job].schedule.latest_at_or_before(clock.now())
        assert due is not None
        return runner.run(jobs[job], due)

    polled = run("news.poll")
    assert polled.outcome is Outcome.success, polled.error
    assert polled.counts["new"] == 2
    assert polled.counts["errors"] == 0
    linked = run("events.link")
    assert linked.outcome is Outcome.success, linked.error
    assert linked.counts["articles"] == 2
    impacts = run("impacts.compute")
    assert impacts.outcome is Outcome.success, impacts.error

    clock.advance(timedelta(minutes=11))  # the feed is due again; the server says 304
    again = run("news.poll")
    assert again.outcome is Outcome.success, again.error
    assert again.counts["not_modified"] == 1
    assert again.counts["new"] == 0
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 2
        statuses = session.execute(select(JobRun.job, JobRun.status)).all()
    assert {status for _, status in statuses} == {"success"}
