"""Replay: the same jobs on a simulated clock, so recorded weeks unfold as if live.

The driver is the live scheduler's semantics without the wall clock: at each step every
job whose latest due instant (on the simulated clock) is newer than its last run runs once
for that instant (coalesced, exactly as APScheduler with ``coalesce=True``), then the
clock is waited until the next due instant. Articles are revealed at their published time
and bars at their session's close because the jobs only ask the sources for data up to the
simulated now. Runs go through the same job-run log, so a replay interrupted and started
again resumes where it stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from tracker.errors import UserInputError
from tracker.scheduler.clock import Clock
from tracker.scheduler.health import HealthState
from tracker.scheduler.jobs import JobSpec, check_unique_ids
from tracker.scheduler.runner import JobRunner, Outcome, RunResult

log = logging.getLogger(__name__)


def parse_range(text: str) -> tuple[datetime, datetime]:
    """``2025-01-15..2025-02-05`` -> [start 00:00 UTC, the day after the end 00:00 UTC)."""
    parts = text.split("..")
    if len(parts) != 2:
        raise UserInputError(
            f"--replay: expected START..END (e.g. 2025-01-15..2025-02-05), got {text!r}"
        )
    try:
        first, last = (date.fromisoformat(part.strip()) for part in parts)
    except ValueError as exc:
        raise UserInputError(f"--replay: {exc} in {text!r}") from None
    if last < first:
        raise UserInputError(f"--replay: end {last} is before start {first}")
    start = datetime.combine(first, time(0), tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
    return start, end


@dataclass
class ReplaySummary:
    runs: list[RunResult] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for run in self.runs if run.outcome is outcome)


class ReplayDriver:
    """Runs ``jobs`` over ``[start, end)`` on ``clock`` (which should start at ``start``)."""

    def __init__(
        self,
        runner: JobRunner,
        jobs: Sequence[JobSpec],
        start: datetime,
        end: datetime,
        *,
        health: HealthState | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.runner = runner
        self.jobs = check_unique_ids(list(jobs))
        self.start = start
        self.end = end
        self.health = health
        self.stop = stop or threading.Event()
        self._last: dict[str, datetime] = {}

    @property
    def clock(self) -> Clock:
        return self.runner.clock

    def run(self) -> ReplaySummary:
        summary = ReplaySummary()
        while not self.stop.is_set():
            now = min(self.clock.now(), self.end - timedelta(microseconds=1))
            for spec in self.jobs:  # in the job set's order: poll, link, bars, impacts
                due = spec.schedule.latest_at_or_before(now)
                if due is None or due < self.start or due <= self._last.get(spec.id, self.start):
                    continue
                self._last[spec.id] = due
                summary.runs.append(self.runner.run(spec, due))
                if self.stop.is_set():
                    return summary
            if self.health is not None:
                self.health.beat()
            upcoming = self._next_due(now)
            if upcoming is None:
                break
            if not self.clock.wait_until(upcoming, self.stop):
                break
        return summary

    def _next_due(self, now: datetime) -> datetime | None:
        candidates = [spec.schedule.next_after(now) for spec in self.jobs]
        times = [moment for moment in candidates if moment is not None and moment < self.end]
        return min(times, default=None)
