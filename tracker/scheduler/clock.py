"""Clocks: the real one, a simulated one for replays, and a manual one for tests.

Every job and schedule asks a ``Clock`` for the time instead of calling ``datetime.now``,
so the same code can run live, replay recorded weeks at N times real speed, or be stepped
through in tests without sleeping through real minutes.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


def require_aware(value: datetime, what: str = "time") -> datetime:
    """Refuse naive datetimes: guessing a zone would move runs across sessions."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{what} {value!r} is naive; pass an aware (UTC) datetime")
    return value.astimezone(UTC)


class Clock(Protocol):
    """What the scheduler needs from time: read it, and wait for it (interruptibly)."""

    def now(self) -> datetime:
        """The current (aware, UTC) time on this clock."""
        ...

    def wait_until(self, when: datetime, stop: threading.Event) -> bool:
        """Block until ``when`` on this clock; False when ``stop`` was set first."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait_until(self, when: datetime, stop: threading.Event) -> bool:
        while not stop.is_set():
            remaining = (when - self.now()).total_seconds()
            if remaining <= 0:
                return True
            stop.wait(min(remaining, 60.0))
        return False


class SimulatedClock:
    """Time that starts at ``start`` and runs ``speed`` times faster than real time."""

    def __init__(self, start: datetime, speed: float) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.start = require_aware(start, "start")
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin) * self.speed
        return self.start + timedelta(seconds=elapsed)

    def wait_until(self, when: datetime, stop: threading.Event) -> bool:
        while not stop.is_set():
            remaining = (when - self.now()).total_seconds() / self.speed
            if remaining <= 0:
                return True
            stop.wait(min(remaining, 1.0))
        return False


class ManualClock:
    """A clock that only moves when told to; waiting jumps straight to the target time."""

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start, "start")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = require_aware(when)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta

    def wait_until(self, when: datetime, stop: threading.Event) -> bool:
        if stop.is_set():
            return False
        with self._lock:
            self._now = max(self._now, require_aware(when))
        return True
