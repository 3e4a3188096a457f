"""Which events, tickers and baskets are measured, and each event's day 0.

The basket rule: every basket linked to the event through EventTheme -> ThemeBasket, plus
every basket holding at least two of the event's tickers. A group's members are the event's
own tickers (EventTicker) that are in the basket: the linker already adds a theme's exposed
tickers to the event, and a ticker the event is not linked to is not part of what the event is
measured on. A theme-linked basket with none of the event's tickers has no group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import (
    Basket,
    BasketMember,
    Event,
    EventTheme,
    EventTicker,
    Instrument,
    ThemeBasket,
)
from tracker.errors import NotFoundError
from tracker.impact.calendar import first_affected_session
from tracker.impact.study import EventRequest

MIN_SHARED_TICKERS = 2  # a basket holding this many of an event's tickers becomes its group


@dataclass
class EventPlan:
    """One event as the engine sees it."""

    event_id: int
    slug: str
    day0: date
    store_day0: bool  # day 0 was computed now and must be saved
    tickers: dict[str, int]  # ticker -> instrument id
    baskets: dict[str, tuple[int, list[str]]]  # slug -> (basket id, member tickers)

    @property
    def key(self) -> str:
        return str(self.event_id)

    def requests(self) -> list[EventRequest]:
        return [EventRequest(self.key, ticker, self.day0) for ticker in sorted(self.tickers)]

    def group_name(self, basket: str) -> str:
        return f"{self.event_id}\t{basket}"

    def group_members(self, basket: str) -> list[tuple[str, str]]:
        return [(self.key, ticker) for ticker in self.baskets[basket][1]]


def event_timestamp(event: Event) -> datetime:
    """When the news became public: the earlier of occurrence and first report."""
    if event.occurred_at is not None and event.occurred_at < event.first_reported_at:
        return event.occurred_at
    return event.first_reported_at


def event_day0(event: Event, calendar: str) -> date:
    """The stored day 0, else the first session closing after the event became public."""
    if event.day0 is not None:
        return event.day0
    return first_affected_session(event_timestamp(event), calendar)


def basket_memberships(session: Session) -> dict[str, tuple[int, set[str]]]:
    """Every basket: slug -> (id, member tickers)."""
    out: dict[str, tuple[int, set[str]]] = {}
    for basket_id, slug in session.execute(select(Basket.id, Basket.slug)):
        out[slug] = (basket_id, set())
    rows = session.execute(
        select(Basket.slug, Instrument.ticker)
        .join(BasketMember, BasketMember.basket_id == Basket.id)
        .join(Instrument, Instrument.id == BasketMember.instrument_id)
    )
    for slug, ticker in rows:
        out[slug][1].add(ticker)
    return out


def theme_baskets(session: Session, event_ids: Sequence[int]) -> dict[int, set[str]]:
    """Event id -> slugs of the baskets linked to it through its themes."""
    rows = session.execute(
        select(EventTheme.event_id, Basket.slug)
        .join(ThemeBasket, ThemeBasket.theme_id == EventTheme.theme_id)
        .join(Basket, Basket.id == ThemeBasket.basket_id)
        .where(EventTheme.event_id.in_(event_ids))
    )
    out: dict[int, set[str]] = {}
    for event_id, slug in rows:
        out.setdefault(event_id, set()).add(slug)
    return out


def event_tickers(session: Session, event_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Event id -> {ticker: instrument id} of its EventTicker rows."""
    rows = session.execute(
        select(EventTicker.event_id, Instrument.ticker, Instrument.id)
        .join(Instrument, Instrument.id == EventTicker.instrument_id)
        .where(EventTicker.event_id.in_(event_ids))
    )
    out: dict[int, dict[str, int]] = {}
    for event_id, ticker, instrument_id in rows:
        out.setdefault(event_id, {})[ticker] = instrument_id
    return out


def baskets_for_event(
    tickers: set[str], linked: set[str], memberships: dict[str, tuple[int, set[str]]]
) -> dict[str, tuple[int, list[str]]]:
    """The event's groups under the documented rule (see the module docstring)."""
    out: dict[str, tuple[int, list[str]]] = {}
    for slug, (basket_id, members) in sorted(memberships.items()):
        shared = sorted(members & tickers)
        if shared and (slug in linked or len(shared) >= MIN_SHARED_TICKERS):
            out[slug] = (basket_id, shared)
    return out


def load_events(session: Session, event_ids: Sequence[int] | None) -> list[Event]:
    query = select(Event).order_by(Event.id)
    if event_ids is not None:
        query = query.where(Event.id.in_(list(event_ids)))
    events = list(session.scalars(query))
    if event_ids is not None:
        missing = sorted(set(event_ids) - {event.id for event in events})
        if missing:
            raise NotFoundError(f"no event with id {', '.join(map(str, missing))}")
    return events


def known_tickers(session: Session, tickers: Sequence[str]) -> list[str]:
    """``tickers`` upper-cased; NotFoundError naming the ones no instrument has."""
    wanted = list(dict.fromkeys(t.strip().upper() for t in tickers if t.strip()))
    found = set(session.scalars(select(Instrument.ticker).where(Instrument.ticker.in_(wanted))))
    missing = [t for t in wanted if t not in found]
    if missing:
        raise NotFoundError(f"unknown ticker {', '.join(missing)}")
    return wanted
