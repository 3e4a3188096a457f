"""The replay driver: the same jobs on a simulated clock, no real minutes slept."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tracker.config import load_settings
from tracker.db.models import JobRun, Watermark
from tracker.errors import UserInputError
from tracker.impact import calendar as cal
from tracker.scheduler.clock import ManualClock, SimulatedClock
from tracker.scheduler.jobs import JobContext, JobSpec
from tracker.scheduler.replay import ReplayDriver, parse_range
from tracker.scheduler.runner import JobRunner, Outcome
from tracker.scheduler.schedules import AfterSessionClose, Every

START, END = parse_range("2025-01-06..2025-01-14")
AFTER_CLOSE = AfterSessionClose(timedelta(minutes=20))


def record_session(ctx: JobContext) -> dict[str, int]:
    """Writes a row per run saying which session it is for and that it ran after its close."""
    session_day = AFTER_CLOSE.session_of(ctx.scheduled_for)
    closed = ctx.now >= cal.session_close(session_day)
    with ctx.db.session() as session:
        session.add(Watermark(name=f"bars:{session_day}", value=str(closed)))
    return {"sessions": 1}


def explode(ctx: JobContext) -> dict[str, int]:
    raise RuntimeError("feed parser crashed")


def jobs() -> list[JobSpec]:
    return [
        JobSpec("test.explode", Every(timedelta(hours=6)), explode, timedelta(minutes=5)),
        JobSpec("test.daily", AFTER_CLOSE, record_session, timedelta(hours=1)),
    ]


def replay(database, clock) -> list:
    runner = JobRunner(database, load_settings(), clock, worker="replay:1", replay=True)
    return ReplayDriver(runner, jobs(), START, END).run().runs


def test_parse_range_covers_both_end_days() -> None:
    assert datetime(2025, 1, 6, tzinfo=UTC) == START
    assert datetime(2025, 1, 15, tzinfo=UTC) == END
    for bad in ("2025-01-15", "2025-02-05..2025-01-15", "2025-13-01..2025-14-01"):
        with pytest.raises(UserInputError, match="--replay"):
            parse_range(bad)


def test_daily_job_runs_once_per_session_after_its_close_and_failures_do_not_stop_it(
    database,
) -> None:
    runs = replay(database, ManualClock(START))
    daily = [run for run in runs if run.job == "test.daily"]
    assert [AFTER_CLOSE.session_of(run.scheduled_for) for run in daily] == (
        cal.sessions_between(START.date(), END.date() - timedelta(days=1))
    )
    assert date(2025, 1, 9) not in {AFTER_CLOSE.session_of(run.scheduled_for) for run in daily}
    assert all(run.outcome is Outcome.success for run in daily)
    exploded = [run for run in runs if run.job == "test.explode"]
    assert exploded
    assert all(run.outcome is Outcome.failed for run in exploded)
    with database.session() as session:
        marks = session.scalars(select(Watermark).where(Watermark.name.like("bars:%"))).all()
        failed = session.scalars(select(JobRun).where(JobRun.status == "failed")).all()
    assert {mark.value for mark in marks} == {"True"}  # never before the close
    assert len(failed) == len(exploded)
    assert all("feed parser crashed" in (run.error or "") for run in failed)


def test_a_second_replay_repeats_nothing(database) -> None:
    first = replay(database, ManualClock(START))
    second = replay(database, ManualClock(START))
    assert len(second) == len(first)
    assert all(run.outcome is Outcome.skipped for run in second)


class LurchingClock(ManualClock):
    """A clock that overshoots every wait by two days: the driver must coalesce, not replay all."""

    def wait_until(self, when: datetime, stop: threading.Event) -> bool:
        return super().wait_until(when + timedelta(days=2), stop)


def test_a_driver_that_falls_behind_coalesces_missed_runs(database) -> None:
    runs = replay(database, LurchingClock(START))
    daily = [run for run in runs if run.job == "test.daily"]
    every_session = cal.sessions_between(START.date(), END.date() - timedelta(days=1))
    assert 0 < len(daily) < len(every_session)
    scheduled = [run.scheduled_for for run in daily]
    assert scheduled == sorted(set(scheduled))


def test_simulated_clock_runs_speed_times_faster() -> None:
    clock = SimulatedClock(START, speed=3600 * 24)  # a simulated day per real second
    stop = threading.Event()
    assert clock.wait_until(START + timedelta(hours=2), stop)  # ~0.08 s of real time
    assert clock.now() >= START + timedelta(hours=2)
    stop.set()
    assert not clock.wait_until(START + timedelta(days=365), stop)
