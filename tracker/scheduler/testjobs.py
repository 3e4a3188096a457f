"""Cheap, real jobs for exercising the scheduler itself (``tracker run --jobs test``).

They write real rows, so two-process tests can watch leadership change hands through the
database, without depending on any pipeline stage.
"""

from __future__ import annotations

from datetime import timedelta

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


def explode(ctx: JobContext) -> JobResult:
    raise RuntimeError(f"test job exploded at {ctx.scheduled_for.isoformat()}")


def selfcheck_jobs() -> list[JobSpec]:
    return [
        JobSpec("test.heartbeat", Every(HEARTBEAT_EVERY), heartbeat, timedelta(seconds=5)),
        JobSpec("test.explode", Every(timedelta(seconds=2)), explode, timedelta(seconds=5)),
    ]
