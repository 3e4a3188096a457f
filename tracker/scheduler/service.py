"""The live service: one leader runs the jobs with APScheduler; the others stand by.

Schedules live in code with explicit job ids (no pickled job store): on taking the lead the
service builds a fresh ``BackgroundScheduler`` and, for every job whose latest due instant
is after its database watermark, fires one coalesced catch-up run at once. Each run is
claimed in the job-run log, so a (job, scheduled_for) never runs twice even across
leaders. SIGTERM/SIGINT stop the scheduler after the running job finishes; its
transaction commits or rolls back as a whole.

Losing the lock (the PostgreSQL session killed, the SQLite lock file gone, the database
unreachable) is fenced on both sides:

- the deposed leader cancels its running jobs at once (``JobContext.cancelled``, checked
  between units of work and before the outcome is logged) and starts none; a job still
  running ``cancel_grace_seconds`` later is stopped by exiting the process
  (``EXIT_DEPOSED``), because a thread cannot be killed and the process supervisor
  restarts it as a standby;
- a new leader starts no job while another worker still has a run open, for at most
  ``fence_seconds`` (two heartbeats plus the cancel grace: by then the deposed leader has
  noticed, cancelled or exited), and then marks whatever is left abandoned.

So the job-run log never shows a deposed leader's run ending after the new leader's first
run started, and a deposed run never moves a watermark.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from tracker.config import Settings
from tracker.db import Database
from tracker.scheduler import runlog
from tracker.scheduler.clock import SystemClock
from tracker.scheduler.health import HealthState
from tracker.scheduler.jobs import JobSpec, check_unique_ids
from tracker.scheduler.leader import LeaderLock, wait_for_leadership
from tracker.scheduler.runner import JobRunner, worker_name
from tracker.scheduler.schedules import Schedule
from tracker.scheduler.timing import (
    CANCEL_GRACE_SECONDS,
    HEARTBEAT_SECONDS,
    STANDBY_POLL_SECONDS,
)

log = logging.getLogger(__name__)

EXECUTOR_THREADS = 4
EXIT_DEPOSED = 3  # the exit status of a deposed leader whose job ignored cancellation


class ScheduleTrigger(BaseTrigger):  # type: ignore[misc]
    """Adapts a ``Schedule`` (a grid of due instants) to APScheduler 3's trigger API."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        return self.schedule.next_after(previous_fire_time or now)

    def __str__(self) -> str:
        return self.schedule.describe()


def job_defaults() -> dict[str, Any]:
    """Never silently drop work: missed runs coalesce into one, one instance per job."""
    return {"coalesce": True, "max_instances": 1}


class SchedulerService:
    """Leader election, the APScheduler scheduler, heartbeats and graceful stop."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        jobs: Sequence[JobSpec],
        lock: LeaderLock,
        *,
        health: HealthState | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        standby_poll_seconds: float = STANDBY_POLL_SECONDS,
        cancel_grace_seconds: float = CANCEL_GRACE_SECONDS,
    ) -> None:
        self.db = db
        self.settings = settings
        self.jobs = {spec.id: spec for spec in check_unique_ids(list(jobs))}
        self.lock = lock
        self.clock = SystemClock()  # APScheduler itself reads the wall clock
        self.worker = worker_name()
        self.runner = JobRunner(db, settings, self.clock, worker=self.worker)
        self.health = health or HealthState(
            worker=self.worker, max_silence_seconds=max(30.0, 3 * heartbeat_seconds)
        )
        self.heartbeat_seconds = heartbeat_seconds
        self.standby_poll_seconds = standby_poll_seconds
        self.cancel_grace_seconds = cancel_grace_seconds
        self.stop_requested = threading.Event()
        self._scheduler: BackgroundScheduler | None = None

    def request_stop(self) -> None:
        self.stop_requested.set()

    def run(self) -> None:
        """Stand by, lead while holding the lock, stand by again if it is lost; until stopped."""
        try:
            while not self.stop_requested.is_set():
                self.health.set_role("standby")
                if not wait_for_leadership(
                    self.lock, self.stop_requested, self.standby_poll_seconds, self.health.beat
                ):
                    break
                lost = self._lead()
                self.lock.release()  # lost or stopping: a standby re-acquires from scratch
                if lost:
                    self._sit_out()
        finally:
            self.lock.release()
            self.health.set_role("stopped")

    @property
    def fence_seconds(self) -> float:
        """How long a deposed leader may take to notice (a heartbeat) and stop (the grace)."""
        return 2 * self.heartbeat_seconds + self.cancel_grace_seconds

    def _sit_out(self) -> None:
        """A deposed leader lets the standbys take over first: it competes again only after
        a fence period (it may have lost the lock because its own link is failing)."""
        self.health.set_role("standby")
        deadline = time.monotonic() + self.fence_seconds
        while time.monotonic() < deadline and not self.stop_requested.is_set():
            self.health.beat()
            self.stop_requested.wait(min(1.0, self.standby_poll_seconds))

    def _lead(self) -> bool:
        """Run the jobs while the lock holds; True when leadership was lost (not stopped)."""
        log.warning("leader: %s holds %s", self.worker, self.lock.describe())
        self.health.set_role("leader")
        self._fence_previous_leader()
        abandoned = runlog.abandon_others(self.db, self.worker, self.clock.now())
        if abandoned:
            log.warning("closed %d run(s) left open by a previous leader", abandoned)
        self.runner.cancelled = threading.Event()  # this lead's own cancellation flag
        scheduler = self.build_scheduler()
        self._scheduler = scheduler
        scheduler.start()
        lost = False
        try:
            while not self.stop_requested.wait(self.heartbeat_seconds):
                if not self.lock.still_held():
                    log.error("leadership lost; cancelling running jobs and standing by")
                    lost = True
                    break
                self.health.beat()
        finally:
            self.health.set_role("stopping")
            if lost:
                self._step_down(scheduler)
            else:
                scheduler.shutdown(wait=True)  # the running job finishes; no new one starts
            self._scheduler = None
        return lost

    def _fence_previous_leader(self) -> None:
        """Wait (bounded) until no other worker has a run open: a deposed leader that is
        still alive cancels within ``fence_seconds``; a dead one never closes its runs."""
        deadline = time.monotonic() + self.fence_seconds
        while runlog.open_runs_of_others(self.db, self.worker):
            if time.monotonic() >= deadline or self.stop_requested.is_set():
                return
            self.health.beat()
            self.stop_requested.wait(min(0.5, self.heartbeat_seconds))
        return

    def _step_down(self, scheduler: BackgroundScheduler) -> None:
        """Cancel running jobs and start no new one; exit if one outlives the grace."""
        self.runner.cancelled.set()
        scheduler.shutdown(wait=False)
        deadline = time.monotonic() + self.cancel_grace_seconds
        while self.runner.active_runs and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.runner.active_runs:
            log.critical(
                "deposed leader: %d job(s) still running %.0f s after cancellation; exiting "
                "so they cannot race the new leader",
                self.runner.active_runs,
                self.cancel_grace_seconds,
            )
            for handler in logging.getLogger().handlers:
                handler.flush()
            os._exit(EXIT_DEPOSED)

    def build_scheduler(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            timezone="UTC",
            job_defaults=job_defaults(),
            executors={"default": ThreadPoolExecutor(max_workers=EXECUTOR_THREADS)},
        )
        for spec in self.jobs.values():
            extra: dict[str, Any] = {}
            if self.runner.due_for_catch_up(spec) is not None:
                extra["next_run_time"] = self.clock.now()  # catch up once, coalesced
            scheduler.add_job(
                self.fire,
                trigger=ScheduleTrigger(spec.schedule),
                args=[spec.id],
                id=spec.id,
                name=spec.description or spec.id,
                misfire_grace_time=max(1, int(spec.misfire_grace.total_seconds())),
                coalesce=True,
                max_instances=1,
                replace_existing=True,
                **extra,
            )
        return scheduler

    def fire(self, job_id: str) -> None:
        """APScheduler's entry point: run the job for its latest due instant."""
        spec = self.jobs[job_id]
        scheduled_for = spec.schedule.latest_at_or_before(self.clock.now())
        if scheduled_for is None:
            return
        try:
            self.runner.run(spec, scheduled_for)
        except Exception:  # the log itself could not be written (database down)
            log.exception("%s @ %s could not be logged", job_id, scheduled_for.isoformat())


def install_signal_handlers(stop: Any) -> None:
    """SIGTERM/SIGINT: stop gracefully; a second signal exits at once (open transactions
    roll back in the database, so even then nothing is half-written)."""
    received: list[int] = []

    def handle(signum: int, _frame: FrameType | None) -> None:
        if received:
            log.error("second signal: exiting now")
            os._exit(128 + signum)
        received.append(signum)
        log.warning("signal %d: stopping after the running job", signum)
        stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
