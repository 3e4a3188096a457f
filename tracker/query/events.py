"""Events by date, text, entity, ticker, basket, kind, origin and measured impact.

Impact filters and the impact sort read the stored event-study results (FirmImpact) of one
model and window; when a ticker or basket filter is given they consider only that ticker's
(or the basket members') results, so "events where NVDA moved more than 5%" means NVDA.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import pandas as pd
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from tracker.db.models import (
    BasketMember,
    Entity,
    EntityAlias,
    Event,
    EventArticle,
    EventEntity,
    EventTicker,
    FirmImpact,
    GroupImpact,
    Instrument,
)
from tracker.errors import NotFoundError, UserInputError
from tracker.query import search
from tracker.query.common import (
    DEFAULT_ALPHA,
    DEFAULT_MODEL,
    DEFAULT_WINDOW,
    Window,
    check_kind,
    check_stored_model,
    check_stored_window,
    day_after,
    day_start,
    field_names,
    find_basket,
    find_instrument,
    find_story,
    to_frame,
)
from tracker.query.search import (
    count_matching_articles,
    event_matches,
    is_common,
    matching_article_ids,
    matching_event_ids,
    parse_search_text,
)

SortKey = Literal["importance", "time", "impact"]
SORT_KEYS = ("importance", "time", "impact")
ORIGINS = ("curated", "detected")
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class EventFilter:
    """What to look for; every given criterion must hold (AND)."""

    text: str | None = None
    start: date | None = None  # first reported on or after this UTC day
    end: date | None = None  # first reported on or before this UTC day
    entity: str | None = None  # slug, name or any alias, case-insensitive
    ticker: str | None = None
    basket: str | None = None
    kind: str | None = None
    origin: str | None = None  # curated | detected
    min_abs_car: float | None = None  # |CAR| in ``window`` of at least this (0.05 = 5%)
    # the CAR's Benjamini-Hochberg q-value (across the event's tickers) below ``alpha`` in
    # ``window``: significant after multiple-testing correction, never on the raw p alone
    significant: bool = False
    alpha: float = DEFAULT_ALPHA
    window: Window = DEFAULT_WINDOW
    model: str = DEFAULT_MODEL
    sort: SortKey = "importance"
    limit: int = 50
    story: str | None = None  # story id or slug: that story's events
    # detected events merged into a curated event are listed under it, not beside it
    include_merged: bool = False

    def validated(self) -> EventFilter:
        if self.start and self.end and self.start > self.end:
            raise UserInputError(f"--from {self.start} is after --to {self.end}")
        if self.min_abs_car is not None and not 0 <= self.min_abs_car < math.inf:
            # written so that NaN fails too (every comparison with NaN is false)
            raise UserInputError(f"--min-abs-car must be a number >= 0, got {self.min_abs_car}")
        if not 0 < self.alpha < 1:
            raise UserInputError(f"--alpha must be between 0 and 1, got {self.alpha}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise UserInputError(f"--limit must be between 1 and {MAX_LIMIT}, got {self.limit}")
        if self.sort not in SORT_KEYS:
            raise UserInputError(f"--sort must be one of {', '.join(SORT_KEYS)}, got {self.sort!r}")
        if self.origin is not None and self.origin not in ORIGINS:
            raise UserInputError(f"--origin must be 'curated' or 'detected', got {self.origin!r}")
        if self.kind is not None:
            check_kind(self.kind)
        # the list, its impact filters and the impact sort read stored results only
        check_stored_model(self.model)
        check_stored_window(self.window)
        return self


@dataclass(frozen=True)
class EventSummary:
    """One event of a list, with its largest stored |CAR| in the filter's window."""

    id: int
    slug: str
    title: str
    kind: str
    origin: str
    first_reported_at: datetime
    day0: date | None
    article_count: int
    source_count: int
    top_ticker: str | None
    top_car: float | None
    top_car_p: float | None
    importance: float = 0.0
    story_id: int | None = None
    # Benjamini-Hochberg q-value of the top ticker's p across the event's tickers: what
    # "significant" is read from (the raw p stays beside it)
    top_car_q: float | None = None

    @property
    def max_abs_car(self) -> float | None:
        return None if self.top_car is None else abs(self.top_car)


def _entity_ids(session: Session, name: str) -> list[int]:
    key = name.strip().lower()
    ids = set(
        session.scalars(
            select(Entity.id).where(
                or_(func.lower(Entity.slug) == key, func.lower(Entity.name) == key)
            )
        )
    )
    ids.update(
        session.scalars(select(EntityAlias.entity_id).where(func.lower(EntityAlias.alias) == key))
    )
    if not ids:
        raise NotFoundError(f"unknown entity {name!r} (give a slug, name or alias)")
    return sorted(ids)


@dataclass(frozen=True)
class _Scope:
    """The filter resolved to SQL: conditions on events, and which impacts count."""

    event_conditions: list[ColumnElement[bool]]
    impact_conditions: list[ColumnElement[bool]]
    empty: bool = False


def _impact_conditions(
    session: Session, flt: EventFilter, impact: type[FirmImpact] = FirmImpact
) -> list[ColumnElement[bool]]:
    """Which stored results count: model, window, and the ticker or basket filtered on."""
    conditions: list[ColumnElement[bool]] = [
        impact.model == flt.model,
        impact.window_start == flt.window[0],
        impact.window_end == flt.window[1],
        impact.car.is_not(None),
    ]
    if flt.ticker:
        conditions.append(impact.instrument_id == find_instrument(session, flt.ticker).id)
    elif flt.basket:
        members = select(BasketMember.instrument_id).where(
            BasketMember.basket_id == find_basket(session, flt.basket).id
        )
        conditions.append(impact.instrument_id.in_(members))
    return conditions


def _resolve(session: Session, backend: str, flt: EventFilter) -> _Scope:
    conditions: list[ColumnElement[bool]] = []
    impacts = _impact_conditions(session, flt)
    if flt.text is not None:
        terms = parse_search_text(flt.text)
        if not terms:  # nothing searchable (only punctuation or stop words): nothing matches
            return _Scope([], impacts, empty=True)
        if is_common(session, terms):  # walk events newest-first, check each one's text
            conditions.append(event_matches(backend, terms))
        else:  # collect the matches through the full-text index
            in_articles = select(EventArticle.event_id).where(
                EventArticle.article_id.in_(matching_article_ids(backend, terms))
            )
            event_id: ColumnElement[int] = Event.id.expression
            few = search.SQLITE_FEW_MATCHES
            if backend == "sqlite" and count_matching_articles(session, terms, few) >= few:
                # ``+ 0``: walk events newest-first testing each against the match sets,
                # rather than fetch every matching event by id and sort them all
                event_id = Event.id + 0
            conditions.append(
                or_(event_id.in_(matching_event_ids(backend, terms)), event_id.in_(in_articles))
            )
    if not flt.include_merged:
        conditions.append(Event.parent_id.is_(None))
    if flt.story is not None:
        conditions.append(Event.story_id == find_story(session, flt.story).id)
    if flt.start:
        conditions.append(Event.first_reported_at >= day_start(flt.start))
    if flt.end:
        conditions.append(Event.first_reported_at < day_after(flt.end))
    if flt.kind:
        conditions.append(Event.kind == check_kind(flt.kind))
    if flt.origin:
        conditions.append(Event.origin == flt.origin)
    if flt.entity:
        conditions.append(
            Event.id.in_(
                select(EventEntity.event_id).where(
                    EventEntity.entity_id.in_(_entity_ids(session, flt.entity))
                )
            )
        )
    if flt.ticker:
        instrument = find_instrument(session, flt.ticker)
        conditions.append(
            Event.id.in_(
                select(EventTicker.event_id).where(EventTicker.instrument_id == instrument.id)
            )
        )
    if flt.basket:
        # correlated (EXISTS), not IN: a basket touches a large share of events, so walking
        # events in order and probing each is cheaper than collecting them all. OFFSET 0
        # keeps each probe per event: without it PostgreSQL turns an OR of EXISTS into
        # hashed subplans, i.e. collects every linked event (84 ms on the bench, 20,000
        # of 500,000 event tickers) to test the first 123 events
        basket = find_basket(session, flt.basket)
        per_event = 0 if backend == "postgresql" else None
        members = select(BasketMember.instrument_id).where(BasketMember.basket_id == basket.id)
        linked = (
            select(EventTicker.event_id)
            .where(EventTicker.event_id == Event.id, EventTicker.instrument_id.in_(members))
            .offset(per_event)
            .correlate(Event)
            .exists()
        )
        grouped = (
            select(GroupImpact.id)
            .where(GroupImpact.event_id == Event.id, GroupImpact.basket_id == basket.id)
            .offset(per_event)
            .correlate(Event)
            .exists()
        )
        conditions.append(or_(linked, grouped))
    if flt.min_abs_car is not None or flt.significant:
        conditions.append(_measured_condition(session, flt))
    return _Scope(conditions, impacts)


IMPACT_COLLECT_LIMIT = 1_000
"""Below this many qualifying impacts (on either side of zero), their events are collected
through the (model, window, car, car_p, q_value, event_id) index; from it on, qualifying
events are dense enough that walking events newest-first and probing each one's results
through the (event_id, model, window, car, car_p, q_value) index finds the newest ones
sooner."""


def _measured_condition(session: Session, flt: EventFilter) -> ColumnElement[bool]:
    """Events with a stored result past the |CAR| threshold and/or significant.

    Both forms select the same events; which one is cheaper depends on how many results
    qualify (a high threshold: a few hundred to collect; a low one or ``significant``
    alone: a large share of all events, found among the newest few). The collected ids
    are passed as a list: as a subquery PostgreSQL may still choose to walk every event.
    """
    # an alias: the impact sort joins FirmImpact itself around this condition
    other = aliased(FirmImpact)
    measured = _impact_conditions(session, flt, other)
    if flt.significant:
        measured.append(other.q_value < flt.alpha)
    sides = [measured]
    if flt.min_abs_car is not None:
        sides = [
            [*measured, other.car >= flt.min_abs_car],
            [*measured, other.car <= -flt.min_abs_car],
        ]
    collected: set[int] = set()
    for side in sides:  # each side one range scan of the index, stopped at the limit
        found = list(
            session.scalars(select(other.event_id).where(*side).limit(IMPACT_COLLECT_LIMIT))
        )
        if len(found) >= IMPACT_COLLECT_LIMIT:
            qualifying = or_(*(and_(*condition) for condition in sides))
            probe = select(other.id).where(other.event_id == Event.id, qualifying)
            return probe.correlate(Event).exists()
        collected.update(found)
    return Event.id.in_(sorted(collected))


def _ids_by_importance(session: Session, scope: _Scope, limit: int) -> list[int]:
    query = (
        select(Event.id)
        .where(*scope.event_conditions)
        .order_by(Event.importance.desc(), Event.first_reported_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def _ids_by_time(session: Session, scope: _Scope, limit: int) -> list[int]:
    query = (
        select(Event.id)
        .where(*scope.event_conditions)
        .order_by(Event.first_reported_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


IMPACT_SORT_FEW_EVENTS = 2_000
"""Up to this many events pass the event conditions, the impact sort reads their results
and sorts them; beyond, it reads the (model, window, car) index from both ends."""


def _few_events(session: Session, scope: _Scope) -> bool:
    capped = select(Event.id).where(*scope.event_conditions).limit(IMPACT_SORT_FEW_EVENTS)
    count = session.scalar(select(func.count()).select_from(capped.subquery())) or 0
    return count < IMPACT_SORT_FEW_EVENTS


def _ids_by_impact(
    session: Session, scope: _Scope, limit: int, one_ticker: bool = False
) -> list[int]:
    """Events in descending max |CAR|, read from both ends of the (model, window, car) index.

    Aggregating max |CAR| per event would read every impact of the window. The largest
    |CAR| values are the most negative and the most positive ones, so we read ``batch``
    rows from each end: every unread row lies between the two last values read, so rows
    at least that large are in their final order. Widen until ``limit`` events are certain.
    """
    # event and CAR only: both are in the (model, window, car, car_p, event_id) index, so
    # PostgreSQL reads the index alone (with the row id it also visited every row's page)
    base = (
        select(FirmImpact.event_id, FirmImpact.car)
        .join(Event, Event.id == FirmImpact.event_id)
        .where(*scope.impact_conditions, *scope.event_conditions)
    )
    order: ColumnElement[float | None] = FirmImpact.car.expression
    if scope.event_conditions and not one_ticker and _few_events(session, scope):
        # ``+ 0``: sort the few events' results rather than let the planner walk the whole
        # (model, window, car) index hoping to meet them soon (PostgreSQL: 130 ms vs 9 ms
        # for one kind in one year)
        order = FirmImpact.car + 0
    batch = max(limit * 4, 64)
    while True:
        low = session.execute(base.order_by(order.asc()).limit(batch)).all()
        high = session.execute(base.order_by(order.desc()).limit(batch)).all()
        complete = len(low) < batch
        # car IS NOT NULL is among the impact conditions; a row read from both ends counts
        # once (as would two results of one event with the same CAR: one event, one value)
        rows = dict.fromkeys((row[0], float(row[1] or 0.0)) for row in (*low, *high))
        bound = 0.0 if complete else max(abs(low[-1][1] or 0.0), abs(high[-1][1] or 0.0))
        ids = _distinct_events_by_magnitude(rows, bound, limit)
        if len(ids) == limit or complete:
            return ids
        batch *= 4


def _distinct_events_by_magnitude(
    rows: Iterable[tuple[int, float]], bound: float, limit: int
) -> list[int]:
    """Up to ``limit`` distinct event ids by descending |car|, among rows with |car| >= bound."""
    ids: list[int] = []
    seen: set[int] = set()
    for event_id, car in sorted(rows, key=lambda row: -abs(row[1])):
        if abs(car) < bound:
            break
        if event_id not in seen:
            seen.add(event_id)
            ids.append(event_id)
            if len(ids) == limit:
                break
    return ids


def _summaries(session: Session, ids: list[int], scope: _Scope) -> list[EventSummary]:
    if not ids:
        return []
    events = {event.id: event for event in session.scalars(select(Event).where(Event.id.in_(ids)))}
    return event_summaries(session, [events[i] for i in ids], scope.impact_conditions)


def event_summaries(
    session: Session,
    events: Sequence[Event],
    impact_conditions: Sequence[ColumnElement[bool]],
) -> list[EventSummary]:
    """``events`` in their order, each with its largest stored |CAR| among the results that
    ``impact_conditions`` select (ties: the first ticker in alphabetical order)."""
    ids = [event.id for event in events]
    tops: dict[int, tuple[str | None, float | None, float | None, float | None]] = {}
    if ids:
        rows = session.execute(
            select(
                FirmImpact.event_id,
                Instrument.ticker,
                FirmImpact.car,
                FirmImpact.car_p,
                FirmImpact.q_value,
            )
            .join(Instrument, Instrument.id == FirmImpact.instrument_id)
            .where(FirmImpact.event_id.in_(ids), *impact_conditions)
            .order_by(FirmImpact.event_id, Instrument.ticker)
        )
        for event_id, symbol, value, p_value, q_value in rows:
            best = tops.get(event_id)
            if value is not None and (best is None or abs(value) > abs(best[1] or 0.0)):
                tops[event_id] = (symbol, value, p_value, q_value)
    out = []
    for event in events:
        ticker, car, car_p, car_q = tops.get(event.id, (None, None, None, None))
        out.append(
            EventSummary(
                id=event.id,
                slug=event.slug,
                title=event.title,
                kind=event.kind,
                origin=event.origin,
                first_reported_at=event.first_reported_at,
                day0=event.day0,
                article_count=event.article_count,
                source_count=event.source_count,
                top_ticker=ticker,
                top_car=car,
                top_car_p=car_p,
                importance=event.importance,
                story_id=event.story_id,
                top_car_q=car_q,
            )
        )
    return out


def search_events(session: Session, flt: EventFilter | None = None) -> list[EventSummary]:
    """Events matching ``flt``, most important first (``tracker.measure.importance``), newest
    first or largest |CAR| first; [] when none match. Detected events merged into a curated
    one are left out unless ``include_merged``: the curated event stands for them.

    Unknown tickers, baskets or entities raise NotFoundError; invalid criteria raise
    UserInputError (both are one-line messages for the user).
    """
    flt = (flt or EventFilter()).validated()
    backend = session.get_bind().dialect.name
    scope = _resolve(session, backend, flt)
    if scope.empty:
        return []
    if flt.sort == "impact":
        # one ticker's results are a short stretch of its (instrument, model, window, car)
        # index: walking it beats sorting even for a few events
        ids = _ids_by_impact(session, scope, flt.limit, one_ticker=bool(flt.ticker))
    elif flt.sort == "importance":
        ids = _ids_by_importance(session, scope, flt.limit)
    else:
        ids = _ids_by_time(session, scope, flt.limit)
    return _summaries(session, ids, scope)


def events_frame(session: Session, flt: EventFilter | None = None) -> pd.DataFrame:
    """``search_events`` as a DataFrame (one row per event, fixed columns)."""
    return to_frame(search_events(session, flt), field_names(EventSummary))
