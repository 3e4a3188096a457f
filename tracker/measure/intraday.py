"""Intraday reaction of an event's tickers, where intraday bars are stored."""

from __future__ import annotations

from datetime import timedelta

from tracker.config import Settings
from tracker.db import Database
from tracker.db.models import Event
from tracker.errors import NotFoundError
from tracker.impact import intraday as intraday_engine
from tracker.measure.events import event_tickers, event_timestamp
from tracker.measure.inputs import interval_length, load_intraday_bars

INTRADAY_LOOKAROUND = timedelta(days=7)  # covers the last bar before and a long weekend after


def intraday_reaction(
    db: Database, settings: Settings, event_id: int
) -> list[intraday_engine.IntradayReaction]:
    """Intraday moves (+30 min, +1 h, close) of the event's tickers that have intraday bars.

    Measured from the moment the news became public, raw and minus the benchmark's move over
    the same bars (when the benchmark has bars of the same interval). Tickers without
    intraday bars are left out: the recorded data holds hourly SPY and QQQ only.
    """
    with db.session() as session:
        event = session.get(Event, event_id)
        if event is None:
            raise NotFoundError(f"no event with id {event_id}")
        moment = event_timestamp(event)
        start, end = moment - INTRADAY_LOOKAROUND, moment + INTRADAY_LOOKAROUND
        tickers = sorted(event_tickers(session, [event_id]).get(event_id, {}))
        bench_bars, bench_interval = load_intraday_bars(session, settings.benchmark, start, end)
        bars_by_ticker = {t: load_intraday_bars(session, t, start, end) for t in tickers}
    reactions = []
    for ticker, (bars, interval) in bars_by_ticker.items():
        if interval is None:
            continue
        same_interval = bench_interval == interval and ticker != settings.benchmark
        reactions.append(
            intraday_engine.intraday_reaction(
                bars,
                moment,
                benchmark_bars=bench_bars if same_interval else None,
                interval=interval_length(interval),
                ticker=ticker,
                benchmark=settings.benchmark if same_interval else None,
                calendar=settings.calendar,
            )
        )
    return reactions
