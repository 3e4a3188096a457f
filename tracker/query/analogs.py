"""Historical analogs: earlier events like this one and how a ticker or basket reacted.

"Like this one" means the same kind or a shared theme (``match`` narrows it), first
reported strictly before the event, excluding the event's own cluster (its parent and
children). Reactions are the stored CARs of one model and window: FirmImpact for a
ticker (p-value: the CAR's t-test p), GroupImpact's CAAR for a basket (p-value: ``kp_p``,
the BMP test's p adjusted for cross-sectional correlation by Kolari-Pynnönen). Analogs
without a stored result are counted in ``unmeasured`` and left out of the distribution,
never treated as zero.

Without ``ticker`` or ``basket`` the target is the event's top *measured* ticker: among
its linked tickers with a stored non-null CAR for the model and window, the most relevant,
then the largest |CAR| (a linked ticker without prices cannot be compared).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import CTE, ColumnElement, and_, func, select, union_all
from sqlalchemy.orm import Session

from tracker.db.models import Event, EventTheme, EventTicker, FirmImpact, GroupImpact, Instrument
from tracker.errors import UserInputError
from tracker.query.common import (
    ANALOG_WINDOW,
    DEFAULT_MODEL,
    Window,
    check_stored_model,
    check_stored_window,
    field_names,
    find_basket,
    find_event,
    find_instrument,
    to_frame,
)

Match = Literal["kind", "theme", "any"]


@dataclass(frozen=True, slots=True)
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
    p_value: float | None  # ticker: CAR t-test p; basket: kp_p (Kolari-Pynnönen-adjusted BMP)


GROUP_P_VALUE = "kp_p"
"""The basket p-value analogs report: the BMP test adjusted for cross-correlation (KP)."""


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
    p_value_label: str  # what ``AnalogRow.p_value`` is: "car_p" or "kp_p"
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


def _outside_cluster(event: Event) -> ColumnElement[bool]:
    """Not the event itself, its parent, nor another child of the same root (NULL-safe)."""
    root = event.parent_id if event.parent_id is not None else event.id
    return and_(Event.id.not_in({event.id, root}), func.coalesce(Event.parent_id, 0) != root)


def _candidates(event: Event, theme_ids: list[int], match: Match) -> CTE:
    """Ids of the events like ``event`` (see the module docstring), one row each: the same
    kind through the (kind, first_reported_at, id, parent_id) index, a shared theme
    through the (theme_id, event_id) one, so that neither reads the events table. The
    themed events of another kind are added to those of the same kind, which are
    disjoint, so nothing needs deduplicating."""
    earlier = [Event.first_reported_at < event.first_reported_at, _outside_cluster(event)]
    by_kind = select(Event.id).where(Event.kind == event.kind, *earlier)
    themed = Event.id.in_(select(EventTheme.event_id).where(EventTheme.theme_id.in_(theme_ids)))
    if match == "kind":
        return by_kind.cte("candidates")
    if match == "theme":
        return select(Event.id).where(themed, *earlier).cte("candidates")
    other_kind_themed = select(Event.id).where(Event.kind != event.kind, themed, *earlier)
    return union_all(by_kind, other_kind_themed).cte("candidates")


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
    """Analogs of ``event_ref`` for ``ticker`` or ``basket`` (default: the event's top
    measured ticker, see the module docstring).

    ``limit`` keeps the most recent analogs only. NotFoundError for an unknown event,
    ticker or basket; UserInputError when both targets are given, when none can be chosen,
    or for a model or window that is not stored.
    """
    check_stored_model(model)
    window = check_stored_window(window)
    if ticker and basket:
        raise UserInputError("give --ticker or --basket, not both")
    if match not in ("kind", "theme", "any"):
        raise UserInputError(f"match must be 'kind', 'theme' or 'any', got {match!r}")
    event = find_event(session, event_ref)
    theme_ids = list(
        session.scalars(select(EventTheme.theme_id).where(EventTheme.event_id == event.id))
    )
    candidates = _candidates(event, theme_ids, match)
    same_kind = Event.kind == event.kind
    shared_theme = Event.id.in_(
        select(EventTheme.event_id).where(EventTheme.theme_id.in_(theme_ids))
    )

    target_kind: Literal["ticker", "basket"]
    if basket:
        target_basket = find_basket(session, basket)
        target, target_kind = target_basket.slug, "basket"
        value: Any = GroupImpact.caar
        # a group impact keeps its p-values among its statistics: only kp_p is read
        p_value: Any = GroupImpact.statistics[GROUP_P_VALUE].as_float()
        join = and_(
            GroupImpact.event_id == Event.id,
            GroupImpact.basket_id == target_basket.id,
            GroupImpact.model == model,
            GroupImpact.window_start == window[0],
            GroupImpact.window_end == window[1],
        )
        impact_table = GroupImpact
    else:
        instrument = (
            find_instrument(session, ticker)
            if ticker
            else _top_ticker(session, event, model, window)
        )
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

    # the candidates are collected once, from indexes alone; the measured ones are joined
    # to their stored result and counted in the same pass
    total = select(func.count()).select_from(candidates).scalar_subquery()
    query = (
        select(
            Event.id,
            Event.slug,
            Event.title,
            Event.kind,
            Event.first_reported_at,
            Event.day0,
            value,
            p_value,
            same_kind,
            shared_theme,
            total,
        )
        .select_from(candidates)
        .join(Event, Event.id == candidates.c.id)
        .join(impact_table, join)
        .where(value.is_not(None))
        .order_by(Event.first_reported_at.desc(), Event.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    # rows are streamed, not held as Row objects (see ``tracker.query.prices``)
    rows: list[AnalogRow] = []
    candidate_count: int | None = None
    for (
        analog_id,
        slug,
        title,
        kind,
        reported,
        day0,
        car,
        p,
        is_kind,
        has_theme,
        count,
    ) in session.execute(query):
        candidate_count = count
        rows.append(
            AnalogRow(
                event_id=analog_id,
                slug=slug,
                title=title,
                kind=kind,
                first_reported_at=reported,
                day0=day0,
                same_kind=bool(is_kind),
                shared_theme=bool(has_theme),
                car=float(car),
                p_value=None if p is None else float(p),
            )
        )
    if limit is not None:
        unmeasured = 0
    elif candidate_count is not None:
        unmeasured = candidate_count - len(rows)
    else:  # no row carried the count
        unmeasured = session.scalar(select(func.count()).select_from(candidates)) or 0
    return Analogs(
        event_id=event.id,
        event_slug=event.slug,
        event_title=event.title,
        target=target,
        target_kind=target_kind,
        model=model,
        window=window,
        match=match,
        p_value_label=GROUP_P_VALUE if target_kind == "basket" else "car_p",
        rows=tuple(rows),
        unmeasured=unmeasured,
        distribution=CarDistribution.of([row.car for row in rows]),
    )


def _top_ticker(session: Session, event: Event, model: str, window: Window) -> Instrument:
    """The linked ticker with a stored non-null CAR for ``model`` and ``window``: highest
    relevance first, then largest |CAR|, then ticker (a ticker without one has nothing to
    compare, e.g. a curated AAPL with no prices)."""
    instrument = session.scalars(
        select(Instrument)
        .join(EventTicker, EventTicker.instrument_id == Instrument.id)
        .join(
            FirmImpact,
            and_(
                FirmImpact.event_id == event.id,
                FirmImpact.instrument_id == Instrument.id,
                FirmImpact.model == model,
                FirmImpact.window_start == window[0],
                FirmImpact.window_end == window[1],
            ),
        )
        .where(EventTicker.event_id == event.id, FirmImpact.car.is_not(None))
        .order_by(EventTicker.relevance.desc(), func.abs(FirmImpact.car).desc(), Instrument.ticker)
    ).first()
    if instrument is None:
        label = f"[{window[0]},{window[1]}]"
        raise UserInputError(
            f"event {event.slug!r} has no linked ticker with a stored CAR{label} "
            f"({model}): give --ticker or --basket"
        )
    return instrument
