"""When to check a feed next: one pure function, as Miniflux does it.

Success: wait the base interval, or longer if the feed asks (RSS ``<ttl>``, HTTP
``Cache-Control: max-age``, ``Retry-After``), never more than a day. Error: back off
exponentially from the base interval, doubling per consecutive error up to 24 hours, with
jitter so feeds that failed together do not retry together; a server's ``Retry-After`` is
honoured even when it is longer (up to a week). A feed failing for days is flagged for a
human, and keeps being checked once a day: it is never dropped silently.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

MAX_INTERVAL = timedelta(hours=24)
MAX_RETRY_AFTER = timedelta(days=7)
FAILING_AFTER = timedelta(days=2)
JITTER = 0.2  # +/- 20 % of the back-off delay
_RNG = random.Random()


@dataclass(frozen=True)
class CheckOutcome:
    """What the last check said that matters for scheduling."""

    ok: bool  # fetched (200 or 304) and parsed
    consecutive_errors: int = 0  # including this one when not ok
    ttl: timedelta | None = None
    max_age: timedelta | None = None
    retry_after: timedelta | None = None


def next_check_at(
    now: datetime,
    outcome: CheckOutcome,
    base_interval: timedelta,
    rng: random.Random | None = None,
) -> datetime:
    """The time of the next check after ``outcome`` at ``now``."""
    server_wish = max(
        (wish for wish in (outcome.ttl, outcome.max_age, outcome.retry_after) if wish),
        default=timedelta(0),
    )
    if outcome.ok:
        return now + min(max(base_interval, server_wish), MAX_INTERVAL)
    exponent = max(outcome.consecutive_errors - 1, 0)
    backoff = min(base_interval * (1 << min(exponent, 20)), MAX_INTERVAL)
    factor: float = 1 + (rng or _RNG).uniform(-JITTER, JITTER)
    delay = min(backoff * factor, MAX_INTERVAL)
    if outcome.retry_after:
        delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER))
    return now + max(delay, base_interval / 2)


def is_failing(failing_since: datetime | None, now: datetime) -> bool:
    """Has the feed failed continuously long enough that a human should look at it?"""
    return failing_since is not None and now - failing_since >= FAILING_AFTER


def _seconds(text: str, cap: timedelta) -> timedelta | None:
    """Delta-seconds as HTTP defines them: ASCII digits only (``²`` and ``٣`` are digits to
    Python, not to HTTP), clamped to ``cap`` (a 20-digit number must not overflow)."""
    text = text.strip().strip('"')
    if not text or not (text.isascii() and text.isdigit()):
        return None
    limit = int(cap.total_seconds())
    return timedelta(seconds=limit if len(text) > len(str(limit)) else min(int(text), limit))


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """``Retry-After`` as seconds or an HTTP date -> a delay in [0, 7 days] (``None`` if absent
    or unreadable). Whatever a server sends, this never raises."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value[0].isdigit():
        return _seconds(value, MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    try:
        delay = when - now
    except OverflowError:
        return MAX_RETRY_AFTER
    return min(max(delay, timedelta(0)), MAX_RETRY_AFTER)


def parse_max_age(cache_control: str | None) -> timedelta | None:
    """``Cache-Control: max-age=N`` -> N seconds, at most a day (the longest interval between
    checks); ``no-cache``/``no-store`` ask for nothing. Never raises."""
    if not cache_control:
        return None
    for directive in cache_control.split(","):
        name, _, value = directive.strip().partition("=")
        if name.strip().lower() in {"max-age", "s-maxage"}:
            seconds = _seconds(value, MAX_INTERVAL)
            if seconds is not None:
                return seconds
    return None
