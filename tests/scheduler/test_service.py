"""The APScheduler service in-process: jobs keep running past failures, catch-up, clean stop."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tracker.config import load_settings
from tracker.db.models import JobRun, Watermark
from tracker.scheduler import runlog
from tracker.scheduler import service as service_module
from tracker.scheduler.jobs import JobContext, JobSpec
from tracker.scheduler.leader import leader_lock_for
from tracker.scheduler.schedules import DailyAt, Every
from tracker.scheduler.service import SchedulerService, job_defaults
from tracker.scheduler.testjobs import selfcheck_jobs

WAIT_LIMIT = 20.0


def start_service(database, jobs) -> tuple[SchedulerService, threading.Thread]:
    service = SchedulerService(
        database,
        load_settings(),
        jobs,
        leader_lock_for(database),
        heartbeat_seconds=0.2,
        standby_poll_seconds=0.2,
    )
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    return service, thread


def runs(database) -> list[JobRun]:
    with database.session() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.scheduled_for)))


def wait_for(condition, database) -> list[JobRun]:
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        current = runs(database)
        if condition(current):
            return current
        time.sleep(0.1)
    raise AssertionError(
        f"condition not met in {WAIT_LIMIT}s: {[(r.job, r.status) for r in runs(database)]}"
    )


def stop(service: SchedulerService, thread: threading.Thread) -> None:
    service.request_stop()
    thread.join(timeout=WAIT_LIMIT)
    assert not thread.is_alive()


def test_defaults_never_silently_drop_work() -> None:
    assert job_defaults() == {"coalesce": True, "max_instances": 1}


def test_a_job_that_raises_is_logged_and_the_others_keep_running(database) -> None:
    service, thread = start_service(database, selfcheck_jobs())

    def heartbeat_after_a_failure(current: list[JobRun]) -> bool:
        failed = [r for r in current if r.job == "test.explode" and r.status == "failed"]
        return bool(failed) and any(
            r.job == "test.heartbeat"
            and r.status == "success"
            and r.scheduled_for > failed[0].scheduled_for
            for r in current
        )

    current = wait_for(heartbeat_after_a_failure, database)
    stop(service, thread)
    failed = next(r for r in current if r.job == "test.explode")
    assert "RuntimeError: test job exploded" in (failed.error or "")
    assert failed.finished_at is not None
    assert len({(r.job, r.scheduled_for) for r in current}) == len(current)


def test_on_start_only_jobs_behind_their_watermark_catch_up(database) -> None:
    now = datetime.now(UTC)
    behind = DailyAt((now - timedelta(hours=1)).time().replace(microsecond=0), "UTC")
    current = DailyAt((now - timedelta(hours=2)).time().replace(microsecond=0), "UTC")
    due = current.latest_at_or_before(now)
    assert due is not None
    run_id = runlog.claim_run(database, "test.current", due, "old:1", due)
    assert run_id is not None
    runlog.finish_run(
        database,
        run_id,
        status=runlog.RunStatus.success,
        finished_at=due,
        advance_watermark=("test.current", due),
    )

    def note(ctx: JobContext) -> dict[str, int]:
        return {"ran": 1}

    jobs = [
        JobSpec("test.behind", behind, note, timedelta(hours=1)),
        JobSpec("test.current", current, note, timedelta(hours=1)),
    ]
    service, thread = start_service(database, jobs)
    logged = wait_for(lambda rs: any(r.job == "test.behind" for r in rs), database)
    time.sleep(0.5)
    stop(service, thread)
    behind_runs = [r for r in logged if r.job == "test.behind"]
    assert [r.scheduled_for for r in behind_runs] == [behind.latest_at_or_before(now)]
    assert [r.worker for r in runs(database) if r.job == "test.current"] == ["old:1"]


def test_stop_lets_the_running_job_finish_its_transaction(database) -> None:
    started = threading.Event()

    def slow_write(ctx: JobContext) -> dict[str, int]:
        with ctx.db.session() as session:
            started.set()
            time.sleep(1.0)
            session.add(Watermark(name="slow", value=ctx.scheduled_for.isoformat()))
        return {"rows": 1}

    service, thread = start_service(
        database, [JobSpec("test.slow", Every(timedelta(hours=1)), slow_write, timedelta(hours=1))]
    )
    assert started.wait(WAIT_LIMIT)
    stop(service, thread)
    (run,) = runs(database)
    assert run.status == "success"
    with database.session() as session:
        assert session.get(Watermark, "slow") is not None


class LosableLock:
    """A leader lock this test takes away at will (the real locks have process tests)."""

    def __init__(self) -> None:
        self.held = False
        self.lost = threading.Event()

    def try_acquire(self) -> bool:
        if self.lost.is_set():
            return False
        self.held = True
        return True

    def still_held(self) -> bool:
        return self.held and not self.lost.is_set()

    def release(self) -> None:
        self.held = False

    def describe(self) -> str:
        return "a lock the test can take away"


def test_a_deposed_leader_whose_job_ignores_cancellation_exits(database, monkeypatch) -> None:
    """A thread cannot be killed: past the grace the deposed process exits instead."""
    started, release = threading.Event(), threading.Event()
    exits: list[int] = []

    def stubborn(ctx: JobContext) -> dict[str, int]:
        started.set()
        release.wait(WAIT_LIMIT)  # never looks at ctx.cancelled
        return {"rows": 1}

    def fake_exit(code: int) -> None:  # records instead of ending the test process
        exits.append(code)
        release.set()

    monkeypatch.setattr(service_module.os, "_exit", fake_exit)
    lock = LosableLock()
    service = SchedulerService(
        database,
        load_settings(),
        [JobSpec("stubborn", Every(timedelta(days=1)), stubborn, timedelta(days=1))],
        lock,
        heartbeat_seconds=0.2,
        standby_poll_seconds=0.2,
        cancel_grace_seconds=0.5,
    )
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    assert started.wait(WAIT_LIMIT)
    lock.lost.set()
    deadline = time.monotonic() + WAIT_LIMIT
    while not exits and time.monotonic() < deadline:
        time.sleep(0.05)
    assert exits == [service_module.EXIT_DEPOSED]
    stop(service, thread)
