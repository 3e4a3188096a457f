"""What a day's digest says, as plain typed values, and how it is read from the tracker.

The digest computes no statistic of its own: every number here comes from the query layer
(``tracker.query``) and the one impact engine (``tracker.measure``), so the e-mail, the
dashboard and the CLI can never disagree. Rendering (``render.py``) only formats these values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from tracker.config import Settings
from tracker.db import Database

MAX_EVENTS = 5
MAX_MOVERS = 8


@dataclass(frozen=True)
class TickerMove:
    """One ticker on the digest's day: its raw move and its abnormal return with significance."""

    ticker: str
    day_move: float | None
    abnormal_return: float | None
    p_value: float | None
    significant: bool
    name: str = ""


@dataclass(frozen=True)
class DigestEvent:
    """An event of the day with the tickers exposed to it, strongest reaction first."""

    title: str
    first_reported_at: datetime
    source_count: int
    slug: str
    url: str | None
    tickers: list[TickerMove] = field(default_factory=list)


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
    """Read the digest of session ``day`` through the query and measure layers."""
    raise NotImplementedError("wired once tracker.query and tracker.measure are merged")
