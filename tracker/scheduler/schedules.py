"""When each job is due: pure functions of time (and of the exchange calendar).

A schedule is a fixed grid of instants, anchored to the epoch or to the exchange's sessions,
never to when the process happened to start. That is what makes a run's ``scheduled_for``
the same on every worker, so the job-run log's unique (job, scheduled_for) can stop a new
leader from repeating what the old one finished, and what makes catch-up a question about
the grid ("what was the latest due instant before now?") rather than about pickled state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import pandas as pd

from tracker.impact import calendar as cal
from tracker.scheduler.clock import require_aware

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Sessions are at most a few days apart (the longest NYSE gaps are 4-5 days); searching
# two weeks either side always finds the neighbouring session.
_SESSION_SEARCH = timedelta(days=14)


class Schedule(Protocol):
    """A grid of due instants."""

    def next_after(self, moment: datetime) -> datetime | None:
        """The first due instant strictly after ``moment`` (None when there is none)."""
        ...

    def latest_at_or_before(self, moment: datetime) -> datetime | None:
        """The last due instant at or before ``moment`` (None when there is none)."""
        ...

    def describe(self) -> str:
        """A short human description for ``tracker status`` and logs."""
        ...


@lru_cache(maxsize=4)
def _exchange(name: str) -> Any:
    return xcals.get_calendar(name, start=cal.CALENDAR_START, end=cal.CALENDAR_END)


def session_open(session: date, calendar: str) -> datetime:
    """The session's open in UTC: the impact calendar's when it offers one, else the exchange's."""
    return _session_open(session, calendar)


@lru_cache(maxsize=4096)
def _session_open(session: date, calendar: str) -> datetime:
    impact_open = getattr(cal, "session_open", None)
    if impact_open is not None:
        opened: datetime = impact_open(session, calendar)
        return opened
    result: datetime = pd.Timestamp(_exchange(calendar).session_open(session)).to_pydatetime()
    return result.astimezone(UTC)


@lru_cache(maxsize=4096)
def session_close(session: date, calendar: str) -> datetime:
    """The session's close in UTC (cached: schedules ask for the same few sessions often)."""
    return cal.session_close(session, calendar)


def due_between(schedule: Schedule, start: datetime, end: datetime) -> Iterator[datetime]:
    """Every due instant in ``(start, end]``, in order (for tests and replays)."""
    moment = schedule.next_after(start)
    while moment is not None and moment <= end:
        yield moment
        moment = schedule.next_after(moment)


@dataclass(frozen=True)
class Every:
    """Every ``interval``, on a grid anchored at ``anchor`` (the epoch by default)."""

    interval: timedelta
    anchor: datetime = EPOCH

    def __post_init__(self) -> None:
        if self.interval <= timedelta(0):
            raise ValueError(f"interval must be positive, got {self.interval}")

    def latest_at_or_before(self, moment: datetime) -> datetime | None:
        steps = (require_aware(moment) - self.anchor) // self.interval
        return self.anchor + steps * self.interval

    def next_after(self, moment: datetime) -> datetime | None:
        latest = self.latest_at_or_before(moment)
        assert latest is not None
        return latest + self.interval

    def describe(self) -> str:
        return f"every {_human(self.interval)}"


class _SessionGrid:
    """Instants tied to the exchange's sessions: each subclass says which ones a session has.

    The sessions searched are those within ``_SESSION_SEARCH`` of the moment, so a long
    holiday still finds the previous and next session.
    """

    calendar: str

    def _session_instants(self, session: date) -> list[datetime]:
        raise NotImplementedError

    def _instants(self, moment: datetime) -> list[datetime]:
        day = moment.date()
        sessions = cal.sessions_between(
            day - _SESSION_SEARCH - timedelta(days=1), day + _SESSION_SEARCH, self.calendar
        )
        return [t for session in sessions for t in self._session_instants(session)]

    def next_after(self, moment: datetime) -> datetime | None:
        moment = require_aware(moment)
        return next((t for t in self._instants(moment) if t > moment), None)

    def latest_at_or_before(self, moment: datetime) -> datetime | None:
        moment = require_aware(moment)
        return next((t for t in reversed(self._instants(moment)) if t <= moment), None)


@dataclass(frozen=True)
class AfterSessionClose(_SessionGrid):
    """Once per exchange session, ``margin`` after its close (early closes included).

    Non-sessions (weekends, holidays, the 2025-01-09 national day of mourning) get no
    instant at all, which a cron expression cannot express.
    """

    margin: timedelta = timedelta(minutes=20)
    calendar: str = cal.DEFAULT_CALENDAR

    def instant_for(self, session: date) -> datetime:
        return session_close(session, self.calendar) + self.margin

    def session_of(self, instant: datetime) -> date:
        """The session a due instant belongs to."""
        return cal.first_affected_session(instant - self.margin - timedelta(microseconds=1))

    def _session_instants(self, session: date) -> list[datetime]:
        return [self.instant_for(session)]

    def describe(self) -> str:
        return f"{self.calendar} session close + {_human(self.margin)}"


@dataclass(frozen=True)
class DuringSessions(_SessionGrid):
    """Every ``interval`` after each session's open while it is open, and at its close."""

    interval: timedelta = timedelta(minutes=30)
    calendar: str = cal.DEFAULT_CALENDAR

    def _session_instants(self, session: date) -> list[datetime]:
        opened = session_open(session, self.calendar)
        closed = session_close(session, self.calendar)
        instants = []
        moment = opened + self.interval
        while moment < closed:
            instants.append(moment)
            moment += self.interval
        instants.append(closed)
        return instants

    def describe(self) -> str:
        return f"every {_human(self.interval)} during {self.calendar} sessions"


@dataclass(frozen=True)
class DailyAt:
    """Every day at a local wall-clock time (daylight saving handled by the zone)."""

    at: time
    tz: str = "UTC"
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", ZoneInfo(self.tz))

    def _on(self, day: date) -> datetime:
        return datetime.combine(day, self.at, tzinfo=self._zone).astimezone(UTC)

    def next_after(self, moment: datetime) -> datetime | None:
        local_day = require_aware(moment).astimezone(self._zone).date()
        for offset in range(-1, 3):
            candidate = self._on(local_day + timedelta(days=offset))
            if candidate > moment:
                return candidate
        raise AssertionError("unreachable: a later day always has the time")

    def latest_at_or_before(self, moment: datetime) -> datetime | None:
        local_day = require_aware(moment).astimezone(self._zone).date()
        for offset in range(1, -3, -1):
            candidate = self._on(local_day + timedelta(days=offset))
            if candidate <= moment:
                return candidate
        raise AssertionError("unreachable: an earlier day always has the time")

    def describe(self) -> str:
        return f"daily at {self.at.strftime('%H:%M')} {self.tz}"


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}min"
    return f"{seconds}s"
