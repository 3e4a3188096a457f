"""Curated events: the product's own list of key dated AI-market events, and the user's.

Dates, titles and source URLs are facts, so the product ships them
(tracker/link/data/timeline.csv, columns ``date,time_utc,title,kind,entities,tickers,source``
and optionally ``fact``). Any CSV of that shape loads the same way, idempotently by slug.
A date without a time is taken as 00:00 UTC of that date, so its day 0 is that date's session
(or the next one when the market was shut).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from importlib import resources
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracker.db.models import Basket, BasketMember, Event, EventEntity, EventTicker, Instrument
from tracker.errors import NotFoundError, UserInputError
from tracker.impact.calendar import first_affected_session
from tracker.link.entities import Matcher
from tracker.markets.universe import ensure_instruments, seed_universe

REQUIRED_COLUMNS = ("date", "title")
# Tickers the product can price: plain US symbols ("^SOX" indexes and "9984.T" are kept in the
# description but not linked, since the universe prices only US listings).
US_TICKER = re.compile(r"^[A-Z]{1,5}$")
EVENT_KINDS = frozenset(
    {
        "model_release",
        "product",
        "policy",
        "market",
        "market_move",
        "capex",
        "earnings",
        "news",
        "corporate",
        "security",
    }
)


@dataclass(frozen=True)
class CuratedRow:
    slug: str
    title: str
    kind: str
    occurred_at: datetime
    entities_text: str
    tickers: tuple[str, ...]
    other_tickers: tuple[str, ...]
    fact: str
    sources: str

    @property
    def reference_url(self) -> str | None:
        found = re.search(r"https?://[^\s|,;)]+", self.sources)
        return found.group() if found else None


def slugify(text: str, limit: int = 80) -> str:
    words = re.findall(r"[a-z0-9]+", text.casefold())
    return "-".join(words)[:limit].strip("-") or "event"


def curated_slug(occurred_at: datetime, title: str) -> str:
    return f"{occurred_at:%Y-%m-%d}-{slugify(title)}"


def parse_timestamp(text: str) -> datetime:
    """An ISO date or date-time; naive values are UTC (the CLI's documented convention)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise UserInputError(f"not an ISO date or timestamp: {text!r}") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_timeline(text: str, where: str) -> list[CuratedRow]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise UserInputError(f"{where}: missing column(s) {', '.join(missing)}")
    rows = []
    for number, raw in enumerate(reader, start=2):
        title = (raw.get("title") or "").strip()
        try:
            day = date.fromisoformat((raw.get("date") or "").strip())
            clock = (raw.get("time_utc") or "").strip()
            at = datetime.combine(day, time.fromisoformat(clock) if clock else time(0), UTC)
        except ValueError as exc:
            raise UserInputError(f"{where}: line {number}: bad date/time: {exc}") from exc
        if not title:
            raise UserInputError(f"{where}: line {number}: empty title")
        tickers = [t.strip().upper() for t in re.split(r"[;,]", raw.get("tickers") or "")]
        tickers = [t for t in tickers if t]
        rows.append(
            CuratedRow(
                slug=curated_slug(at, title),
                title=title,
                kind=(raw.get("kind") or "news").strip() or "news",
                occurred_at=at,
                entities_text=(raw.get("entities") or "").strip(),
                tickers=tuple(t for t in tickers if US_TICKER.match(t)),
                other_tickers=tuple(t for t in tickers if not US_TICKER.match(t)),
                fact=(raw.get("fact") or "").strip(),
                sources=(raw.get("source") or "").strip(),
            )
        )
    return rows


def shipped_timeline() -> list[CuratedRow]:
    text = resources.files("tracker.link").joinpath("data/timeline.csv").read_text("utf-8")
    return parse_timeline(text, "shipped timeline.csv")


def read_timeline(path: Path) -> list[CuratedRow]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"timeline file {path}: {exc.strerror}") from exc
    return parse_timeline(text, f"timeline file {path}")


def day0_of(ts: datetime) -> date | None:
    """Event day 0 (IMPACT_SPEC §1), or None for a time outside the trading calendar."""
    try:
        return first_affected_session(ts)
    except ValueError:
        return None


def upsert_curated(
    session: Session, rows: Sequence[CuratedRow], matcher: Matcher, entity_ids: dict[str, int]
) -> int:
    """Create or update curated events by slug; returns how many were created."""
    created = 0
    for row in rows:
        event = session.scalars(select(Event).where(Event.slug == row.slug)).one_or_none()
        if event is None:
            event = Event(slug=row.slug, origin="curated", first_reported_at=row.occurred_at)
            session.add(event)
            created += 1
        elif event.origin != "curated":
            raise UserInputError(f"event {row.slug!r} exists and is not curated")
        event.title = row.title
        event.kind = row.kind
        event.occurred_at = row.occurred_at
        event.first_reported_at = row.occurred_at
        event.day0 = day0_of(row.occurred_at)
        extra = f" Other tickers: {', '.join(row.other_tickers)}." if row.other_tickers else ""
        event.description = (row.fact + extra).strip()
        event.reference_url = row.reference_url
        session.flush()
        _set_curated_links(session, event, row, matcher, entity_ids)
    return created


def _set_curated_links(
    session: Session, event: Event, row: CuratedRow, matcher: Matcher, entity_ids: dict[str, int]
) -> None:
    session.execute(delete(EventEntity).where(EventEntity.event_id == event.id))
    session.execute(delete(EventTicker).where(EventTicker.event_id == event.id))
    for found in matcher.match(row.title, row.entities_text.replace(";", ",")):
        if found.slug in entity_ids:
            session.add(
                EventEntity(event_id=event.id, entity_id=entity_ids[found.slug], relevance=1.0)
            )
    ids = ensure_instruments(session, list(row.tickers)) if row.tickers else {}
    for ticker in row.tickers:
        session.add(
            EventTicker(
                event_id=event.id,
                instrument_id=ids[ticker],
                relevance=1.0,
                reason="curated timeline",
            )
        )


def basket_tickers(session: Session, slug: str) -> list[str]:
    basket = session.scalars(select(Basket).where(Basket.slug == slug)).one_or_none()
    if basket is None:
        raise NotFoundError(f"unknown basket {slug!r}")
    return sorted(
        session.scalars(
            select(Instrument.ticker)
            .join(BasketMember, BasketMember.instrument_id == Instrument.id)
            .where(BasketMember.basket_id == basket.id)
        )
    )


def set_event_tickers(
    session: Session, event: Event, tickers: Sequence[str], basket: str | None
) -> None:
    """Replace a curated event's tickers: the named ones and a basket's members."""
    reasons: dict[str, str] = {}
    for ticker in tickers:
        t = ticker.strip().upper()
        if not US_TICKER.match(t):
            raise UserInputError(f"{ticker!r} is not a ticker (1-5 letters)")
        reasons[t] = "named by the user"
    if basket:
        seed_universe(session)  # the default baskets exist even in a fresh database
        for t in basket_tickers(session, basket):
            reasons.setdefault(t, f"basket: {basket}")
    session.execute(delete(EventTicker).where(EventTicker.event_id == event.id))
    ids = ensure_instruments(session, sorted(reasons)) if reasons else {}
    for t, reason in sorted(reasons.items()):
        session.add(EventTicker(event_id=event.id, instrument_id=ids[t], reason=reason))
