"""Cheap, real jobs for exercising the scheduler itself (``tracker run --jobs test``).

They write real rows, so two-process tests can watch leadership change hands through the
database, without depending on any pipeline stage.
"""

from __future__ import annotations

import time
from datetime import timedelta

from tracker.db import utcnow
from tracker.db.models import Watermark
from tracker.scheduler.jobs import JobContext, JobResult, JobSpec
from tracker.scheduler.schedules import Every

HEARTBEAT_EVERY = timedelta(seconds=1)


def heartbeat(ctx: JobContext) -> JobResult:
    """Record which run last beat, in one transaction."""
    with ctx.db.session() as session:
        mark = session.get(Watermark, "test:heartbeat")
        value = ctx.scheduled_for.isoformat()
        if mark is None:
            session.add(Watermark(name="test:heartbeat", value=value, updated_at=ctx.now))
        else:
            mark.value, mark.updated_at = value, ctx.now
    return {"beats": 1}


SLOW_FOR = timedelta(minutes=2)
SLOW_STEP_SECONDS = 0.5


def slow(ctx: JobContext) -> JobResult:
    """A long job that stops when cancelled, like a poll over many feeds; each step it
    records its progress, so a test can see in the database when it last did work."""
    steps = int(SLOW_FOR.total_seconds() / SLOW_STEP_SECONDS)
    for _ in range(steps):
        ctx.check_cancelled()
        with ctx.db.session() as session:
            mark = session.get(Watermark, "test:slow")
            now = utcnow()
            if mark is None:
                session.add(Watermark(name="test:slow", value=now.isoformat(), updated_at=now))
            else:
                mark.value, mark.updated_at = now.isoformat(), now
        time.sleep(SLOW_STEP_SECONDS)
    return {"steps": steps}


def explode(ctx: JobContext) -> JobResult:
    raise RuntimeError(f"test job exploded at {ctx.scheduled_for.isoformat()}")


def selfcheck_jobs(*, with_slow: bool = False) -> list[JobSpec]:
    """The self-check set; ``with_slow`` adds the long job (once a day, at 00:00 UTC) that
    the lock-loss tests depose a leader in the middle of."""
    jobs = [
        JobSpec("test.heartbeat", Every(HEARTBEAT_EVERY), heartbeat, timedelta(seconds=5)),
        JobSpec("test.explode", Every(timedelta(seconds=2)), explode, timedelta(seconds=5)),
    ]
    if with_slow:
        jobs.append(JobSpec("test.slow", Every(timedelta(days=1)), slow, timedelta(days=1)))
    return jobs
