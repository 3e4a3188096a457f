"""What a day's digest says, as plain typed values, and how it is read from the tracker.

The digest computes no statistic of its own: every number here comes from the query layer
(``tracker.query``) and the one impact engine (``tracker.measure``), so the e-mail, the
dashboard and the CLI can never disagree. Rendering (``render.py``) only formats these values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.db import Database
from tracker.errors import UserInputError
from tracker.impact.calendar import first_affected_session, sessions_between
from tracker.measure.daily import daily_abnormal_returns
from tracker.measure.events import basket_memberships
from tracker.query import (
    DEFAULT_ALPHA,
    DEFAULT_MODEL,
    MOVE_WINDOW,
    EventDetail,
    EventFilter,
    EventSummary,
    get_event_detail,
    search_events,
)
from tracker.query.common import find_basket

MAX_EVENTS = 5
MAX_MOVERS = 8
MAX_TICKERS_SHOWN = 8  # per event, in the e-mail's tables (the chart shows all)


@dataclass(frozen=True)
class TickerMove:
    """One ticker on the digest's day: its raw move and its abnormal return with significance."""

    ticker: str
    day_move: float | None
    abnormal_return: float | None
    p_value: float | None
    significant: bool
    name: str = ""
    value_change: float | None = None  # dollars; None without a share count


@dataclass(frozen=True)
class DigestEvent:
    """An event of the day with the tickers exposed to it, strongest reaction first."""

    title: str
    first_reported_at: datetime
    source_count: int
    slug: str
    url: str | None
    tickers: list[TickerMove] = field(default_factory=list)

    @property
    def shown_tickers(self) -> list[TickerMove]:
        """The strongest reactions; the rest are one click away on the dashboard."""
        return self.tickers[:MAX_TICKERS_SHOWN]

    @property
    def more_tickers(self) -> int:
        return max(0, len(self.tickers) - MAX_TICKERS_SHOWN)


@dataclass(frozen=True)
class Mover:
    """A watchlist ticker that moved abnormally, with the event linked to it if there is one."""

    move: TickerMove
    event_title: str | None = None
    event_slug: str | None = None


@dataclass(frozen=True)
class BasketSummary:
    """A basket's day: average raw and abnormal move, and its best and worst member."""

    slug: str
    name: str
    members: int
    average_move: float | None
    average_abnormal_return: float | None
    best: TickerMove | None = None
    worst: TickerMove | None = None


@dataclass(frozen=True)
class DigestContent:
    """Everything one digest shows; ``quiet`` means nothing material happened that day."""

    date: date
    events: list[DigestEvent]
    movers_with_event: list[Mover]
    movers_without_catalyst: list[Mover]
    baskets: list[BasketSummary]
    dashboard_url: str
    quiet: bool
    timezone: str = "America/New_York"

    @property
    def headline_event(self) -> DigestEvent | None:
        """The event the subject line and the chart are about (the first, i.e. biggest)."""
        return self.events[0] if self.events else None


def build_digest_content(db: Database, settings: Settings, day: date) -> DigestContent:
    """Read the digest of session ``day`` through the query and measure layers.

    Events are those whose event day 0 is ``day`` (first reported after the previous
    session's close, so each event is in exactly one digest), largest stored day-0 abnormal
    return first, then unmeasured ones by source count. Movers are the watchlist tickers
    whose day-0 abnormal return the engine finds significant, split by whether one of the
    day's events is linked to them; ranked by percent or by dollars
    (``TRACKER_DIGEST_MOVERS_BY``).
    """
    sessions = sessions_between(day - timedelta(days=14), day, settings.calendar)
    if not sessions or sessions[-1] != day:
        raise UserInputError(f"{day.isoformat()} is not a {settings.calendar} trading session")
    previous = sessions[-2] if len(sessions) > 1 else day
    with db.session() as session:
        details = _day_events(session, previous, day, settings.calendar)
        watchlists = _watchlists(session)
        names = {row.ticker: row.name for detail in details for row in detail.tickers}
    daily = daily_abnormal_returns(db, settings, day)
    events = [_digest_event(detail, names) for detail in details]
    linked = _linked_events(details)
    watched = {ticker for _, _, members in watchlists for ticker in members}
    movers = _significant_movers(daily, watched, settings.digest_movers_by)
    with_event = [Mover(move, *linked[move.ticker]) for move in movers if move.ticker in linked]
    without = [Mover(move) for move in movers if move.ticker not in linked]
    return DigestContent(
        date=day,
        events=events[:MAX_EVENTS],
        movers_with_event=with_event[:MAX_MOVERS],
        movers_without_catalyst=without[:MAX_MOVERS],
        baskets=[_basket_summary(slug, name, members, daily) for slug, name, members in watchlists],
        dashboard_url=settings.dashboard_url,
        quiet=not events and not movers,
        timezone=settings.digest_tz,
    )


def _day0(summary: EventSummary, calendar: str) -> date:
    """The stored event day 0, or the calendar's mapping for an event not measured yet."""
    return summary.day0 or first_affected_session(summary.first_reported_at, calendar)


def _day_events(session: Session, previous: date, day: date, calendar: str) -> list[EventDetail]:
    """The day's events: measured ones by impact, then unmeasured ones by source count."""
    base = EventFilter(start=previous, end=day, window=MOVE_WINDOW, limit=500)
    by_impact = search_events(session, replace(base, sort="impact"))
    by_time = search_events(session, replace(base, sort="time"))
    measured = [summary.id for summary in by_impact if _day0(summary, calendar) == day]
    rest = sorted(
        (s for s in by_time if _day0(s, calendar) == day and s.id not in set(measured)),
        key=lambda s: (-s.source_count, -s.article_count, s.first_reported_at),
    )
    return [get_event_detail(session, event_id) for event_id in [*measured, *(s.id for s in rest)]]


def _watchlists(session: Session) -> list[tuple[str, str, set[str]]]:
    """(slug, name, member tickers) of every watchlist basket, by slug."""
    out = []
    for slug, (_, members) in sorted(basket_memberships(session).items()):
        basket = find_basket(session, slug)
        if basket.is_watchlist and members:
            out.append((slug, basket.name, members))
    return out


def _day_moves(detail: EventDetail, names: dict[str, str]) -> list[TickerMove]:
    rows = [
        row
        for row in detail.firm_impacts
        if row.model == DEFAULT_MODEL and (row.window_start, row.window_end) == MOVE_WINDOW
    ]
    rows.sort(key=lambda row: -abs(row.car) if row.car is not None else 0.0)
    return [
        TickerMove(
            ticker=row.ticker,
            day_move=row.raw_return,
            abnormal_return=row.car,
            p_value=row.car_p,
            significant=row.car_p is not None and row.car_p < DEFAULT_ALPHA,
            name=names.get(row.ticker, ""),
            value_change=_finite(row.statistics.get("value_change")),
        )
        for row in rows
    ]


def _digest_event(detail: EventDetail, names: dict[str, str]) -> DigestEvent:
    url = detail.reference_url or next((a.url for a in detail.articles if a.url), None)
    return DigestEvent(
        title=detail.title,
        first_reported_at=detail.first_reported_at,
        source_count=detail.source_count,
        slug=detail.slug,
        url=url,
        tickers=_day_moves(detail, names),
    )


def _linked_events(details: list[EventDetail]) -> dict[str, tuple[str, str]]:
    """Ticker -> (title, slug) of the first (biggest) of the day's events linked to it."""
    linked: dict[str, tuple[str, str]] = {}
    for detail in details:
        for ticker in [row.ticker for row in detail.tickers] + [
            row.ticker for row in detail.firm_impacts
        ]:
            linked.setdefault(ticker, (detail.title, detail.slug))
    return linked


def _move(ticker: str, row: pd.Series) -> TickerMove:
    p_value = _finite(row["p"])
    return TickerMove(
        ticker=ticker,
        day_move=_finite(row["raw_return"]),
        abnormal_return=_finite(row["ar"]),
        p_value=p_value,
        significant=p_value is not None and p_value < DEFAULT_ALPHA,
        value_change=_finite(row.get("value_change")),
    )


def _significant_movers(
    daily: pd.DataFrame, watched: set[str], by: str = "percent"
) -> list[TickerMove]:
    """Watchlist tickers with a significant day-0 abnormal return, largest first.

    ``by="percent"``: largest |AR| first; ``by="dollars"``: largest |value change| first,
    tickers without a share count after those with one (by |AR|).
    """
    moves = [_move(str(ticker), row) for ticker, row in daily.iterrows() if ticker in watched]
    significant = [m for m in moves if m.significant and m.abnormal_return is not None]
    if by == "dollars":
        return sorted(
            significant,
            key=lambda m: (
                m.value_change is None,
                -abs(m.value_change or 0.0),
                -abs(m.abnormal_return or 0.0),
            ),
        )
    return sorted(significant, key=lambda m: -abs(m.abnormal_return or 0.0))


def _basket_summary(slug: str, name: str, members: set[str], daily: pd.DataFrame) -> BasketSummary:
    """Display aggregates of the engine's per-ticker figures (equal-weighted means)."""
    present = daily.loc[daily.index.isin(members)]
    moves = [_move(str(ticker), row) for ticker, row in present.iterrows()]
    with_move = sorted((m for m in moves if m.day_move is not None), key=lambda m: m.day_move or 0)
    return BasketSummary(
        slug=slug,
        name=name,
        members=len(members),
        average_move=_finite(present["raw_return"].astype(float).mean()) if moves else None,
        average_abnormal_return=_finite(present["ar"].astype(float).mean()) if moves else None,
        best=with_move[-1] if with_move else None,
        worst=with_move[0] if with_move else None,
    )


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
