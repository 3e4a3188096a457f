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
    DEFAULT_MODEL,
    MOVE_WINDOW,
    EventDetail,
    EventFilter,
    EventSummary,
    get_event_detail,
    search_events,
)
from tracker.query.attribution import DayMove, EventRef, event_story, primary_moves_on
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
    significant: bool  # q < the configured FDR level (raw p still shown)
    name: str = ""
    # smallest abnormal move detectable at 5% with 80% power: "not significant" next to a
    # large MDE reads as "too noisy to tell", not "no effect"
    mde: float | None = None
    q_value: float | None = None
    value_change: float | None = None  # market value change where shares are known


@dataclass(frozen=True)
class DigestEvent:
    """An event with the moves attributed to it, strongest reaction first.

    Events come grouped by story: ``story`` names it (None: the event is its own story),
    ``first_of_story`` marks where a story starts, ``story_events`` are the titles of the
    story's other events of the day that no move is attributed to (folded under it), and
    ``attributed_elsewhere`` counts the event's tickers whose move went to another event.
    """

    title: str
    first_reported_at: datetime
    source_count: int
    slug: str
    url: str | None
    tickers: list[TickerMove] = field(default_factory=list)
    story: str | None = None
    first_of_story: bool = True
    story_events: list[str] = field(default_factory=list)
    attributed_elsewhere: int = 0
    origin: str = "detected"

    @property
    def shown_tickers(self) -> list[TickerMove]:
        """The strongest reactions; the rest are one click away on the dashboard."""
        return self.tickers[:MAX_TICKERS_SHOWN]

    @property
    def more_tickers(self) -> int:
        return max(0, len(self.tickers) - MAX_TICKERS_SHOWN)

    @property
    def none_significant(self) -> bool:
        """Moves are attributed to it, but none is significant after the correction: the
        reader is told so, instead of reading the moves as its effect."""
        return bool(self.tickers) and not any(move.significant for move in self.tickers)


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

    Stories, not events, are the unit: each story of the day is listed once, with each of
    its events that a move is attributed to (``tracker.measure.attribution``), and each
    move appears under the one event it is attributed to, largest |abnormal return| first.
    A story leads by its largest significant move; the day's events no move is attributed
    to follow by source count. "Significant" means a Benjamini-Hochberg q-value below
    ``settings.fdr_level`` across all movers of the day (the raw p is still shown).
    Movers are ranked by percent or by dollars (``TRACKER_DIGEST_MOVERS_BY``).
    """
    sessions = sessions_between(day - timedelta(days=14), day, settings.calendar)
    if not sessions or sessions[-1] != day:
        raise UserInputError(f"{day.isoformat()} is not a {settings.calendar} trading session")
    previous = sessions[-2] if len(sessions) > 1 else day
    daily = daily_abnormal_returns(db, settings, day)
    with db.session() as session:
        day_details = _day_events(session, previous, day, settings.calendar)
        watchlists = _watchlists(session)
        attributed = primary_moves_on(session, day, DEFAULT_MODEL)
        known = {detail.id for detail in day_details}
        extra = sorted({m.event.id for m in attributed} - known)
        details = day_details + [get_event_detail(session, event_id) for event_id in extra]
        stories = event_story(session, [detail.id for detail in details])
    names = {row.ticker: row.name for detail in details for row in detail.tickers}
    moves = _attributed_moves(attributed, daily, names, settings.fdr_level)
    events = _story_events(details, moves, attributed, stories)
    watched = {ticker for _, _, members in watchlists for ticker in members}
    movers = _significant_movers(daily, watched, settings.fdr_level, settings.digest_movers_by)
    primary = {m.ticker: m.event for m in attributed}
    with_event = [
        Mover(move, primary[move.ticker].title, primary[move.ticker].slug)
        for move in movers
        if move.ticker in primary
    ]
    without = [Mover(move) for move in movers if move.ticker not in primary]
    return DigestContent(
        date=day,
        events=events,
        movers_with_event=with_event[:MAX_MOVERS],
        movers_without_catalyst=without[:MAX_MOVERS],
        baskets=[
            _basket_summary(slug, name, members, daily, settings.fdr_level)
            for slug, name, members in watchlists
        ],
        dashboard_url=settings.dashboard_url,
        quiet=not events and not movers,
        timezone=settings.digest_tz,
    )


def _attributed_moves(
    attributed: list[DayMove], daily: pd.DataFrame, names: dict[str, str], level: float
) -> dict[int, list[TickerMove]]:
    """Event id -> the moves attributed to it, by |abnormal return| (market value on ties)."""
    out: dict[int, list[TickerMove]] = {}
    for move in attributed:
        row = daily.loc[move.ticker] if move.ticker in daily.index else None
        q_value = _finite(row["q"]) if row is not None else move.q_value
        out.setdefault(move.event.id, []).append(
            TickerMove(
                ticker=move.ticker,
                day_move=_finite(row["raw_return"]) if row is not None else None,
                abnormal_return=move.abnormal_return,
                p_value=move.p_value,
                significant=q_value is not None and q_value < level,
                name=names.get(move.ticker, ""),
                q_value=q_value,
                value_change=_finite(row.get("value_change")) if row is not None else None,
            )
        )
    for rows in out.values():
        rows.sort(
            key=lambda m: (-abs(m.abnormal_return or 0.0), -abs(m.value_change or 0.0), m.ticker)
        )
    return out


def _story_events(
    details: list[EventDetail],
    moves: dict[int, list[TickerMove]],
    attributed: list[DayMove],
    stories: dict[int, EventRef | None],
) -> list[DigestEvent]:
    """The digest's events, story by story (each story once), at most MAX_EVENTS stories."""
    primary = {m.ticker: m.event.id for m in attributed}
    groups: dict[object, list[EventDetail]] = {}
    for detail in details:
        story = stories.get(detail.id)
        groups.setdefault(story.id if story else ("event", detail.id), []).append(detail)

    def strength(detail: EventDetail) -> tuple[float, float]:
        own = moves.get(detail.id, [])
        significant = max((abs(m.abnormal_return or 0.0) for m in own if m.significant), default=0)
        return significant, max((abs(m.abnormal_return or 0.0) for m in own), default=0.0)

    def story_rank(members: list[EventDetail]) -> tuple[float, float, int]:
        best = max(strength(d) for d in members)
        return (-best[0], -best[1], -max(d.source_count for d in members))

    out: list[DigestEvent] = []
    for members in sorted(groups.values(), key=story_rank)[:MAX_EVENTS]:
        story = stories.get(members[0].id)
        with_moves = sorted(
            (d for d in members if moves.get(d.id)), key=lambda d: tuple(-v for v in strength(d))
        )
        shown = with_moves or [max(members, key=lambda d: d.source_count)]
        folded = [d.title for d in members if d not in shown]
        for position, detail in enumerate(shown):
            linked = {row.ticker for row in detail.tickers}
            elsewhere = sum(1 for t in linked if t in primary and primary[t] != detail.id)
            out.append(
                replace(
                    _digest_event(detail, moves.get(detail.id, [])),
                    story=story.title if story else None,
                    first_of_story=position == 0,
                    story_events=folded if position == 0 else [],
                    attributed_elsewhere=elsewhere,
                )
            )
    return out


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


def _digest_event(detail: EventDetail, moves: list[TickerMove]) -> DigestEvent:
    url = detail.reference_url or next((a.url for a in detail.articles if a.url), None)
    return DigestEvent(
        title=detail.title,
        first_reported_at=detail.first_reported_at,
        source_count=detail.source_count,
        slug=detail.slug,
        url=url,
        tickers=moves,
        origin=detail.origin,
    )


def _move(ticker: str, row: pd.Series, level: float) -> TickerMove:
    q_value = _finite(row["q"])
    return TickerMove(
        ticker=ticker,
        day_move=_finite(row["raw_return"]),
        abnormal_return=_finite(row["ar"]),
        p_value=_finite(row["p"]),
        significant=q_value is not None and q_value < level,
        q_value=q_value,
        value_change=_finite(row.get("value_change")),
    )


def _significant_movers(
    daily: pd.DataFrame, watched: set[str], level: float, by: str = "percent"
) -> list[TickerMove]:
    """Watchlist tickers with a significant day-0 abnormal return (q below ``level``),
    largest first.

    ``by="percent"``: largest |AR| first; ``by="dollars"``: largest |value change| first,
    tickers without a share count after those with one (by |AR|).
    """
    moves = [
        _move(str(ticker), row, level) for ticker, row in daily.iterrows() if ticker in watched
    ]
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


def _basket_summary(
    slug: str, name: str, members: set[str], daily: pd.DataFrame, level: float
) -> BasketSummary:
    """Display aggregates of the engine's per-ticker figures (equal-weighted means)."""
    present = daily.loc[daily.index.isin(members)]
    moves = [_move(str(ticker), row, level) for ticker, row in present.iterrows()]
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
