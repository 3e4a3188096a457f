"""The scheduler's real pipeline jobs, run by the job runner on recorded sources.

The recorded weeks are replayed through ``pipeline_jobs(replay=True)`` in two scheduler steps:
the day after the corpus ends (poll, link, daily and intraday bars, impacts, each with the
window its watermark gives it), then the next Monday, when every job runs again from its
watermark and must add nothing. What that stores is
compared with what ``tracker demo`` (``build_demo``) stores from the same recorded data:
the same articles, the same daily bars for the replayed sessions, the same events, and the
same impacts where the replay had every bar the event window needs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tracker.bootstrap import bootstrap
from tracker.config import load_settings
from tracker.db import Database, migrate
from tracker.db.models import Article, DailyBar, Event, FirmImpact, Instrument, JobRun
from tracker.demo import build_demo
from tracker.scheduler.clock import ManualClock
from tracker.scheduler.pipeline import pipeline_jobs
from tracker.scheduler.runner import JobRunner, Outcome

STEPS = [datetime(2025, 2, 8, 12, 0, tzinfo=UTC), datetime(2025, 2, 10, 12, 0, tzinfo=UTC)]
LAST_SESSION = date(2025, 2, 7)
SETTLED_BEFORE = datetime(2025, 1, 29, tzinfo=UTC)  # event windows complete by 2025-02-07


@pytest.fixture(scope="module")
def data_dir() -> Path:
    settings = load_settings()
    if settings.data_dir is None:
        pytest.fail("TRACKER_DATA_DIR must name the recorded data for the pipeline tests")
    return settings.data_dir


def replay_through_the_scheduler(url: str, data_dir: Path) -> list:
    migrate.upgrade(url)
    settings = load_settings(database_url=url, data_dir=str(data_dir))
    database = Database.connect(url)
    bootstrap(database)
    results = []
    try:
        for now in STEPS:
            runner = JobRunner(
                database, settings, ManualClock(now), worker="replay:1:x", replay=True
            )
            for spec in pipeline_jobs(settings, replay=True):
                due = spec.schedule.latest_at_or_before(now)
                assert due is not None
                results.append(runner.run(spec, due))
    finally:
        database.dispose()
    return results


def snapshot(url: str) -> dict[str, set]:
    database = Database.connect(url)
    try:
        with database.session() as session:
            articles = set(session.execute(select(Article.dedupe_key, Article.title)).all())
            bars = set(
                session.execute(
                    select(Instrument.ticker, DailyBar.date, DailyBar.close)
                    .join(Instrument, Instrument.id == DailyBar.instrument_id)
                    .where(DailyBar.date <= LAST_SESSION)
                ).all()
            )
            events = set(session.execute(select(Event.title, Event.first_reported_at)).all())
            impact_rows = session.execute(
                select(
                    Event.title,
                    Instrument.ticker,
                    FirmImpact.model,
                    FirmImpact.window_start,
                    FirmImpact.window_end,
                    FirmImpact.status,
                    FirmImpact.car,
                )
                .join(Event, Event.id == FirmImpact.event_id)
                .join(Instrument, Instrument.id == FirmImpact.instrument_id)
                .where(Event.first_reported_at < SETTLED_BEFORE)
            ).all()
            # The same sums in another order differ in the last bits: compare to 1e-12.
            impacts = {
                (*row[:-1], None if row[-1] is None else round(row[-1], 12)) for row in impact_rows
            }
            runs = set(session.execute(select(JobRun.job, JobRun.status)).all())
    finally:
        database.dispose()
    return {"articles": articles, "bars": bars, "events": events, "impacts": impacts, "runs": runs}


@pytest.mark.slow
@pytest.mark.timeout(900)  # two full pipelines over the recorded data: minutes on a busy box
def test_a_replay_through_the_real_jobs_stores_what_the_demo_stores(
    tmp_path: Path, data_dir: Path
) -> None:
    replay_url = f"sqlite:///{tmp_path / 'replay.db'}"
    results = replay_through_the_scheduler(replay_url, data_dir)
    half = len(results) // 2
    assert [(r.job, r.error) for r in results[:half] if r.outcome is not Outcome.success] == []
    # On Monday the daily and intraday runs due are the ones Saturday already ran: skipped.
    assert {r.job: r.outcome for r in results[half:]} == {
        "news.poll": Outcome.success,
        "events.link": Outcome.success,
        "prices.daily": Outcome.skipped,
        "prices.intraday": Outcome.skipped,
        "impacts.compute": Outcome.success,
    }
    assert {r.job for r in results} == {
        "news.poll",
        "events.link",
        "prices.daily",
        "prices.intraday",
        "impacts.compute",
    }

    demo_url = f"sqlite:///{tmp_path / 'demo.db'}"
    build_demo(
        Database.connect(demo_url), load_settings(database_url=demo_url, data_dir=str(data_dir))
    )
    replayed, demo = snapshot(replay_url), snapshot(demo_url)

    assert replayed["articles"] == demo["articles"]
    assert len(replayed["articles"]) > 1000
    assert replayed["bars"] == demo["bars"]
    assert ("NVDA", date(2025, 1, 27), 118.42) in {
        (ticker, day, round(close, 2)) for ticker, day, close in replayed["bars"]
    }
    assert replayed["events"] == demo["events"]
    assert replayed["impacts"]
    assert replayed["impacts"] == demo["impacts"]
    second = [r for r in results[half:] if r.job != "impacts.compute"]
    assert all(r.counts.get("new", 0) == 0 for r in second)  # the next run adds nothing
    assert all(r.counts.get("inserted", 0) == 0 for r in second)
    assert all(r.counts.get("events_created", 0) == 0 for r in second)
