"""Intraday reaction around a news timestamp, from bars labelled by their UTC start.

The move is measured from the last bar close at or before the event to the price as of
+30 minutes, +1 hour and the session close after it. "Price as of T" is the close of the last
bar that ended at or before T, so the resolution is the bar interval (hourly bars: the +30 min
figure is the first bar close after the event). A bar ends at start + interval or at its
session's close, whichever comes first (the last hourly bar of an NYSE day is 30 minutes).
For news outside trading hours the horizons start at the next session's open.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from tracker.impact.calendar import (
    DEFAULT_CALENDAR,
    closes_after,
    first_affected_session,
    session_close,
    session_open,
)

HORIZONS: tuple[tuple[str, timedelta | None], ...] = (
    ("30m", timedelta(minutes=30)),
    ("1h", timedelta(hours=1)),
    ("close", None),
)


@dataclass(frozen=True)
class IntradayReaction:
    ticker: str
    benchmark: str | None
    event_ts: datetime
    status: str  # ok | partial (some horizon not covered) | no_bars
    base_time: datetime | None  # end of the bar whose close is the pre-event price
    base_price: float
    returns: dict[str, float]  # horizon -> simple return from base_price
    benchmark_returns: dict[str, float]
    excess_returns: dict[str, float]  # returns minus benchmark returns


def _bars(frame: pd.DataFrame) -> pd.DataFrame:
    """Index the bars by their UTC start; accepts a 'timestamp' column or a DatetimeIndex."""
    bars = frame.set_index("timestamp") if "timestamp" in frame.columns else frame
    index = pd.DatetimeIndex(pd.to_datetime(bars.index, utc=True))
    return bars.set_axis(index).sort_index()


def _ns(t: datetime | pd.Timestamp) -> int:
    return int(pd.Timestamp(t).tz_convert("UTC").as_unit("ns").value)


def _prices_as_of(
    bars: pd.DataFrame, times: list[pd.Timestamp], interval: timedelta, calendar: str
) -> tuple[list[float], list[pd.Timestamp | None]]:
    """Close of the last bar ending at or before each time, and that bar's end."""
    starts = pd.DatetimeIndex(bars.index)
    ends = (starts + pd.Timedelta(interval)).as_unit("ns").asi8
    ends = np.minimum(ends, closes_after(starts, calendar).as_unit("ns").asi8)
    order = np.argsort(ends, kind="stable")
    ends_sorted = ends[order]
    closes = bars["close"].to_numpy(dtype=np.float64)[order]
    prices: list[float] = []
    stamps: list[pd.Timestamp | None] = []
    for t in times:  # a handful of horizons, not a loop over data
        pos = int(np.searchsorted(ends_sorted, _ns(t), side="right"))
        if pos == 0:
            prices.append(math.nan)
            stamps.append(None)
        else:
            prices.append(float(closes[pos - 1]))
            stamps.append(pd.Timestamp(int(ends_sorted[pos - 1]), tz="UTC"))
    return prices, stamps


def intraday_reaction(
    bars: pd.DataFrame,
    event_ts: datetime,
    benchmark_bars: pd.DataFrame | None = None,
    interval: timedelta = timedelta(hours=1),
    ticker: str = "",
    benchmark: str | None = None,
    calendar: str = DEFAULT_CALENDAR,
) -> IntradayReaction:
    """Moves at +30 min, +1 h and the session close after event_ts, raw and minus the benchmark.

    A horizon is covered only when a bar of the affected session ended after the event and at
    or before the horizon; otherwise its value is NaN and the status says so.
    """
    if event_ts.tzinfo is None or event_ts.tzinfo.utcoffset(event_ts) is None:
        raise ValueError("event_ts must be an aware (UTC) datetime")
    session = first_affected_session(event_ts, calendar)
    start = max(pd.Timestamp(event_ts), pd.Timestamp(session_open(session, calendar)))
    close = pd.Timestamp(session_close(session, calendar))
    targets = [
        close if delta is None else min(start + pd.Timedelta(delta), close) for _, delta in HORIZONS
    ]
    times = [pd.Timestamp(event_ts), *targets]

    def moves(frame: pd.DataFrame | None) -> tuple[float, pd.Timestamp | None, dict[str, float]]:
        if frame is None or len(frame) == 0:
            return math.nan, None, {name: math.nan for name, _ in HORIZONS}
        prices, stamps = _prices_as_of(_bars(frame), times, interval, calendar)
        base = prices[0]
        out = {}
        for (name, _), price, stamp in zip(HORIZONS, prices[1:], stamps[1:], strict=True):
            # covered: a bar of the affected session ended after the reaction started
            covered = stamp is not None and stamp > start and math.isfinite(base)
            out[name] = price / base - 1.0 if covered else math.nan
        return base, stamps[0], out

    base, base_time, raw = moves(bars)
    _, _, bench = moves(benchmark_bars)
    excess = {k: raw[k] - bench[k] for k in raw}
    covered = [math.isfinite(v) for v in raw.values()]
    status = "ok" if all(covered) else ("partial" if any(covered) else "no_bars")
    return IntradayReaction(
        ticker=ticker,
        benchmark=benchmark,
        event_ts=event_ts,
        status=status,
        base_time=None if base_time is None else base_time.to_pydatetime(),
        base_price=base,
        returns=raw,
        benchmark_returns=bench,
        excess_returns=excess,
    )
