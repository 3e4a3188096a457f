"""From articles to events: the link stage of the pipeline.

``link_new_articles`` takes the articles not yet linked (``linked_at IS NULL``) in time order,
finds their entities, clusters the AI ones into events on top of the recent detected events,
and stores each event's entities, themes and exposed tickers with the reason for each. One
run is one transaction, so a failure leaves nothing half-linked and the next run retries.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tracker.db import Database
from tracker.db.models import (
    Article,
    ArticleEntity,
    Basket,
    BasketMember,
    Entity,
    EntityTicker,
    Event,
    EventArticle,
    EventEntity,
    EventTheme,
    EventTicker,
    Instrument,
    Theme,
)
from tracker.impact.calendar import sessions_between
from tracker.link.cluster import (
    Cluster,
    ClusterParams,
    Doc,
    Vectoriser,
    central_member,
    cluster_documents,
    main_entities,
)
from tracker.link.curated import (
    about_happening,
    day0_of,
    merge_detected_into_curated,
    read_timeline,
    refresh_curated_event,
    same_kind_same_day,
    shipped_timeline,
    upsert_curated,
)
from tracker.link.entities import (
    CONTEXT_ONLY_KINDS,
    EntitySpec,
    Matcher,
    load_dictionary,
    seed_entities,
    stored_user_entities,
)
from tracker.link.kinds import MARKET_MOVE, event_kind
from tracker.link.stories import build_stories
from tracker.link.themes import ThemeSpec, event_themes, seed_themes, shipped_themes
from tracker.link.titles import event_slug, readable_title
from tracker.link.worthiness import WorthinessRules, judge, load_rules
from tracker.markets.universe import seed_universe

log = logging.getLogger(__name__)

SEED_LOOKBACK = timedelta(days=8)
MAX_TEXT = 4000  # characters of a summary looked at; bounds the cost of giant entries
ATTACH_WINDOW = (timedelta(days=-1), timedelta(days=2))
ATTACH_THRESHOLD = 0.3
# An entity links its tickers when it is in a title, or named in at least this many articles
# and this share of them: a rival named in passing in one summary ("tech giants like Google
# and Meta" in a Stargate piece) is not what the event is about.
ENTITY_SHARE = 0.25
ENTITY_MIN_ARTICLES = 2


@dataclass
class LinkReport:
    """What one run did (stored in the job-run log by the scheduler)."""

    articles: int = 0
    ai_articles: int = 0  # event-worthy articles (clustered into events)
    not_worthy: int = 0  # kept as articles only: noise, archive or not relevant
    entity_links: int = 0
    events_created: int = 0
    events_updated: int = 0
    events_merged: int = 0  # stored events folded into another one by the merge pass
    attached_to_curated: int = 0
    stories_created: int = 0
    placed_in_stories: int = 0  # events put in a story by this run
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int | list[str]]:
        return dict(self.__dict__)

    def as_counts(self) -> dict[str, int]:
        """The figures for the job-run log (errors counted, not listed)."""
        counts = {k: v for k, v in self.__dict__.items() if isinstance(v, int)}
        return counts | {"errors": len(self.errors)}


@dataclass(frozen=True)
class _ArticleInfo:
    doc: Doc
    relevance: dict[str, float]  # entity slug -> relevance
    in_title: frozenset[str]


def _settings_entities_file() -> Path | None:
    from tracker.config import get_settings

    return get_settings().entities_file


def _settings_worthiness_file() -> Path | None:
    from tracker.config import get_settings

    return get_settings().worthiness_file


def feed_first_fetch(session: Session, feed_ids: Sequence[int]) -> dict[int, datetime]:
    """Per feed, when it was first fetched, as the newest entry that fetch brought.

    The newest entry rather than the clock time: a recorded feed replayed today was "fetched"
    on the day it was recorded, and an old archive post is old relative to what the feed was
    publishing then (capped at the fetch time, for entries dated in the future)."""
    firsts = dict(
        session.execute(
            select(Article.feed_id, func.min(Article.first_seen_at))
            .where(Article.feed_id.in_(sorted(set(feed_ids))))
            .group_by(Article.feed_id)
        ).all()
    )
    out: dict[int, datetime] = {}
    for feed_id, first_seen in sorted(firsts.items()):
        newest = session.scalar(
            select(func.max(Article.published_at)).where(
                Article.feed_id == feed_id, Article.first_seen_at == first_seen
            )
        )
        out[feed_id] = min(newest, first_seen) if newest is not None else first_seen
    return out


def load_matcher(
    session: Session, user_file: Path | None = None
) -> tuple[Matcher, list[EntitySpec]]:
    """The matcher for the shipped + user dictionary plus entities stored by users."""
    specs = load_dictionary(user_file)
    specs += stored_user_entities(session, (s.slug for s in specs))
    return Matcher(specs), specs


def prepare(
    session: Session, user_file: Path | None = None
) -> tuple[Matcher, list[EntitySpec], list[ThemeSpec], dict[str, int]]:
    """Seed universe, dictionary and themes (idempotent); returns what linking needs."""
    seed_universe(session)
    matcher, specs = load_matcher(session, user_file)
    entity_ids = seed_entities(session, list(specs))
    themes = shipped_themes()
    seed_themes(session, themes)
    return matcher, specs, themes, entity_ids


def link_new_articles(
    db: Database,
    *,
    now: datetime | None = None,
    params: ClusterParams | None = None,
    entities_file: Path | None = None,
    worthiness: WorthinessRules | None = None,
) -> LinkReport:
    """Link every article with ``linked_at IS NULL``: entities for all, events for the
    event-worthy ones (tracker/link/worthiness.py), with their themes and tickers."""
    now = now or datetime.now(UTC)
    params = params or ClusterParams()
    report = LinkReport()
    user_file = entities_file if entities_file is not None else _settings_entities_file()
    rules = worthiness or load_rules(_settings_worthiness_file())
    with db.session() as session:
        matcher, specs, themes, entity_ids = prepare(session, user_file)
        kinds = {s.slug: s.kind for s in specs}
        articles = session.scalars(
            select(Article)
            .where(Article.linked_at.is_(None))
            .order_by(Article.published_at, Article.id)
        ).all()
        if not articles:
            _merge_and_place(session, report)
            return report
        first_fetch = feed_first_fetch(session, [a.feed_id for a in articles])
        new_infos: list[_ArticleInfo] = []
        for article in articles:
            title = (article.title or "")[:1000]
            body = (article.summary_text or "")[:MAX_TEXT]
            matches = matcher.match(title, body)
            for m in matches:
                session.add(
                    ArticleEntity(
                        article_id=article.id,
                        entity_id=entity_ids[m.slug],
                        relevance=m.relevance,
                        in_title=m.in_title,
                        mentions=m.mentions,
                    )
                )
            report.entity_links += len(matches)
            report.articles += 1
            verdict = judge(
                rules,
                title=title,
                body=body,
                url=article.canonical_url or article.guid or "",
                matches=matches,
                kinds=kinds,
                published_at=article.published_at,
                feed_first_fetch=first_fetch.get(article.feed_id),
                themes=themes,
            )
            if not verdict.worthy:
                report.not_worthy += 1
                log.debug("article %s not event-worthy: %s", article.id, verdict.reason)
            else:
                new_infos.append(
                    _ArticleInfo(
                        Doc(
                            article.id,
                            article.published_at,
                            readable_title(title, body, article.canonical_url or ""),
                            body,
                            frozenset(m.slug for m in matches),
                            str(article.feed_id),
                            market=bool(MARKET_MOVE.search(title)),
                        ),
                        {m.slug: m.relevance for m in matches},
                        frozenset(m.slug for m in matches if m.in_title),
                    )
                )
            article.linked_at = now
        session.flush()
        report.ai_articles = len(new_infos)
        if new_infos:
            _cluster_and_store(session, new_infos, params, themes, report)
        _merge_and_place(session, report)
    log.info("linked %s", report.as_dict())
    return report


def _merge_and_place(session: Session, report: LinkReport) -> None:
    """After clustering: detected events about a curated happening merged into it, then
    every event not yet in a story placed (tracker.link.curated, tracker.link.stories)."""
    report.attached_to_curated += merge_detected_into_curated(session)
    placed = build_stories(session)
    report.stories_created += placed.stories_created
    report.placed_in_stories += placed.placed


def _seed_events(session: Session, since: datetime) -> dict[int, list[_ArticleInfo]]:
    """Recent detected events with all their articles, to cluster new articles onto."""
    recent = (
        select(EventArticle.event_id)
        .join(Article, Article.id == EventArticle.article_id)
        .join(Event, Event.id == EventArticle.event_id)
        .where(Event.origin == "detected", Article.published_at >= since)
        .distinct()
    )
    rows = session.execute(
        select(EventArticle.event_id, Article)
        .join(Article, Article.id == EventArticle.article_id)
        .where(EventArticle.event_id.in_(recent))
        .order_by(EventArticle.event_id, Article.published_at, Article.id)
    ).all()
    ids = [article.id for _, article in rows]
    relevance: dict[int, dict[str, float]] = defaultdict(dict)
    titled: dict[int, set[str]] = defaultdict(set)
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for article_id, slug, rel, in_title in session.execute(
            select(
                ArticleEntity.article_id,
                Entity.slug,
                ArticleEntity.relevance,
                ArticleEntity.in_title,
            )
            .join(Entity, Entity.id == ArticleEntity.entity_id)
            .where(ArticleEntity.article_id.in_(chunk))
        ):
            relevance[article_id][slug] = rel
            if in_title:
                titled[article_id].add(slug)
    seeds: dict[int, list[_ArticleInfo]] = defaultdict(list)
    for event_id, article in rows:
        seeds[event_id].append(
            _ArticleInfo(
                Doc(
                    article.id,
                    article.published_at,
                    readable_title(
                        article.title or "", article.summary_text or "", article.canonical_url or ""
                    ),
                    (article.summary_text or "")[:MAX_TEXT],
                    frozenset(relevance[article.id]),
                    str(article.feed_id),
                    market=bool(MARKET_MOVE.search(article.title or "")),
                ),
                relevance[article.id],
                frozenset(titled[article.id]),
            )
        )
    return seeds


def _cluster_and_store(
    session: Session,
    new_infos: list[_ArticleInfo],
    params: ClusterParams,
    themes: Sequence[ThemeSpec],
    report: LinkReport,
) -> None:
    since = min(i.doc.at for i in new_infos) - SEED_LOOKBACK
    seeds = _seed_events(session, since)
    infos = {i.doc.key: i for members in seeds.values() for i in members}
    infos.update({i.doc.key: i for i in new_infos})
    assignments, clusters = cluster_documents(
        [i.doc for i in new_infos],
        seeds=[(key, [i.doc for i in members]) for key, members in seeds.items()],
        params=params,
    )
    vectoriser = Vectoriser([i.doc for i in infos.values()], params)
    created: dict[int, Event] = {}
    events: dict[int, Event] = {}
    for key in sorted(clusters, key=lambda k: (clusters[k].first_at, k)):
        cluster = clusters[key]
        if key < 0:
            first = infos[min(cluster.members, key=lambda m: (infos[m].doc.at, m))].doc
            event = Event(
                slug=event_slug(first.at, first.title, first.key),
                title=first.title or "(untitled)",
                origin="detected",
                first_reported_at=first.at,
                is_novel=cluster.is_novel,
            )
            session.add(event)
            session.flush()
            created[key] = event
            report.events_created += 1
        else:
            event = session.get_one(Event, key)
            report.events_updated += 1
        events[key] = event
    for key, cluster in clusters.items():
        for gone in sorted(k for k in cluster.absorbed if k > 0):
            _fold_event(session, gone, events[key])
            report.events_merged += 1
    for a in assignments:
        event = events[a.cluster_key]
        if a.created:
            reason = "started the event"
        elif a.merged:
            reason = f"similarity {a.score:.2f}; its story merged into this event"
        else:
            reason = f"similarity {a.score:.2f}"
        session.add(
            EventArticle(event_id=event.id, article_id=a.doc_key, relevance=a.score, reason=reason)
        )
    session.flush()
    for key, cluster in clusters.items():
        event = events[key]
        members = [infos[m] for m in cluster.members]
        _refresh_event(session, event, members, vectoriser, themes)
        if cluster.follows is not None and cluster.follows in events:
            event.is_novel = False
    for key, event in created.items():
        if event.parent_id is None and _attach_to_curated(
            session, event, clusters[key], infos, vectoriser
        ):
            report.attached_to_curated += 1
    for parent_id in sorted({e.parent_id for e in events.values() if e.parent_id is not None}):
        refresh_curated_counts(session, parent_id)


def _fold_event(session: Session, gone_id: int, survivor: Event) -> None:
    """A stored event merged into ``survivor``: its articles move over, the event is deleted
    (its entity/theme/ticker links and impacts go with it: ON DELETE CASCADE); the survivor
    keeps its slug and takes over the curated parent if it had none."""
    gone = session.get_one(Event, gone_id)
    session.execute(
        update(EventArticle).where(EventArticle.event_id == gone_id).values(event_id=survivor.id)
    )
    if survivor.parent_id is None and gone.parent_id is not None:
        survivor.parent_id = gone.parent_id
    parent_id = gone.parent_id
    session.delete(gone)
    session.flush()
    if parent_id is not None:
        refresh_curated_counts(session, parent_id)


def _refresh_event(
    session: Session,
    event: Event,
    members: Sequence[_ArticleInfo],
    vectoriser: Vectoriser,
    themes: Sequence[ThemeSpec],
) -> None:
    """Recompute an event's summary fields and its entity/theme/ticker links from its articles."""
    docs = [m.doc for m in members]
    event.title = central_member(docs, vectoriser).title or event.title
    event.first_reported_at = min(d.at for d in docs)
    event.day0 = day0_of(event.first_reported_at)
    event.article_count = len(docs)
    event.source_count = len({d.source for d in docs})
    event.kind = _event_kind(docs)
    for table in (EventEntity, EventTheme, EventTicker):
        session.execute(delete(table).where(table.event_id == event.id))
    named: Counter[str] = Counter()
    weight: dict[str, float] = defaultdict(float)
    titled: set[str] = set()
    for m in members:
        for slug, rel in m.relevance.items():
            named[slug] += 1
            weight[slug] += rel
        titled |= m.in_title
    entity_rows = dict(
        session.execute(select(Entity.slug, Entity.id).where(Entity.slug.in_(named))).all()
    )
    for slug in sorted(named):
        if slug in entity_rows:
            session.add(
                EventEntity(
                    event_id=event.id,
                    entity_id=entity_rows[slug],
                    relevance=round(math.log1p(weight[slug]), 4),
                )
            )
    tickers: dict[int, tuple[float, list[str]]] = {}

    def add_reason(instrument_id: int, relevance: float, reason: str) -> None:
        rel, reasons = tickers.get(instrument_id, (0.0, []))
        tickers[instrument_id] = (max(rel, relevance), [*reasons, reason])

    total = len(members)
    for slug in sorted(named, key=lambda s: (-named[s], s)):
        if slug not in entity_rows or not (
            slug in titled or named[slug] >= max(ENTITY_MIN_ARTICLES, ENTITY_SHARE * total)
        ):
            continue
        links = session.execute(
            select(EntityTicker.instrument_id, EntityTicker.relation, Entity.name)
            .join(Entity, Entity.id == EntityTicker.entity_id)
            .where(EntityTicker.entity_id == entity_rows[slug])
            .order_by(EntityTicker.instrument_id)
        ).all()
        count = named[slug]
        plural = "article" if count == 1 else "articles"
        for instrument_id, relation, name in links:
            if relation == "issuer":
                add_reason(
                    instrument_id,
                    min(1.0, weight[slug] / total + 0.5),
                    f"named in {count} {plural}",
                )
            else:
                add_reason(
                    instrument_id,
                    min(1.0, weight[slug] / total),
                    f"exposure: {name} named in {count} {plural}",
                )
    hits = event_themes(
        themes,
        [(f"{m.doc.title}\n{m.doc.text}", m.doc.entities) for m in members],
        [m.doc.title for m in members],
    )
    by_slug = {t.slug: t for t in themes}
    theme_ids = dict(session.execute(select(Theme.slug, Theme.id)).all())
    for hit in hits:
        spec = by_slug[hit.slug]
        session.add(
            EventTheme(
                event_id=event.id,
                theme_id=theme_ids[hit.slug],
                reason=f"{hit.triggered} of {hit.total} articles; cues: {', '.join(hit.cues)}",
            )
        )
        for basket_slug, why in spec.baskets:
            member_ids = session.scalars(
                select(BasketMember.instrument_id)
                .join(Basket, Basket.id == BasketMember.basket_id)
                .where(Basket.slug == basket_slug)
            ).all()
            for instrument_id in sorted(member_ids):
                add_reason(
                    instrument_id,
                    round(0.5 * hit.triggered / hit.total, 4),
                    f"theme: {spec.name} ({why}; cues: {', '.join(hit.cues)})",
                )
    for instrument_id, (rel, reasons) in sorted(tickers.items()):
        session.add(
            EventTicker(
                event_id=event.id,
                instrument_id=instrument_id,
                relevance=round(rel, 4),
                reason="; ".join(reasons),
            )
        )
    session.flush()


def _event_kind(docs: Sequence[Doc]) -> str:
    return event_kind([doc.title for doc in docs])


def adjacent_sessions(a: date | None, b: date | None) -> bool:
    """Same day 0, or day 0s one trading session apart (Friday and Monday are adjacent)."""
    if a is None or b is None:
        return False
    lo, hi = sorted((a, b))
    return len(sessions_between(lo, hi)) <= 2


def _attach_to_curated(
    session: Session,
    event: Event,
    cluster: Cluster,
    infos: dict[int, _ArticleInfo],
    vectoriser: Vectoriser,
) -> bool:
    """Attach a new detected event to the curated event of the same happening, if one fits.

    All must hold, so that one shared name ("DeepSeek") on a busy week is not enough:
    the same or an adjacent day 0, a shared entity, and text similarity of the curated title
    and description with the event's articles of at least ``ATTACH_THRESHOLD``.
    """
    start = event.first_reported_at + ATTACH_WINDOW[0]
    end = event.first_reported_at + ATTACH_WINDOW[1]
    candidates = session.scalars(
        select(Event)
        .where(
            Event.origin == "curated",
            Event.first_reported_at >= start,
            Event.first_reported_at <= end,
        )
        .order_by(Event.id)
    ).all()
    candidates = [c for c in candidates if adjacent_sessions(c.day0, event.day0)]
    if not candidates:
        return False
    event_entities = main_entities(cluster)
    headlines = [infos[m].doc.title for m in cluster.members]
    centroid: dict[str, float] = defaultdict(float)
    for member in cluster.members:
        for t, w in vectoriser.vector(infos[member].doc).items():
            centroid[t] += w
    norm = math.sqrt(sum(w * w for w in centroid.values())) or 1.0
    best: tuple[float, int] | None = None
    for curated in candidates:
        relevance = dict(
            session.execute(
                select(Entity.slug, EventEntity.relevance)
                .join(EventEntity, EventEntity.entity_id == Entity.id)
                .where(EventEntity.event_id == curated.id)
            ).all()
        )
        slugs = set(relevance)
        subjects = {s for s, r in relevance.items() if r >= max(relevance.values())}
        if not about_happening(curated.kind, subjects, event_entities, headlines):
            continue
        doc = Doc(
            -curated.id,
            curated.first_reported_at,
            curated.title,
            curated.description,
            frozenset(slugs),
        )
        vec = vectoriser.vector(doc)
        cosine = sum(w * centroid.get(t, 0.0) for t, w in vec.items()) / norm
        specific = session.scalar(
            select(func.count())
            .select_from(Entity)
            .where(
                Entity.slug.in_(sorted(subjects)), Entity.kind.not_in(sorted(CONTEXT_ONLY_KINDS))
            )
        )
        if same_kind_same_day(event, curated, bool(specific)):
            cosine = max(cosine, ATTACH_THRESHOLD)
        if cosine >= ATTACH_THRESHOLD and (best is None or cosine > best[0]):
            best = (cosine, curated.id)
    if best is None:
        return False
    event.parent_id = best[1]
    return True


def refresh_curated_counts(session: Session, curated_id: int) -> None:
    """A curated event's article and source counts and first report: its own articles and
    those of the detected events attached to it (``tracker.link.curated``)."""
    refresh_curated_event(session, curated_id)


def load_curated_events(db: Database, path: Path | None = None) -> int:
    """Load the shipped timeline (or a CSV of the same shape); idempotent by slug.

    Returns the number of events created (updates of existing slugs are not counted).
    """
    rows = read_timeline(path) if path is not None else shipped_timeline()
    with db.session() as session:
        matcher, _specs, _themes, entity_ids = prepare(session, _settings_entities_file())
        return upsert_curated(session, rows, matcher, entity_ids)


def event_tickers(session: Session, event_id: int) -> list[dict[str, object]]:
    """An event's tickers with relevance and reasons, most relevant first."""
    rows = session.execute(
        select(Instrument.ticker, EventTicker.relevance, EventTicker.reason)
        .join(Instrument, Instrument.id == EventTicker.instrument_id)
        .where(EventTicker.event_id == event_id)
    ).all()
    return [
        {"ticker": t, "relevance": r, "reason": reason}
        for t, r, reason in sorted(rows, key=lambda row: (-row[1], row[0]))
    ]
