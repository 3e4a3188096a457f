"""Curated events: the product's own list of key dated AI-market events, and the user's.

Dates, titles and source URLs are facts, so the product ships them
(tracker/link/data/timeline.csv, columns ``date,time_utc,title,kind,entities,tickers,source``
and optionally ``fact``, ``themes`` and ``story``). Any CSV of that shape loads the same way,
idempotently by slug. ``themes`` (theme slugs, ``;``-separated) exposes the event's theme
baskets, each ticker with the theme's reason, exactly as detected events get them.
A date without a time is taken as 00:00 UTC of that date, so its day 0 is that date's session
(or the next one when the market was shut). The shipped ``market_move`` rows ("Nvidia falls
about 17%") carry their date only: they describe that session's move, and a stamp at the
close would, under the strictly-after rule, put day 0 on the next session.
``story`` names the thread the event belongs to ("DeepSeek", "Stargate"); the story is created
(origin curated) when first named, and the event joins it unless a person pinned its story.

A detected event about the same happening as a curated one is merged into it
(``merge_detected_into_curated``): it becomes the curated event's child (``parent_id``), hidden
from the lists, and its articles count as the curated event's coverage; the curated event's
own reference article always lands in it.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from tracker.db.models import (
    Article,
    ArticleEntity,
    Basket,
    BasketMember,
    Entity,
    Event,
    EventArticle,
    EventEntity,
    EventTheme,
    EventTicker,
    Instrument,
    Story,
    Theme,
)
from tracker.errors import NotFoundError, UserInputError
from tracker.impact.calendar import first_affected_session
from tracker.link.entities import CONTEXT_ONLY_KINDS, Matcher
from tracker.link.kinds import FALLBACK_KIND, MARKET_KINDS, market_share
from tracker.link.themes import ThemeSpec, seed_themes, shipped_themes
from tracker.markets.universe import ensure_instruments, seed_universe

REQUIRED_COLUMNS = ("date", "title")
# Tickers the product can price: plain US symbols ("^SOX" indexes and "9984.T" are kept in the
# description but not linked, since the universe prices only US listings).
US_TICKER = re.compile(r"^[A-Z]{1,5}$")
# Every kind an event can have: the curated timeline's and the detected ones
# (tracker.link.kinds KIND_RULES and FALLBACK_KIND). Queries validate --kind against it.
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
    story: str = ""
    part_of: str = ""  # the title of the row of the happening this row reports

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
                story=" ".join((raw.get("story") or "").split()),
                part_of=" ".join((raw.get("part_of") or "").split()),
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
        if row.story and not event.story_locked:
            event.story_id = ensure_curated_story(session, row.story).id
        refresh_curated_event(session, event.id)
    _fold_reports(session, rows)
    return created


def _fold_reports(session: Session, rows: Sequence[CuratedRow]) -> None:
    """Rows that report another row's happening (``part_of``: the NYT's and the Verge's
    stories of the sell-off, the power names' moves that day) stand under it: hidden from
    the lists like merged detected events, their tickers and articles counted by it."""
    slugs = {row.title: row.slug for row in rows}
    parents: set[int] = set()
    for row in rows:
        event = session.scalars(select(Event).where(Event.slug == row.slug)).one()
        if not row.part_of:
            if event.parent_id is not None:
                event.parent_id = None
            continue
        parent_slug = slugs.get(row.part_of)
        parent = (
            session.scalars(select(Event).where(Event.slug == parent_slug)).one_or_none()
            if parent_slug
            else None
        )
        if (
            parent is None
            or parent.id == event.id
            or any(r.part_of for r in rows if r.title == row.part_of)  # no chains
        ):
            raise UserInputError(
                f"curated event {row.title!r}: part_of {row.part_of!r} is not the title of "
                "another row of the timeline that is itself a happening"
            )
        event.parent_id = parent.id
        parents.add(parent.id)
    session.flush()
    for parent_id in sorted(parents):
        _take_over_tickers(session, parent_id)
        refresh_curated_event(session, parent_id)


def _take_over_tickers(session: Session, parent_id: int) -> None:
    """The tickers of the rows folded into a happening are the happening's too (measured
    on it), each with the row it came from as its reason."""
    have = set(
        session.scalars(select(EventTicker.instrument_id).where(EventTicker.event_id == parent_id))
    )
    for instrument_id, relevance, reason, title in session.execute(
        select(EventTicker.instrument_id, EventTicker.relevance, EventTicker.reason, Event.title)
        .join(Event, Event.id == EventTicker.event_id)
        .where(Event.parent_id == parent_id, Event.origin == "curated")
        .order_by(Event.occurred_at, Event.id, EventTicker.instrument_id)
    ):
        if instrument_id in have:
            continue
        have.add(instrument_id)
        session.add(
            EventTicker(
                event_id=parent_id,
                instrument_id=instrument_id,
                relevance=relevance,
                reason=f"part of this happening: {title} ({reason})",
            )
        )
    session.flush()


def _set_curated_links(
    session: Session, event: Event, row: CuratedRow, matcher: Matcher, entity_ids: dict[str, int]
) -> None:
    session.execute(delete(EventEntity).where(EventEntity.event_id == event.id))
    session.execute(delete(EventTicker).where(EventTicker.event_id == event.id))
    session.execute(delete(EventTheme).where(EventTheme.event_id == event.id))
    subject = curated_subject(row, matcher)
    for found in matcher.match(row.title, row.entities_text.replace(";", ",")):
        if found.slug in entity_ids:
            relevance = SUBJECT_RELEVANCE if subject in (None, found.slug) else NAMED_RELEVANCE
            session.add(
                EventEntity(
                    event_id=event.id, entity_id=entity_ids[found.slug], relevance=relevance
                )
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


SUBJECT_RELEVANCE = 1.0
"""A curated event's subject (the first entity of its ``entities`` column that is not a
person: DeepSeek for "DeepSeek app becomes No. 1 ... on the US App Store", whose column also
names Apple and OpenAI) is stored with this relevance, the others it names with
``NAMED_RELEVANCE``: a detected event joins it only when it is about the subject."""
NAMED_RELEVANCE = 0.5


def curated_subject(row: CuratedRow, matcher: Matcher) -> str | None:
    """The row's subject: the first entity of its ``entities`` column (in column order) that
    the dictionary knows and is not a person ("Donald Trump; DeepSeek" is about DeepSeek)."""
    kinds = {spec.slug: spec.kind for spec in matcher.specs}
    for part in re.split(r"[;,]", row.entities_text):
        for found in matcher.match(part):
            if kinds.get(found.slug) != "person":
                return found.slug
    return None


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


# ------------------------------------------------------------------ stories named by rows


def ensure_curated_story(session: Session, title: str) -> Story:
    """The curated story a timeline row names, created on first mention (slug from the title)."""
    slug = slugify(title, 120)
    story = session.scalars(select(Story).where(Story.slug == slug)).one_or_none()
    if story is None:
        story = Story(slug=slug, title=title, origin="curated")
        session.add(story)
        session.flush()
    return story


# ------------------------------------------------- detected events merged into curated ones

MERGE_WINDOW = (timedelta(days=-1), timedelta(days=2))
"""A detected event starting from a day before to two days after the curated time can report
the same happening (coverage runs after the fact; a leak or premarket report before it)."""
MERGE_SIMILARITY = 0.3
"""TF-IDF cosine of the detected event's headlines with the curated event's text (title,
fact, and the headlines already merged into it) from which they are the same happening."""
NEAR_DUPLICATE_TITLE = 85.0
"""rapidfuzz token-sort ratio from which a headline is the curated title reworded."""
MARKET_SHARE = 0.5
"""The share of a detected event's headlines that must report a market move for it to join
a market-move curated event."""
_OUTLET_PREFIX = re.compile(r"^[A-Z][\w .&]{0,24}:\s+")


@dataclass
class _Profile:
    """What a merge decision reads about one event: its entities (a curated event: its
    subject; a detected one: those at least half its articles name) and its headlines."""

    event: Event
    entities: set[int]
    headlines: list[str]

    @property
    def text(self) -> str:
        return "\n".join([self.event.title, self.event.description, *self.headlines])


def _headlines(session: Session, event_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {i: [] for i in event_ids}
    for chunk in _chunks(event_ids):
        for event_id, title in session.execute(
            select(EventArticle.event_id, Article.title)
            .join(Article, Article.id == EventArticle.article_id)
            .where(EventArticle.event_id.in_(chunk))
            .order_by(EventArticle.event_id, Article.published_at, Article.id)
        ):
            found[event_id].append(title or "")
    return found


def _chunks(ids: Sequence[int], size: int = 500) -> list[list[int]]:
    ordered = sorted(ids)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def _subjects(session: Session, event_ids: Sequence[int]) -> dict[int, set[int]]:
    """Curated event id -> its subject entities (those stored with its highest relevance)."""
    found: dict[int, dict[int, float]] = {i: {} for i in event_ids}
    for chunk in _chunks(event_ids):
        for event_id, entity_id, relevance in session.execute(
            select(EventEntity.event_id, EventEntity.entity_id, EventEntity.relevance).where(
                EventEntity.event_id.in_(chunk)
            )
        ):
            found[event_id][entity_id] = relevance
    return {i: {e for e, r in rel.items() if r >= max(rel.values())} for i, rel in found.items()}


def _main_entities(session: Session, event_ids: Sequence[int]) -> dict[int, set[int]]:
    """Detected event id -> the entities at least half of its articles name."""
    named: dict[int, Counter[int]] = {i: Counter() for i in event_ids}
    sizes: Counter[int] = Counter()
    for chunk in _chunks(event_ids):
        for event_id, count in session.execute(
            select(EventArticle.event_id, func.count())
            .where(EventArticle.event_id.in_(chunk))
            .group_by(EventArticle.event_id)
        ):
            sizes[event_id] = int(count)
        for event_id, entity_id in session.execute(
            select(EventArticle.event_id, ArticleEntity.entity_id)
            .join(ArticleEntity, ArticleEntity.article_id == EventArticle.article_id)
            .where(EventArticle.event_id.in_(chunk))
        ):
            named[event_id][entity_id] += 1
    return {i: {e for e, c in named[i].items() if 2 * c >= sizes[i]} for i in event_ids}


def _profiles(session: Session, events: Sequence[Event], curated: bool) -> list[_Profile]:
    ids = [e.id for e in events]
    headlines = _headlines(session, ids)
    entities = _subjects(session, ids) if curated else _main_entities(session, ids)
    return [_Profile(e, entities[e.id], headlines[e.id]) for e in events]


def about_happening(
    curated_kind: str,
    subjects: Collection[Hashable],
    main_entities: Collection[Hashable],
    headlines: Sequence[str],
) -> bool:
    """Whether a detected event can be about a curated event's happening at all: most of its
    articles name the curated event's subject (the App Store event is DeepSeek's, not every
    App Store headline's), and for a market move most of its headlines report a market move
    ("Nvidia rebounds" does not take "Nvidia's RTX 5090 is out of stock")."""
    if not set(subjects) & set(main_entities):
        return False
    return curated_kind not in MARKET_KINDS or market_share(headlines) >= MARKET_SHARE


def same_kind_same_day(detected: Event, curated: Event, specific_subject: bool) -> bool:
    """A detected event of the curated event's own (specific) kind on its day 0, when the
    subject is a company, lab or product: "DeepSeek hit with large-scale cyberattack"
    (security) is "DeepSeek limits new sign-ups, citing malicious attacks" in other words.
    A regulator or person subject (the White House, "Trump") makes many same-day policy
    headlines, so there the words must decide."""
    return (
        specific_subject
        and detected.kind == curated.kind
        and detected.kind != FALLBACK_KIND
        and detected.day0 is not None
        and detected.day0 == day0_of(_curated_time(curated))
    )


def _is_near_duplicate(curated_title: str, headlines: Sequence[str]) -> bool:
    from rapidfuzz import fuzz, utils

    title = _OUTLET_PREFIX.sub("", curated_title).strip(" '\"")
    return any(
        fuzz.token_sort_ratio(title, h, processor=utils.default_process) >= NEAR_DUPLICATE_TITLE
        for h in headlines
    )


def _reference_articles(session: Session, curated: Sequence[Event]) -> dict[int, list[int]]:
    """Curated event id -> ids of the stored articles at its reference URL."""
    from tracker.news.normalize import canonical_url

    urls = {e.id: canonical_url(e.reference_url) for e in curated if e.reference_url}
    wanted = {u for u in urls.values() if u}
    by_url: dict[str, list[int]] = {}
    if wanted:
        for article_id, url in session.execute(
            select(Article.id, Article.canonical_url)
            .where(Article.canonical_url.in_(sorted(wanted)))
            .order_by(Article.id)
        ):
            if url:
                by_url.setdefault(url, []).append(article_id)
    return {cid: by_url.get(url, []) for cid, url in urls.items() if url}


def merge_detected_into_curated(session: Session) -> int:
    """Merge every detected event reporting a curated event's happening into it.

    Deterministic and incremental: it looks only at detected events not yet merged, in
    time order, and decides each on stored facts. A detected event is merged when it holds
    the curated event's reference article, or when (same or adjacent day 0, a shared entity)
    one of its headlines is the curated title reworded or its headlines are similar enough
    to the curated event's text. A curated event's reference article that is in no event (or
    in another curated event's) is attached to it directly. Returns how many were merged.
    """
    curated = list(
        session.scalars(
            select(Event)
            .where(Event.origin == "curated", Event.parent_id.is_(None))
            .order_by(Event.occurred_at, Event.id)
        )
    )
    if not curated:
        return 0
    merged = 0
    touched: set[int] = set()
    happenings = {e.id: e for e in curated}
    reporting = session.scalars(
        select(Event)
        .where(Event.origin == "curated", Event.parent_id.in_(list(happenings)))
        .order_by(Event.occurred_at, Event.id)
    ).all()
    # a report folded into a happening (part_of) brings its reference article to it
    for curated_event in [*curated, *reporting]:
        target = happenings.get(curated_event.parent_id or curated_event.id, curated_event)
        for article_id in _reference_articles(session, [curated_event]).get(curated_event.id, []):
            merged += _land_reference_article(session, target, article_id, touched)
    start = min(_curated_time(e) for e in curated) + MERGE_WINDOW[0] - timedelta(days=1)
    end = max(_curated_time(e) for e in curated) + MERGE_WINDOW[1] + timedelta(days=1)
    detected = list(
        session.scalars(
            select(Event)
            .where(
                Event.origin == "detected",
                Event.parent_id.is_(None),
                Event.first_reported_at >= start,
                Event.first_reported_at <= end,
            )
            .order_by(Event.first_reported_at, Event.id)
        )
    )
    if detected:
        merged += _merge_by_similarity(session, curated, detected, touched)
    touched |= attach_children_articles(session)
    for curated_id in sorted(touched):
        refresh_curated_event(session, curated_id)
    return merged


def attach_children_articles(session: Session) -> set[int]:
    """Every article of an event merged into a curated one is attached to the curated event
    too (so its page, text search and counts see them); returns the curated events that
    gained articles. Runs every link pass, so articles a merged event gains later follow."""
    parent = select(Event.id).where(Event.origin == "curated", Event.parent_id.is_(None))
    pairs = session.execute(
        select(Event.parent_id, EventArticle.article_id, Event.id)
        .join(Event, Event.id == EventArticle.event_id)
        .where(Event.parent_id.in_(parent))
        .order_by(Event.parent_id, EventArticle.article_id, Event.id)
    ).all()
    if not pairs:
        return set()
    parents = sorted({p for p, _, _ in pairs if p is not None})
    have: set[tuple[int, int]] = {
        (event_id, article_id)
        for event_id, article_id in session.execute(
            select(EventArticle.event_id, EventArticle.article_id).where(
                EventArticle.event_id.in_(parents)
            )
        )
    }
    gained: set[int] = set()
    for parent_id, article_id, child_id in pairs:
        if parent_id is None or (parent_id, article_id) in have:
            continue
        have.add((parent_id, article_id))
        gained.add(parent_id)
        session.add(
            EventArticle(
                event_id=parent_id,
                article_id=article_id,
                relevance=1.0,
                reason=f"{MERGED_REASON}{child_id}",
            )
        )
    session.flush()
    return gained


MERGED_REASON = "merged: reported by event "


def _curated_time(event: Event) -> datetime:
    return event.occurred_at or event.first_reported_at


def _land_reference_article(
    session: Session, curated: Event, article_id: int, touched: set[int]
) -> int:
    """Put the curated event's reference article in it; 1 if a detected event was merged."""
    holders = list(
        session.scalars(
            select(Event)
            .join(EventArticle, EventArticle.event_id == Event.id)
            .where(EventArticle.article_id == article_id)
            .order_by(Event.id)
        )
    )
    if any(h.id == curated.id or h.parent_id == curated.id for h in holders):
        return 0
    free = [h for h in holders if h.origin == "detected" and h.parent_id is None]
    touched.add(curated.id)
    if free:
        free[0].parent_id = curated.id
        session.flush()
        return 1
    session.add(
        EventArticle(
            event_id=curated.id,
            article_id=article_id,
            relevance=1.0,
            reason="the curated event's reference article",
        )
    )
    session.flush()
    return 0


def _merge_by_similarity(
    session: Session, curated: Sequence[Event], detected: Sequence[Event], touched: set[int]
) -> int:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    curated_profiles = _profiles(session, curated, curated=True)
    children = _headlines(
        session,
        list(session.scalars(select(Event.id).where(Event.parent_id.in_([e.id for e in curated])))),
    )
    parent_of = dict(
        session.execute(select(Event.id, Event.parent_id).where(Event.id.in_(children))).all()
    )
    for child_id, lines in children.items():
        for profile in curated_profiles:
            if profile.event.id == parent_of.get(child_id):
                profile.headlines.extend(lines)
    detected_profiles = _profiles(session, detected, curated=False)
    texts = [p.text for p in curated_profiles] + [p.text for p in detected_profiles]
    try:
        matrix = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts)
    except ValueError:  # nothing but stop words
        return 0
    similarity = cosine_similarity(matrix[len(curated_profiles) :], matrix[: len(curated_profiles)])
    context_only = set(
        session.scalars(select(Entity.id).where(Entity.kind.in_(sorted(CONTEXT_ONLY_KINDS))))
    )
    merged = 0
    for row, found in enumerate(detected_profiles):
        best: tuple[float, int] | None = None
        for column, target in enumerate(curated_profiles):
            if not _could_be_same(found.event, target.event) or not about_happening(
                target.event.kind, target.entities, found.entities, found.headlines
            ):
                continue
            score = float(similarity[row, column])
            if _is_near_duplicate(target.event.title, found.headlines):
                score = max(score, 1.0)
            elif same_kind_same_day(
                found.event, target.event, bool(target.entities - context_only)
            ):
                score = max(score, MERGE_SIMILARITY)
            if score >= MERGE_SIMILARITY and (best is None or score > best[0]):
                best = (score, column)
        if best is not None:
            target_event = curated_profiles[best[1]].event
            found.event.parent_id = target_event.id
            touched.add(target_event.id)
            merged += 1
    session.flush()
    return merged


def _could_be_same(detected: Event, curated: Event) -> bool:
    """A detected event first reported in the curated event's merge window, same or next day 0."""
    at = _curated_time(curated)
    if not at + MERGE_WINDOW[0] <= detected.first_reported_at <= at + MERGE_WINDOW[1]:
        return False
    a, b = detected.day0, day0_of(at)
    if a is None or b is None:
        return False
    from tracker.impact.calendar import sessions_between

    lo, hi = sorted((a, b))
    return len(sessions_between(lo, hi)) <= 2


def refresh_curated_event(session: Session, curated_id: int) -> None:
    """A curated event's coverage: its own articles and those of the detected events merged
    into it; first report is the earliest of its time and those articles (day 0 follows).

    Stored, so lists need no aggregation; called on every merge, attach, detach and load.
    """
    session.flush()
    event = session.get(Event, curated_id)
    if event is None or event.origin != "curated":
        return
    members = select(Event.id).where(or_(Event.id == curated_id, Event.parent_id == curated_id))
    articles, sources, earliest = session.execute(
        select(
            func.count(func.distinct(Article.id)),
            func.count(func.distinct(Article.feed_id)),
            func.min(Article.published_at),
        )
        .join(EventArticle, EventArticle.article_id == Article.id)
        .where(EventArticle.event_id.in_(members))
    ).one()
    event.article_count = int(articles or 0)
    event.source_count = int(sources or 0)
    first = _curated_time(event)
    if earliest is not None:
        earliest_at = earliest if earliest.tzinfo else earliest.replace(tzinfo=UTC)
        first = min(first, earliest_at)
    if event.first_reported_at != first:
        event.first_reported_at = first
        event.day0 = day0_of(first)
    session.flush()
