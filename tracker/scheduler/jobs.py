"""Job specifications: an explicit id, a schedule, a misfire grace and the callable.

Job functions take one ``JobContext`` (the database, settings, the clock's now, the
instant the run is for and the last instant that succeeded) and return counts, so the
same function runs under APScheduler, under a replay, and in tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeGuard, runtime_checkable

from tracker.config import Settings
from tracker.db import Database
from tracker.scheduler.schedules import Schedule


@runtime_checkable
class Countable(Protocol):
    """The reports returned by the pipeline stages (PollReport, LinkReport, ...)."""

    def as_counts(self) -> dict[str, int]: ...


JobResult = Mapping[str, int] | Countable | None


@dataclass(frozen=True)
class JobContext:
    """What a job run knows: where to write, what time it is, which window it covers."""

    db: Database
    settings: Settings
    now: datetime
    scheduled_for: datetime
    since: datetime | None  # the last scheduled_for that succeeded (None: never)
    replay: bool = False
    # Set when this process loses leadership: a long job calls ``check_cancelled`` between
    # units of work (feeds, tickers, recipients) so a deposed leader stops instead of racing
    # the new one; the service exits the process if a job ignores it (see ``service``).
    cancelled: threading.Event = field(default_factory=threading.Event)

    def check_cancelled(self) -> None:
        """Raise ``JobCancelled`` once leadership is lost; cheap enough to call per item."""
        if self.cancelled.is_set():
            raise JobCancelled("leadership lost: run cancelled before it finished")


class JobCancelled(Exception):
    """The run stopped because its process no longer leads; its window is not done."""


JobFunc = Callable[[JobContext], JobResult]


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job. ``misfire_grace`` bounds how late a run may start and still run;
    a run later than that is not lost: catch-up on the next due instant covers its window."""

    id: str
    schedule: Schedule
    func: JobFunc
    misfire_grace: timedelta
    description: str = ""
    catch_up: bool = True

    def __post_init__(self) -> None:
        if not self.id or len(self.id) > 80:
            raise ValueError(f"job id must be 1..80 characters: {self.id!r}")
        if self.misfire_grace <= timedelta(0):
            raise ValueError(f"{self.id}: misfire grace must be positive")


def counts_of(result: object) -> dict[str, int]:
    """A job's result as the job-run log's counts.

    A report without ``as_counts`` still yields its integer attributes (properties
    included), so a job never fails after its work is done just because of how its
    report is shaped.
    """
    if result is None:
        return {}
    if isinstance(result, Countable):
        return {str(key): int(value) for key, value in result.as_counts().items()}
    if isinstance(result, Mapping):
        return {str(key): int(value) for key, value in result.items() if _is_count(value)}
    counts: dict[str, int] = {}
    for name in dir(type(result)):
        if name.startswith("_"):
            continue
        value = getattr(result, name, None)
        if _is_count(value):
            counts[name] = value
    return counts


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def check_unique_ids(jobs: list[JobSpec]) -> list[JobSpec]:
    seen: set[str] = set()
    for job in jobs:
        if job.id in seen:
            raise ValueError(f"duplicate job id {job.id!r}")
        seen.add(job.id)
    return jobs
