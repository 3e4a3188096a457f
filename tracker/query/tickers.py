"""A ticker's largest abnormal moves, the events linked to them, and moves with no event.

A move is one session's abnormal return: the stored [0,0] CAR of the default model. Event
moves come only from stored event-study results (FirmImpact), so they carry the
engine's t and p. Days with no event have no stored result; their abnormal returns come
from an ``abnormal_returns`` provider: by default market-adjusted returns (IMPACT_SPEC
section 3, ``market_adjusted``: R_it - R_mt) of the stored daily bars, labelled as such.
The measure stage's day-AR function can be passed instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.config import get_settings
from tracker.db.models import DailyBar, Event, EventTicker, FirmImpact, Instrument
from tracker.errors import UserInputError
from tracker.query.attribution import primary_catalysts
from tracker.query.common import DEFAULT_MODEL, MOVE_WINDOW, check_stored_model, find_instrument

AbnormalReturns = Callable[[Session, Instrument], "pd.Series[float]"]
"""Daily abnormal returns of an instrument, indexed by trading date."""


@dataclass(frozen=True)
class LinkedEvent:
    id: int
    slug: str
    title: str
    kind: str


@dataclass(frozen=True)
class TickerMove:
    """One session's abnormal return on an event day, and the events measured on it."""

    day0: date
    abnormal_return: float
    t_stat: float | None
    p_value: float | None
    raw_return: float | None
    events: tuple[LinkedEvent, ...]
    # the move's primary catalyst (tracker.measure.attribution) and the day's BH q-value
    primary: LinkedEvent | None = None
    q_value: float | None = None


@dataclass(frozen=True)
class UnexplainedMove:
    """A large abnormal return on a day with no event linked to the ticker."""

    date: date
    abnormal_return: float


@dataclass(frozen=True)
class TickerMoves:
    ticker: str
    model: str
    moves: tuple[TickerMove, ...]
    unexplained_model: str
    unexplained: tuple[UnexplainedMove, ...]

    def moves_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "day0": move.day0,
                    "abnormal_return": move.abnormal_return,
                    "t_stat": move.t_stat,
                    "p_value": move.p_value,
                    "raw_return": move.raw_return,
                    "primary": move.primary.title if move.primary else None,
                    "primary_id": move.primary.id if move.primary else None,
                    "events": "; ".join(event.title for event in move.events),
                    "event_ids": [event.id for event in move.events],
                }
                for move in self.moves
            ],
            columns=[
                "day0",
                "abnormal_return",
                "t_stat",
                "p_value",
                "raw_return",
                "primary",
                "primary_id",
                "events",
                "event_ids",
            ],
        )


def _closes(session: Session, instrument_id: int) -> pd.Series[float]:
    # streamed into lists, not held as Row objects (see ``tracker.query.prices``)
    days: list[date] = []
    closes: list[float] = []
    for day, close in session.execute(
        select(DailyBar.date, func.coalesce(DailyBar.adj_close, DailyBar.close))
        .where(DailyBar.instrument_id == instrument_id)
        .order_by(DailyBar.date)
    ):
        days.append(day)
        closes.append(close)
    return pd.Series(closes, index=days, dtype=float)


def market_adjusted_returns(session: Session, instrument: Instrument) -> pd.Series[float]:
    """R_it - R_mt from stored adjusted closes, against the configured benchmark."""
    benchmark = session.scalars(
        select(Instrument).where(Instrument.ticker == get_settings().benchmark)
    ).first()
    if benchmark is None:
        return pd.Series(dtype=float)
    own, market = _closes(session, instrument.id), _closes(session, benchmark.id)
    common = own.index.intersection(market.index)
    if len(common) < 2:
        return pd.Series(dtype=float)
    returns = own[common].pct_change() - market[common].pct_change()
    return returns.iloc[1:]


def _event_moves(
    session: Session, instrument: Instrument, model: str, top: int
) -> tuple[TickerMove, ...]:
    base = select(FirmImpact.day0, FirmImpact.car).where(
        FirmImpact.instrument_id == instrument.id,
        FirmImpact.model == model,
        FirmImpact.window_start == MOVE_WINDOW[0],
        FirmImpact.window_end == MOVE_WINDOW[1],
        FirmImpact.car.is_not(None),
        FirmImpact.day0.is_not(None),
    )
    batch = max(top * 8, 64)
    while True:
        low = session.execute(base.order_by(FirmImpact.car.asc()).limit(batch)).all()
        high = session.execute(base.order_by(FirmImpact.car.desc()).limit(batch)).all()
        complete = len(low) < batch
        bound = 0.0 if complete else max(abs(low[-1][1] or 0.0), abs(high[-1][1] or 0.0))
        best: dict[date, float] = {}
        for day, car in (*low, *high):
            if day is not None and car is not None and abs(car) >= bound:
                best[day] = car
        days = sorted(best, key=lambda day: -abs(best[day]))[:top]
        if len(days) == top or complete:
            break
        batch *= 4
    if not days:
        return ()
    rows = session.execute(
        select(FirmImpact, Event)
        .join(Event, Event.id == FirmImpact.event_id)
        .where(
            FirmImpact.instrument_id == instrument.id,
            FirmImpact.model == model,
            FirmImpact.window_start == MOVE_WINDOW[0],
            FirmImpact.window_end == MOVE_WINDOW[1],
            FirmImpact.day0.in_(days),
        )
        .order_by(Event.first_reported_at, Event.id)
    ).all()
    by_day: dict[date, list[tuple[FirmImpact, Event]]] = {}
    for impact, event in rows:
        assert impact.day0 is not None
        by_day.setdefault(impact.day0, []).append((impact, event))
    moves = []
    primaries = primary_catalysts(session, [instrument.id], days, model)
    for day in days:
        linked = by_day.get(day, [])
        if not linked:
            continue
        first = linked[0][0]
        primary = primaries.get((instrument.id, day))
        kinds = {e.id: e.kind for _i, e in linked}
        moves.append(
            TickerMove(
                day0=day,
                abnormal_return=best[day],
                t_stat=first.car_t,
                p_value=first.car_p,
                raw_return=first.raw_return,
                events=tuple(LinkedEvent(e.id, e.slug, e.title, e.kind) for _i, e in linked),
                primary=LinkedEvent(
                    primary.id, primary.slug, primary.title, kinds.get(primary.id, "")
                )
                if primary is not None
                else None,
                q_value=next(
                    (i.q_value for i, e in linked if primary is not None and e.id == primary.id),
                    first.q_value,
                ),
            )
        )
    return tuple(moves)


def _event_days(session: Session, instrument: Instrument) -> set[date]:
    """Every day an event linked to the ticker (or measured on it) falls on."""
    days = set(
        session.scalars(
            select(Event.day0)
            .join(EventTicker, EventTicker.event_id == Event.id)
            .where(EventTicker.instrument_id == instrument.id, Event.day0.is_not(None))
        )
    )
    days.update(
        session.scalars(
            select(FirmImpact.day0)
            .where(FirmImpact.instrument_id == instrument.id, FirmImpact.day0.is_not(None))
            .distinct()
        )
    )
    return {day for day in days if day is not None}


def ticker_moves(
    session: Session,
    ticker: str,
    *,
    top: int = 10,
    model: str = DEFAULT_MODEL,
    abnormal_returns: AbnormalReturns | None = None,
    unexplained_model: str = "market_adjusted",
) -> TickerMoves:
    """The ``top`` largest |AR| event days of ``ticker`` and the ``top`` largest without event.

    ``model`` must be a stored model (event moves are stored results). NotFoundError for
    an unknown ticker; empty tuples when nothing is stored yet.
    """
    if not 1 <= top <= 1000:
        raise UserInputError(f"--top must be between 1 and 1000, got {top}")
    check_stored_model(model)
    instrument = find_instrument(session, ticker)
    moves = _event_moves(session, instrument, model, top)
    provider = abnormal_returns or market_adjusted_returns
    series = provider(session, instrument)
    unexplained: tuple[UnexplainedMove, ...] = ()
    if len(series):
        event_days = _event_days(session, instrument)
        quiet = series[[day not in event_days for day in series.index]]
        largest = quiet.abs().sort_values(ascending=False).index[:top]
        unexplained = tuple(UnexplainedMove(day, float(series[day])) for day in largest)
    return TickerMoves(instrument.ticker, model, moves, unexplained_model, unexplained)
