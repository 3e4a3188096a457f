"""Trading calendar: which session a piece of news first affects (IMPACT_SPEC.md §1).

The exchange's own calendar decides, holidays and early closes included, because a naive
"next weekday" rule puts DeepSeek-R1 (released on the 2025-01-20 NYSE holiday) on a day the
market was shut. Calendars are built once per name and cached: building one takes ~100 ms.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

import exchange_calendars as xcals
import numpy as np
import pandas as pd

DEFAULT_CALENDAR = "XNYS"
MAPPING_RULE = "first regular session whose close is strictly after the UTC timestamp"

# exchange_calendars defaults to a window around "today"; the tracker needs history back to the
# start of its data and a few years ahead for scheduled events, so the bounds are explicit.
CALENDAR_START = "2000-01-01"
CALENDAR_END = "2030-12-31"


def mapping_rule(calendar: str = DEFAULT_CALENDAR) -> str:
    """The rule stored with every result, so a number can always be reproduced."""
    return f"{MAPPING_RULE} ({calendar})"


@lru_cache(maxsize=8)
def _calendar(name: str) -> Any:
    return xcals.get_calendar(name, start=CALENDAR_START, end=CALENDAR_END)


@lru_cache(maxsize=8)
def _closes(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Session dates and their UTC close instants as int64 nanoseconds, for searchsorted."""
    closes = _calendar(name).closes
    sessions = np.asarray(closes.index.values, dtype="datetime64[D]")
    instants = closes.dt.tz_convert(None).to_numpy().astype("datetime64[ns]")
    return sessions, instants.astype(np.int64)


def _as_date(d: date | str | pd.Timestamp) -> date:
    if isinstance(d, datetime):
        raise TypeError("expected a calendar date, got a datetime; pass .date() explicitly")
    if isinstance(d, date):
        return d
    return pd.Timestamp(d).date()


def first_affected_session(ts: datetime, calendar: str = DEFAULT_CALENDAR) -> date:
    """Event day 0 for a news timestamp: the first session whose close is strictly after it.

    Published before the close on a trading day -> that day; at or after the close, on a
    weekend or a holiday -> the next session. Early closes (e.g. the day after Thanksgiving)
    count with their real, earlier close. Naive datetimes are rejected: the stored times are
    UTC and guessing a zone would silently move events across sessions.
    """
    if ts.tzinfo is None or ts.tzinfo.utcoffset(ts) is None:
        raise ValueError(f"naive datetime {ts!r}: pass an aware (UTC) timestamp")
    sessions, closes = _closes(calendar)
    instant = pd.Timestamp(ts).tz_convert("UTC").tz_localize(None).as_unit("ns").value
    pos = int(np.searchsorted(closes, instant, side="right"))
    if instant < pd.Timestamp(CALENDAR_START).as_unit("ns").value:
        raise ValueError(f"{ts.isoformat()} is before the calendar start {CALENDAR_START}")
    if pos >= len(closes):
        raise ValueError(f"{ts.isoformat()} is after the calendar end {CALENDAR_END}")
    return pd.Timestamp(sessions[pos]).date()


def is_session(d: date | str | pd.Timestamp, calendar: str = DEFAULT_CALENDAR) -> bool:
    """True when the exchange held a regular session on that date."""
    sessions, _ = _closes(calendar)
    day = np.datetime64(_as_date(d), "D")
    pos = int(np.searchsorted(sessions, day))
    return pos < len(sessions) and sessions[pos] == day


def session_close(d: date | str | pd.Timestamp, calendar: str = DEFAULT_CALENDAR) -> datetime:
    """The session's close as an aware UTC datetime (early closes honoured)."""
    if not is_session(d, calendar):
        raise ValueError(f"{_as_date(d)} is not a {calendar} session")
    close = _calendar(calendar).session_close(pd.Timestamp(_as_date(d)))
    result: datetime = pd.Timestamp(close).tz_convert("UTC").to_pydatetime()
    return result


def sessions_between(
    start: date | str | pd.Timestamp,
    end: date | str | pd.Timestamp,
    calendar: str = DEFAULT_CALENDAR,
) -> list[date]:
    """All sessions from start to end, both included."""
    sessions, _ = _closes(calendar)
    lo = np.datetime64(_as_date(start), "D")
    hi = np.datetime64(_as_date(end), "D")
    chosen = sessions[(sessions >= lo) & (sessions <= hi)]
    return [pd.Timestamp(s).date() for s in chosen]


def closes_after(instants: pd.DatetimeIndex, calendar: str = DEFAULT_CALENDAR) -> pd.DatetimeIndex:
    """For each aware instant, the close of the first session closing strictly after it."""
    if instants.tz is None:
        raise ValueError("closes_after needs aware (UTC) instants")
    _, closes = _closes(calendar)
    ns = instants.tz_convert("UTC").tz_localize(None).as_unit("ns").asi8
    pos = np.searchsorted(closes, ns, side="right")
    if len(pos) and pos.max() >= len(closes):
        raise ValueError(f"an instant is after the calendar end {CALENDAR_END}")
    return pd.DatetimeIndex(closes[pos].astype("datetime64[ns]")).tz_localize("UTC")


def session_open(d: date | str | pd.Timestamp, calendar: str = DEFAULT_CALENDAR) -> datetime:
    """The session's open as an aware UTC datetime."""
    if not is_session(d, calendar):
        raise ValueError(f"{_as_date(d)} is not a {calendar} session")
    opened = _calendar(calendar).session_open(pd.Timestamp(_as_date(d)))
    result: datetime = pd.Timestamp(opened).tz_convert("UTC").to_pydatetime()
    return result
