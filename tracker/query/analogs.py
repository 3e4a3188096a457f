"""Historical analogs: earlier events like this one and how a ticker or basket reacted.

"Like this one" means the same kind or a shared theme (``match`` narrows it), first
reported strictly before the event, excluding the event's own cluster (its parent and
children). Reactions are the stored CARs of one model and window: FirmImpact for a
ticker, GroupImpact's CAAR for a basket. Analogs without a stored result are counted in
``unmeasured`` and left out of the distribution, never treated as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from tracker.db.models import Event, EventTheme, EventTicker, FirmImpact, GroupImpact, Instrument
from tracker.errors import UserInputError
from tracker.query.common import (
    ANALOG_WINDOW,
    DEFAULT_MODEL,
    Window,
    check_window,
    field_names,
    find_basket,
    find_event,
    find_instrument,
    to_frame,
)

Match = Literal["kind", "theme", "any"]


@dataclass(frozen=True)
class AnalogRow:
    event_id: int
    slug: str
    title: str
    kind: str
    first_reported_at: datetime
    day0: date | None
    same_kind: bool
    shared_theme: bool
    car: float
    p_value: float | None


@dataclass(frozen=True)
class CarDistribution:
    n: int
    mean: float | None
    median: float | None
    q1: float | None
    q3: float | None
    minimum: float | None
    maximum: float | None
    share_negative: float | None

    @classmethod
    def of(cls, values: list[float]) -> CarDistribution:
        if not values:
            return cls(0, None, None, None, None, None, None, None)
        array = np.asarray(values, dtype=float)
        q1, median, q3 = np.percentile(array, [25, 50, 75])
        return cls(
            n=len(values),
            mean=float(array.mean()),
            median=float(median),
            q1=float(q1),
            q3=float(q3),
            minimum=float(array.min()),
            maximum=float(array.max()),
            share_negative=float((array < 0).mean()),
        )


@dataclass(frozen=True)
class Analogs:
    event_id: int
    event_slug: str
    event_title: str
    target: str  # ticker or basket slug
    target_kind: Literal["ticker", "basket"]
    model: str
    window: Window
    match: Match
    rows: tuple[AnalogRow, ...]
    unmeasured: int
    distribution: CarDistribution

    def summary(self) -> str:
        """One line, e.g. ``events like this, n = 7: median CAR[0,+5] of NVDA -4.1%``."""
        label = "CAAR" if self.target_kind == "basket" else "CAR"
        window = f"[{self.window[0]:+d},{self.window[1]:+d}]".replace("+0", "0")
        head = f"events like this, n = {self.distribution.n}"
        if self.distribution.median is None:
            return f"{head}: no stored {label}{window} of {self.target}"
        return (
            f"{head}: median {label}{window} of {self.target} "
            f"{self.distribution.median * 100:+.1f}%"
            f" (mean {self.distribution.mean * 100:+.1f}%,"  # type: ignore[operator]
            f" {self.distribution.share_negative * 100:.0f}% negative)"  # type: ignore[operator]
        )

    def to_frame(self) -> pd.DataFrame:
        return to_frame(self.rows, field_names(AnalogRow))


def _cluster_ids(event: Event) -> ColumnElement[bool]:
    """The event itself, its parent and its siblings/children are not analogs of it."""
    own = [Event.id == event.id, Event.parent_id == event.id]
    if event.parent_id is not None:
        own += [Event.id == event.parent_id, Event.parent_id == event.parent_id]
    return or_(*own)


def find_analogs(
    session: Session,
    event_ref: str | int,
    *,
    ticker: str | None = None,
    basket: str | None = None,
    window: Window = ANALOG_WINDOW,
    model: str = DEFAULT_MODEL,
    match: Match = "any",
    limit: int | None = None,
) -> Analogs:
    """Analogs of ``event_ref`` for ``ticker`` or ``basket`` (default: the event's top ticker).

    ``limit`` keeps the most recent analogs only. NotFoundError for an unknown event,
    ticker or basket; UserInputError when both or neither target can be chosen.
    """
    check_window(window, "--window")
    if ticker and basket:
        raise UserInputError("give --ticker or --basket, not both")
    if match not in ("kind", "theme", "any"):
        raise UserInputError(f"match must be 'kind', 'theme' or 'any', got {match!r}")
    event = find_event(session, event_ref)
    theme_ids = list(
        session.scalars(select(EventTheme.theme_id).where(EventTheme.event_id == event.id))
    )
    same_kind = Event.kind == event.kind
    shared_theme = Event.id.in_(
        select(EventTheme.event_id).where(EventTheme.theme_id.in_(theme_ids))
    )
    likeness = {"kind": same_kind, "theme": shared_theme, "any": or_(same_kind, shared_theme)}
    conditions = [
        likeness[match],
        Event.first_reported_at < event.first_reported_at,
        ~_cluster_ids(event),
    ]

    target_kind: Literal["ticker", "basket"]
    if basket:
        target_basket = find_basket(session, basket)
        target, target_kind = target_basket.slug, "basket"
        value: Any = GroupImpact.caar
        p_value: Any = GroupImpact.statistics
        join = and_(
            GroupImpact.event_id == Event.id,
            GroupImpact.basket_id == target_basket.id,
            GroupImpact.model == model,
            GroupImpact.window_start == window[0],
            GroupImpact.window_end == window[1],
        )
        impact_table = GroupImpact
    else:
        instrument = find_instrument(session, ticker) if ticker else _top_ticker(session, event)
        target, target_kind = instrument.ticker, "ticker"
        value, p_value = FirmImpact.car, FirmImpact.car_p
        join = and_(
            FirmImpact.event_id == Event.id,
            FirmImpact.instrument_id == instrument.id,
            FirmImpact.model == model,
            FirmImpact.window_start == window[0],
            FirmImpact.window_end == window[1],
        )
        impact_table = FirmImpact  # type: ignore[assignment]

    query = (
        select(Event, value, p_value, same_kind, shared_theme)
        .outerjoin(impact_table, join)
        .where(*conditions)
        .order_by(Event.first_reported_at.desc(), Event.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    rows: list[AnalogRow] = []
    unmeasured = 0
    for analog, car, p_raw, is_same_kind, has_theme in session.execute(query):
        if car is None:
            unmeasured += 1
            continue
        # a group impact keeps its p-values among its statistics
        p = p_raw.get("p_value") if isinstance(p_raw, dict) else p_raw
        rows.append(
            AnalogRow(
                event_id=analog.id,
                slug=analog.slug,
                title=analog.title,
                kind=analog.kind,
                first_reported_at=analog.first_reported_at,
                day0=analog.day0,
                same_kind=bool(is_same_kind),
                shared_theme=bool(has_theme),
                car=float(car),
                p_value=float(p) if isinstance(p, int | float) else None,
            )
        )
    return Analogs(
        event_id=event.id,
        event_slug=event.slug,
        event_title=event.title,
        target=target,
        target_kind=target_kind,
        model=model,
        window=window,
        match=match,
        rows=tuple(rows),
        unmeasured=unmeasured,
        distribution=CarDistribution.of([row.car for row in rows]),
    )


def _top_ticker(session: Session, event: Event) -> Instrument:
    instrument = session.scalars(
        select(Instrument)
        .join(EventTicker, EventTicker.instrument_id == Instrument.id)
        .where(EventTicker.event_id == event.id)
        .order_by(EventTicker.relevance.desc(), Instrument.ticker)
    ).first()
    if instrument is None:
        raise UserInputError(f"event {event.slug!r} has no tickers: give --ticker or --basket")
    return instrument
