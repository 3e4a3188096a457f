"""Running one job: logged whatever happens, never twice, with its window from the watermark."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tracker.config import load_settings
from tracker.db.models import JobRun, Watermark
from tracker.scheduler import runlog
from tracker.scheduler import runner as runner_module
from tracker.scheduler.clock import ManualClock
from tracker.scheduler.jobs import JobContext, JobSpec
from tracker.scheduler.runner import JobRunner, Outcome
from tracker.scheduler.schedules import Every

T0 = datetime(2025, 1, 27, 15, 0, tzinfo=UTC)
HOURLY = Every(timedelta(hours=1))


def record_window(ctx: JobContext) -> dict[str, int]:
    """A real job: writes one row saying which window it covered, in one transaction."""
    with ctx.db.session() as session:
        since = ctx.since.isoformat() if ctx.since else "never"
        session.add(Watermark(name=f"window:{ctx.scheduled_for.isoformat()}", value=since))
    return {"rows": 1}


def half_write_then_fail(ctx: JobContext) -> dict[str, int]:
    with ctx.db.session() as session:
        session.add(Watermark(name="half-written", value="x"))
        session.flush()
        raise ValueError("bad row in the source")


def make_runner(database, clock) -> JobRunner:
    return JobRunner(database, load_settings(), clock, worker="test:1")


def test_a_successful_run_is_logged_with_counts_and_its_window(database) -> None:
    clock = ManualClock(T0)
    runner = make_runner(database, clock)
    spec = JobSpec("test.window", HOURLY, record_window, timedelta(minutes=5))
    first = runner.run(spec, T0)
    clock.advance(timedelta(hours=3))
    second = runner.run(spec, T0 + timedelta(hours=3))
    assert (first.outcome, second.outcome) == (Outcome.success, Outcome.success)
    assert second.counts == {"rows": 1}
    with database.session() as session:
        windows = {mark.name: mark.value for mark in session.scalars(select(Watermark))}
    assert windows[f"window:{T0.isoformat()}"] == "never"
    assert windows[f"window:{(T0 + timedelta(hours=3)).isoformat()}"] == T0.isoformat()


def test_the_same_scheduled_run_never_runs_twice(database) -> None:
    runner_a = make_runner(database, ManualClock(T0))
    runner_b = JobRunner(database, load_settings(), ManualClock(T0), worker="test:2")
    spec = JobSpec("test.window", HOURLY, record_window, timedelta(minutes=5))
    assert runner_a.run(spec, T0).outcome is Outcome.success
    assert runner_b.run(spec, T0).outcome is Outcome.skipped
    with database.session() as session:
        assert len(session.scalars(select(JobRun)).all()) == 1


def test_a_job_that_raises_is_logged_rolled_back_and_does_not_stop_the_next(database) -> None:
    runner = make_runner(database, ManualClock(T0))
    bad = JobSpec("test.bad", HOURLY, half_write_then_fail, timedelta(minutes=5))
    good = JobSpec("test.window", HOURLY, record_window, timedelta(minutes=5))
    failed = runner.run(bad, T0)
    succeeded = runner.run(good, T0)
    assert failed.outcome is Outcome.failed
    assert "bad row in the source" in (failed.error or "")
    assert succeeded.outcome is Outcome.success
    (run,) = runlog.recent_runs(database, "test.bad")
    assert run.status == "failed"
    assert "ValueError: bad row in the source" in (run.error or "")
    with database.session() as session:
        assert session.get(Watermark, "half-written") is None
    assert runlog.job_watermark(database, "test.bad") is None


def test_catch_up_asks_for_the_latest_missed_instant_only(database) -> None:
    clock = ManualClock(T0)
    runner = make_runner(database, clock)
    spec = JobSpec("test.window", HOURLY, record_window, timedelta(minutes=5))
    assert runner.due_for_catch_up(spec) == T0  # never ran: run once now
    runner.run(spec, T0)
    assert runner.due_for_catch_up(spec) is None
    clock.advance(timedelta(hours=5, minutes=10))  # five instants missed while down
    assert runner.due_for_catch_up(spec) == T0 + timedelta(hours=5)


def test_counts_come_from_as_counts_mappings_or_integer_attributes() -> None:
    from dataclasses import dataclass, field

    from tracker.scheduler.jobs import counts_of

    @dataclass
    class Countable:
        def as_counts(self) -> dict[str, int]:
            return {"new": 3}

    @dataclass
    class Shaped:
        model: str = "market"
        rows: list[int] = field(default_factory=lambda: [1, 2])
        flag: bool = True

        @property
        def computed(self) -> int:
            return len(self.rows)

    assert counts_of(Countable()) == {"new": 3}
    assert counts_of({"bars": 5}) == {"bars": 5}
    assert counts_of(Shaped()) == {"computed": 2}
    assert counts_of(None) == {}


def test_a_restart_with_the_same_host_and_pid_is_another_worker(database, monkeypatch) -> None:
    """In a container the scheduler is PID 1 with a stable hostname after every restart:
    the boot id tells the runs of the dead start from those of the new one."""
    monkeypatch.setattr(runner_module.os, "getpid", lambda: 1)
    monkeypatch.setattr(socket, "gethostname", lambda: "tracker")
    runner_module.boot_id.cache_clear()
    before = runner_module.worker_name()
    runner_module.boot_id.cache_clear()  # the process is killed and starts again
    after = runner_module.worker_name()
    runner_module.boot_id.cache_clear()
    assert before.startswith("tracker:1:")
    assert before != after
    run_id = runlog.claim_run(database, "job", T0, before, T0)
    assert run_id is not None
    assert runlog.abandon_others(database, after, T0 + timedelta(minutes=1)) == 1


def test_a_cancelled_run_is_abandoned_and_a_late_finish_changes_nothing(database) -> None:
    """A deposed leader's job stops at its next check; its outcome never overwrites the
    new leader's verdict and its watermark never moves."""
    clock = ManualClock(T0)
    runner = make_runner(database, clock)
    steps: list[int] = []

    def cancelled_midway(ctx: JobContext) -> dict[str, int]:
        steps.append(1)
        runner.cancelled.set()  # leadership is lost while the job works
        ctx.check_cancelled()
        steps.append(2)
        return {"rows": 1}

    result = runner.run(JobSpec("long", HOURLY, cancelled_midway, timedelta(hours=1)), T0)
    assert result.outcome is Outcome.cancelled
    assert steps == [1]
    assert runlog.job_watermark(database, "long") is None
    with database.session() as session:
        run = session.scalars(select(JobRun).where(JobRun.job == "long")).one()
    assert run.status == "abandoned"
    assert "leadership lost" in (run.error or "")

    # A run the new leader already closed: the old worker's finish is refused.
    run_id = runlog.claim_run(database, "other", T0, "old:1:a", T0)
    assert run_id is not None
    assert runlog.abandon_others(database, "new:1:b", T0) == 1
    assert not runlog.finish_run(
        database,
        run_id,
        status=runlog.RunStatus.success,
        finished_at=T0,
        advance_watermark=("other", T0),
    )
    assert runlog.job_watermark(database, "other") is None
