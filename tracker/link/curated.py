"""Curated events: the product's own list of key dated AI-market events, and the user's.

Dates, titles and source URLs are facts, so the product ships them
(tracker/link/data/timeline.csv, columns ``date,time_utc,title,kind,entities,tickers,source``
and optionally ``fact`` and ``themes``). Any CSV of that shape loads the same way,
idempotently by slug. ``themes`` (theme slugs, ``;``-separated) exposes the event's theme
baskets, each ticker with the theme's reason, exactly as detected events get them.
A date without a time is taken as 00:00 UTC of that date, so its day 0 is that date's session
(or the next one when the market was shut). The shipped ``market_move`` rows ("Nvidia falls
about 17%") carry their date only: they describe that session's move, and a stamp at the
close would, under the strictly-after rule, put day 0 on the next session.
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

from tracker.db.models import (
    Basket,
    BasketMember,
    Event,
    EventEntity,
    EventTheme,
    EventTicker,
    Instrument,
    Theme,
)
from tracker.errors import NotFoundError, UserInputError
from tracker.impact.calendar import first_affected_session
from tracker.link.entities import Matcher
from tracker.link.themes import ThemeSpec, seed_themes, shipped_themes
from tracker.markets.universe import ensure_instruments, seed_universe

REQUIRED_COLUMNS = ("date", "title")
# Tickers the product can price: plain US symbols ("^SOX" indexes and "9984.T" are kept in the
# description but not linked, since the universe prices only US listings).
US_TICKER = re.compile(r"^[A-Z]{1,5}$")
# Every kind an event can have: the curated timeline's and the detected ones
# (tracker.link.events KIND_RULES and FALLBACK_KIND). Queries validate --kind against it.
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
    themes: tuple[str, ...] = ()

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
                themes=tuple(
                    t.strip() for t in re.split(r"[;,]", raw.get("themes") or "") if t.strip()
                ),
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
    session.execute(delete(EventTheme).where(EventTheme.event_id == event.id))
    for found in matcher.match(row.title, row.entities_text.replace(";", ",")):
        if found.slug in entity_ids:
            session.add(
                EventEntity(event_id=event.id, entity_id=entity_ids[found.slug], relevance=1.0)
            )
    ids = ensure_instruments(session, list(row.tickers)) if row.tickers else {}
    reasons: dict[int, tuple[float, list[str]]] = {
        ids[ticker]: (1.0, ["curated timeline"]) for ticker in row.tickers
    }
    for theme_id, spec in _curated_themes(session, row):
        session.add(EventTheme(event_id=event.id, theme_id=theme_id, reason="curated timeline"))
        for basket_slug, why in spec.baskets:
            for instrument_id in _basket_member_ids(session, basket_slug):
                relevance, texts = reasons.get(instrument_id, (0.5, []))
                reasons[instrument_id] = (relevance, [*texts, f"theme: {spec.name} ({why})"])
    for instrument_id, (relevance, texts) in sorted(reasons.items()):
        session.add(
            EventTicker(
                event_id=event.id,
                instrument_id=instrument_id,
                relevance=relevance,
                reason="; ".join(texts),
            )
        )


def _curated_themes(session: Session, row: CuratedRow) -> list[tuple[int, ThemeSpec]]:
    """The row's themes as (stored id, spec); an unknown slug is the user's error."""
    if not row.themes:
        return []
    specs = {spec.slug: spec for spec in shipped_themes()}
    ids = {row.slug: row.id for row in session.execute(select(Theme.slug, Theme.id))}
    if not specs.keys() <= ids.keys():
        ids = seed_themes(session, list(specs.values()))
    unknown = [slug for slug in row.themes if slug not in specs]
    if unknown:
        raise UserInputError(
            f"curated event {row.title!r}: unknown theme {unknown[0]!r}; "
            f"expected one of {', '.join(sorted(specs))}"
        )
    return [(ids[slug], specs[slug]) for slug in row.themes]


def _basket_member_ids(session: Session, slug: str) -> list[int]:
    return sorted(
        session.scalars(
            select(BasketMember.instrument_id)
            .join(Basket, Basket.id == BasketMember.basket_id)
            .where(Basket.slug == slug)
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
