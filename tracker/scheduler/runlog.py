"""The job-run log and job watermarks: the database's memory of what ran and how far it got.

A run is *claimed* by inserting its (job, scheduled_for) row before any work starts; the
unique constraint makes the claim atomic across processes, so a (job, scheduled_for) that
another leader already claimed is skipped, never repeated. Watermarks (the last
scheduled_for that succeeded) say where catch-up starts after downtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.db import Database
from tracker.db.models import JobRun, Watermark
from tracker.scheduler.clock import require_aware

MAX_ERROR_CHARS = 4000


class RunStatus(StrEnum):
    running = "running"
    success = "success"
    failed = "failed"
    abandoned = "abandoned"  # its worker died, or lost leadership and cancelled it


def watermark_name(job: str) -> str:
    return f"job:{job}"


def claim_run(
    db: Database, job: str, scheduled_for: datetime, worker: str, now: datetime
) -> int | None:
    """Insert the run's row; its id, or None when (job, scheduled_for) was already claimed."""
    try:
        with db.session() as session:
            run = JobRun(
                job=job,
                scheduled_for=require_aware(scheduled_for, "scheduled_for"),
                started_at=require_aware(now),
                status=RunStatus.running.value,
                counts={},
                worker=worker,
            )
            session.add(run)
            session.flush()
            return run.id
    except IntegrityError:
        return None


def finish_run(
    db: Database,
    run_id: int,
    *,
    status: RunStatus,
    finished_at: datetime,
    counts: Mapping[str, int] | None = None,
    error: str | None = None,
    advance_watermark: tuple[str, datetime] | None = None,
) -> bool:
    """Record the outcome, and on success move the job's watermark, in one transaction.

    Fenced: only a run still ``running`` is closed. A run that a new leader already marked
    ``abandoned`` (this worker was deposed) keeps that status and moves no watermark, so a
    deposed leader's late finish can never overwrite what the new leader decided. Returns
    False in that case.
    """
    with db.session() as session:
        run = session.get(JobRun, run_id, with_for_update=True)
        if run is None:
            raise LookupError(f"job run {run_id} vanished from the log")
        if run.status != RunStatus.running.value:
            return False
        run.status = status.value
        run.finished_at = require_aware(finished_at)
        run.counts = {str(key): int(value) for key, value in (counts or {}).items()}
        run.error = error[:MAX_ERROR_CHARS] if error else None
        if advance_watermark is not None:
            job, scheduled_for = advance_watermark
            _advance(session, job, scheduled_for, finished_at)
    return True


def _advance(session: Session, job: str, value: datetime, now: datetime) -> None:
    """Watermarks only move forward (a late catch-up run never winds one back)."""
    name = watermark_name(job)
    mark = session.get(Watermark, name, with_for_update=True)
    if mark is None:
        session.add(Watermark(name=name, value=value.isoformat(), updated_at=now))
    elif datetime.fromisoformat(mark.value) < value:
        mark.value = value.isoformat()
        mark.updated_at = now


def job_watermark(db: Database, job: str) -> datetime | None:
    """The last scheduled_for of ``job`` that succeeded, or None when it never has."""
    with db.session() as session:
        mark = session.get(Watermark, watermark_name(job))
        return datetime.fromisoformat(mark.value) if mark is not None else None


def abandon_others(db: Database, worker: str, now: datetime) -> int:
    """Close the 'running' rows of dead workers; a new leader calls this when it takes over.

    Only one leader runs jobs, so any run still open under another worker's name was cut
    short (kill -9, lost connection). Its watermark never moved, so the next run of that
    job covers its window again.
    """
    with db.session() as session:
        result = session.execute(
            update(JobRun)
            .where(JobRun.status == RunStatus.running.value, JobRun.worker != worker)
            .values(
                status=RunStatus.abandoned.value,
                finished_at=require_aware(now),
                error="worker stopped before the run finished",
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


def open_runs_of_others(db: Database, worker: str) -> int:
    """How many runs other workers still have open (a deposed leader may still be in one)."""
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(JobRun)
                .where(JobRun.status == RunStatus.running.value, JobRun.worker != worker)
            )
            or 0
        )


def recent_runs(db: Database, job: str, limit: int = 10) -> list[JobRun]:
    """The job's latest runs, newest first."""
    with db.session() as session:
        rows = session.scalars(
            select(JobRun)
            .where(JobRun.job == job)
            .order_by(JobRun.scheduled_for.desc())
            .limit(limit)
        )
        return list(rows)
