"""Run one (job, scheduled_for) at most once, and log it whatever happens.

The run is claimed in the job-run log first (a duplicate claim means another leader ran
it: skip); then the job runs; then its outcome, counts or error, and on success the job's
watermark, are written in one transaction. A job that raises is logged as failed with its
error and never takes the scheduler down with it.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from tracker.config import Settings
from tracker.db import Database
from tracker.scheduler import runlog
from tracker.scheduler.clock import Clock
from tracker.scheduler.jobs import JobCancelled, JobContext, JobSpec, counts_of

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def boot_id() -> str:
    """This process's start: its start second and a random token, drawn once per process.

    In a container the scheduler is PID 1 with a stable hostname, so ``host:pid`` names the
    dead run and its restarted successor alike; with the boot id they differ, and the new
    leader marks the dead one's open runs abandoned.
    """
    return f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}"


def worker_name() -> str:
    """host:pid:boot, so the job-run log says which process (and which start of it) ran what."""
    return f"{socket.gethostname()}:{os.getpid()}:{boot_id()}"


class Outcome(StrEnum):
    success = "success"
    failed = "failed"
    skipped = "skipped"  # already claimed by another worker
    cancelled = "cancelled"  # leadership lost while it ran: logged as abandoned


@dataclass(frozen=True)
class RunResult:
    job: str
    scheduled_for: datetime
    outcome: Outcome
    counts: dict[str, int]
    error: str | None = None


class JobRunner:
    """Executes job specs against one database on one clock."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        *,
        worker: str | None = None,
        replay: bool = False,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.worker = worker or worker_name()
        self.replay = replay
        # Set by the service when leadership is lost; replaced by a fresh one on each lead.
        self.cancelled = threading.Event()
        self._active = 0
        self._active_lock = threading.Lock()

    @property
    def active_runs(self) -> int:
        """Runs executing right now in this process (the service waits for them to end)."""
        with self._active_lock:
            return self._active

    def run(self, spec: JobSpec, scheduled_for: datetime) -> RunResult:
        cancelled = self.cancelled
        if cancelled.is_set():
            log.info("%s @ %s not started: leadership lost", spec.id, scheduled_for.isoformat())
            return RunResult(spec.id, scheduled_for, Outcome.skipped, {})
        with self._active_lock:
            self._active += 1
        try:
            return self._run(spec, scheduled_for, cancelled)
        finally:
            with self._active_lock:
                self._active -= 1

    def _run(self, spec: JobSpec, scheduled_for: datetime, cancelled: threading.Event) -> RunResult:
        run_id = runlog.claim_run(self.db, spec.id, scheduled_for, self.worker, self.clock.now())
        if run_id is None:
            log.info("%s @ %s already claimed: skipped", spec.id, scheduled_for.isoformat())
            return RunResult(spec.id, scheduled_for, Outcome.skipped, {})
        since = runlog.job_watermark(self.db, spec.id)
        context = JobContext(
            db=self.db,
            settings=self.settings,
            now=self.clock.now(),
            scheduled_for=scheduled_for,
            since=since if since is not None and since < scheduled_for else None,
            replay=self.replay,
            cancelled=cancelled,
        )
        try:
            counts = counts_of(spec.func(context))
            context.check_cancelled()  # finished, but too late: the new leader decides
        except JobCancelled as exc:
            log.warning("%s @ %s cancelled: %s", spec.id, scheduled_for.isoformat(), exc)
            runlog.finish_run(
                self.db,
                run_id,
                status=runlog.RunStatus.abandoned,
                finished_at=self.clock.now(),
                error=str(exc),
            )
            return RunResult(spec.id, scheduled_for, Outcome.cancelled, {}, str(exc))
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.error("%s @ %s failed: %s", spec.id, scheduled_for.isoformat(), error)
            detail = "".join(traceback.format_exception(exc, limit=-8))
            runlog.finish_run(
                self.db,
                run_id,
                status=runlog.RunStatus.failed,
                finished_at=self.clock.now(),
                error=f"{error}\n{detail}",
            )
            return RunResult(spec.id, scheduled_for, Outcome.failed, {}, error)
        if not runlog.finish_run(
            self.db,
            run_id,
            status=runlog.RunStatus.success,
            finished_at=self.clock.now(),
            counts=counts,
            advance_watermark=(spec.id, scheduled_for),
        ):
            log.warning(
                "%s @ %s finished after another leader closed it: outcome not recorded",
                spec.id,
                scheduled_for.isoformat(),
            )
            return RunResult(spec.id, scheduled_for, Outcome.cancelled, counts)
        log.info("%s @ %s done: %s", spec.id, scheduled_for.isoformat(), counts)
        return RunResult(spec.id, scheduled_for, Outcome.success, counts)

    def due_for_catch_up(self, spec: JobSpec) -> datetime | None:
        """The latest missed due instant of ``spec`` (after its watermark), if any."""
        if not spec.catch_up:
            return None
        due = spec.schedule.latest_at_or_before(self.clock.now())
        if due is None:
            return None
        mark = runlog.job_watermark(self.db, spec.id)
        return due if mark is None or mark < due else None
