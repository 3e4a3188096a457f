"""Stories: the threads that tie events (the DeepSeek story, Stargate, US chip export controls).

An event is one happening (R1 released, the 2025-01-27 sell-off, Janus-Pro released); a story
is the thread the happenings belong to. Curated timeline rows name their story (the ``story``
column, see ``tracker.link.curated``). Every other event is placed here, from stored facts only:

- an event joins the story it fits best when it is first reported within ``StoryParams.gap``
  of one of the story's events, shares an entity with the story, and scores at least
  ``join_threshold`` on shared entities (weighted by how rare each entity is, so "DeepSeek"
  counts more than "Google"), shared themes and TF-IDF similarity of its headlines with the
  story's;
- two events in no story that fit each other at least ``pair_threshold`` start a new
  (detected) story.

The pass is incremental and deterministic: it places only events not yet in a story, in
first-report order (ties by id), and never moves an event a person placed (``story_locked``)
or one already placed. A story a person edited (``user_edited``) keeps its title and
description; new events may still join it. Detected events merged into a curated one
(``parent_id``) are not placed themselves: they belong to their curated event's story.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.db.models import (
    Article,
    ArticleEntity,
    Entity,
    Event,
    EventArticle,
    EventEntity,
    EventTheme,
    Story,
)
from tracker.link.commentary import CommentaryRules
from tracker.link.commentary import load_rules as load_commentary_rules
from tracker.link.curated import slugify

CORE_SHARE = 0.5
"""An event joins a story only through an entity at least this share of its core names."""


@dataclass(frozen=True)
class StoryParams:
    """The rule's knobs (tests/link/test_stories.py pins what they mean)."""

    gap: timedelta = timedelta(days=10)
    join_threshold: float = 0.45
    pair_threshold: float = 0.55
    entity_weight: float = 0.5
    theme_weight: float = 0.1
    text_weight: float = 0.4
    min_text: float = 0.2  # headlines must share words beyond a name: a story is not a company
    # a curated story is a thread a person named, broad by design (release, sell-off, bans):
    # an event joins it on its entities with a weaker word overlap
    curated_join_threshold: float = 0.35
    curated_min_text: float = 0.08
    curated_core_events: int = 3


@dataclass
class StoryReport:
    placed: int = 0
    stories_created: int = 0
    stories_removed: int = 0
    folded: int = 0  # commentary events folded into the happening they discuss

    def as_counts(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Item:
    """One event as the story pass sees it."""

    event: Event
    entities: frozenset[int]
    themes: frozenset[int]
    text: str


@dataclass
class _Thread:
    """A story being built: its members' entities, themes and text."""

    story: Story | None
    members: list[_Item] = field(default_factory=list)
    founded_at: datetime | None = None  # detected stories: when they came to exist

    @property
    def entities(self) -> set[int]:
        return set().union(*(m.entities for m in self.members))

    @property
    def themes(self) -> set[int]:
        return set().union(*(m.themes for m in self.members))


def build_stories(
    session: Session,
    params: StoryParams | None = None,
    commentary: CommentaryRules | None = None,
) -> StoryReport:
    """Place every unplaced visible event in a story (or start one), fold the stories'
    commentary into the happenings it discusses, refresh story figures."""
    params = params or StoryParams()
    commentary = commentary or load_commentary_rules(_settings_commentary_file())
    report = StoryReport()
    visible = list(
        session.scalars(
            select(Event)
            .where(Event.parent_id.is_(None))
            .order_by(Event.first_reported_at, Event.id)
        )
    )
    items = _items(session, visible)
    threads: dict[int, _Thread] = {}
    for item in items:
        if item.event.story_id is not None:
            threads.setdefault(item.event.story_id, _Thread(None)).members.append(item)
    pending = [i for i in items if i.event.story_id is None and not i.event.story_locked]
    scorer = _Scorer(items, params) if items else None
    if pending and scorer is not None:
        _place(session, items, threads, pending, params, report, scorer)
    if scorer is not None:
        report.folded = _fold_commentary(session, items, scorer, commentary)
    report.stories_removed = _drop_empty_detected(session)
    refresh_story_figures(session)
    return report


def _items(session: Session, events: Sequence[Event]) -> list[_Item]:
    ids = [e.id for e in events]
    entities: dict[int, set[int]] = {i: set() for i in ids}
    themes: dict[int, set[int]] = {i: set() for i in ids}
    headlines: dict[int, list[str]] = {i: [] for i in ids}
    sizes = {e.id: e.article_count for e in events}
    for chunk in _chunks(ids):
        for event_id, entity_id in session.execute(
            select(EventEntity.event_id, EventEntity.entity_id).where(
                EventEntity.event_id.in_(chunk)
            )
        ):
            entities[event_id].add(entity_id)
        named: dict[int, Counter[int]] = {}
        for event_id, entity_id in session.execute(
            select(EventArticle.event_id, ArticleEntity.entity_id)
            .join(ArticleEntity, ArticleEntity.article_id == EventArticle.article_id)
            .where(EventArticle.event_id.in_(chunk))
        ):
            named.setdefault(event_id, Counter())[entity_id] += 1
        for event_id, counts in named.items():
            articles = sizes.get(event_id, 0)
            main = {e for e, c in counts.items() if c * 2 >= articles}
            # an event is about the names most of its articles carry: one article on Apple
            # research into DeepSeek does not take an Apple event into the DeepSeek story
            entities[event_id] &= main
        for event_id, theme_id in session.execute(
            select(EventTheme.event_id, EventTheme.theme_id).where(EventTheme.event_id.in_(chunk))
        ):
            themes[event_id].add(theme_id)
        for event_id, title in session.execute(
            select(EventArticle.event_id, Article.title)
            .join(Article, Article.id == EventArticle.article_id)
            .where(EventArticle.event_id.in_(chunk))
            .order_by(EventArticle.event_id, Article.published_at, Article.id)
        ):
            if len(headlines[event_id]) < 12:
                headlines[event_id].append(title or "")
    return [
        _Item(
            e,
            frozenset(entities[e.id]),
            frozenset(themes[e.id]),
            "\n".join([e.title, e.description, *headlines[e.id]]),
        )
        for e in events
    ]


def _chunks(ids: Sequence[int], size: int = 500) -> list[list[int]]:
    ordered = sorted(ids)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


class _Scorer:
    """How well an event fits a set of events: entities (rarity-weighted), themes, text."""

    def __init__(self, items: Sequence[_Item], params: StoryParams) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.params = params
        counts: Counter[int] = Counter()
        for item in items:
            counts.update(item.entities)
        n = max(len(items), 1)
        self.idf = {e: math.log((1 + n) / (1 + c)) + 1.0 for e, c in counts.items()}
        self.row = {item.event.id: index for index, item in enumerate(items)}
        self._cache: dict[int, Any] = {}
        try:
            self.matrix = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(
                [item.text for item in items]
            )
        except ValueError:  # no words at all (empty titles): text counts for nothing
            self.matrix = None

    def score(
        self,
        item: _Item,
        others: Sequence[_Item],
        min_text: float | None = None,
        core: Sequence[_Item] | None = None,
    ) -> float:
        """0..1: entity part, theme part, text part (zero below ``min_text``).

        The entity part is the largest share of the story's *core* events (its curated ones
        when it has any, else all of them) naming one of the event's entities, and zero
        below ``CORE_SHARE``: "OpenAI hits back at DeepSeek" belongs to the DeepSeek story
        however many other names it carries, while events joined earlier cannot pull in
        their own neighbours (Stargate does not become "everything about Meta").
        """
        base = list(core) if core else list(others)
        named: Counter[int] = Counter()
        for other in base:
            named.update(other.entities)
        entity = max((named[e] for e in item.entities), default=0) / max(len(base), 1)
        if entity < CORE_SHARE:
            return 0.0
        theme = 1.0 if item.themes & set().union(*(o.themes for o in others)) else 0.0
        p = self.params
        text = self.text(item, others)
        if text < (p.min_text if min_text is None else min_text):
            return 0.0
        return p.entity_weight * entity + p.theme_weight * theme + p.text_weight * text

    def text(self, item: _Item, others: Sequence[_Item]) -> float:
        """The TF-IDF cosine with the closest of ``others`` in headlines: a story's vocabulary
        drifts (release, sell-off, ban), so an event needs one close neighbour, not the mean."""
        if self.matrix is None or not others:
            return 0.0
        similarity = self.similarities(item)
        return float(similarity[[self.row[o.event.id] for o in others]].max())

    def similarities(self, item: _Item) -> Any:
        """The event's cosine with every event (rows are L2-normalised): one sparse
        product per event, cached, so scoring against many stories stays cheap."""
        index = self.row[item.event.id]
        found = self._cache.get(index)
        if found is None:
            assert self.matrix is not None
            found = self.matrix.dot(self.matrix[index].T).toarray().ravel()
            self._cache[index] = found
        return found


def _place(
    session: Session,
    items: Sequence[_Item],
    threads: dict[int, _Thread],
    pending: Sequence[_Item],
    params: StoryParams,
    report: StoryReport,
    scorer: _Scorer,
) -> None:
    stories = {s.id: s for s in session.scalars(select(Story).where(Story.id.in_(threads)))}
    for story_id, thread in threads.items():
        thread.story = stories.get(story_id)
        if thread.story is not None and thread.story.origin == "detected":
            # a detected story exists from its second event on: an event reported before
            # that could not join it when first placed, so it does not on a later run either
            times = sorted(m.event.first_reported_at for m in thread.members)
            thread.founded_at = times[min(1, len(times) - 1)]
    loose: list[_Item] = []
    for item in pending:
        at = item.event.first_reported_at
        best: tuple[float, int] | None = None
        for story_id in sorted(threads):
            founded = threads[story_id].founded_at
            if founded is not None and founded > at:
                continue
            near = [
                m
                for m in threads[story_id].members
                if abs(m.event.first_reported_at - at) <= params.gap
                # what the story held when this event was first placed: its curated events
                # and those reported before it (so a later run decides the same way)
                and (m.event.origin == "curated" or m.event.first_reported_at <= at)
            ]
            if not near:
                continue
            core = [m for m in threads[story_id].members if m.event.origin == "curated"]
            # the broad rule needs a vocabulary: a story a few curated events define
            curated = len(core) >= params.curated_core_events
            score = scorer.score(
                item, near, params.curated_min_text if curated else None, core or None
            )
            threshold = params.curated_join_threshold if curated else params.join_threshold
            if score >= threshold and (best is None or score > best[0]):
                best = (score, story_id)
        if best is not None:
            item.event.story_id = best[1]
            threads[best[1]].members.append(item)
            report.placed += 1
            continue
        partner = _best_partner(scorer, item, loose, params)
        if partner is None:
            loose.append(item)
            continue
        loose.remove(partner)
        story = _new_story(session, [partner, item])
        threads[story.id] = _Thread(story, [partner, item], founded_at=at)
        partner.event.story_id = story.id
        item.event.story_id = story.id
        report.placed += 2
        report.stories_created += 1
    session.flush()


def _settings_commentary_file() -> Path | None:
    from tracker.config import get_settings

    return get_settings().commentary_file


def _fold_commentary(
    session: Session, items: Sequence[_Item], scorer: _Scorer, rules: CommentaryRules
) -> int:
    """Each visible detected event of a story that is commentary (tracker/link/commentary.py)
    becomes the hidden child of the most similar earlier event of its story within the
    lookback, when similar enough; in first-report order, so it is deterministic, and
    commentary never hosts commentary. Returns how many were folded."""
    commentary = {
        i.event.id
        for i in items
        if i.event.origin == "detected"
        and i.event.story_id is not None
        and i.event.parent_id is None
        and not i.event.story_locked
        and 0 < i.event.article_count <= rules.max_articles
        and rules.is_commentary_title(i.event.title)
    }
    if not commentary:
        return 0
    by_story: dict[int, list[_Item]] = {}
    for item in items:
        if item.event.story_id is not None and item.event.parent_id is None:
            by_story.setdefault(item.event.story_id, []).append(item)
    folded = 0
    curated_parents: set[int] = set()
    for item in items:
        if item.event.id not in commentary or item.event.story_id is None:
            continue
        at = item.event.first_reported_at
        hosts = [
            o
            for o in by_story[item.event.story_id]
            if o.event.id not in commentary
            and o.event.parent_id is None
            and (o.event.first_reported_at, o.event.id) < (at, item.event.id)
            and at - o.event.first_reported_at <= rules.lookback
        ]
        if not hosts:
            continue
        similarity = scorer.similarities(item)
        score, host = max(
            ((float(similarity[scorer.row[o.event.id]]), o) for o in hosts),
            key=lambda pair: (pair[0], pair[1].event.first_reported_at, pair[1].event.id),
        )
        if score < rules.min_similarity:
            continue
        item.event.parent_id = host.event.id
        if host.event.origin == "curated":
            curated_parents.add(host.event.id)
        folded += 1
    session.flush()
    if curated_parents:
        from tracker.link.curated import attach_children_articles, refresh_curated_event

        attach_children_articles(session)
        for parent_id in sorted(curated_parents):
            refresh_curated_event(session, parent_id)
    return folded


def _best_partner(
    scorer: _Scorer, item: _Item, loose: Sequence[_Item], params: StoryParams
) -> _Item | None:
    best: tuple[float, _Item] | None = None
    for other in loose:
        if abs(other.event.first_reported_at - item.event.first_reported_at) > params.gap:
            continue
        if not item.entities & other.entities:  # no shared name: no fit, skip the scoring
            continue
        score = min(scorer.score(item, [other]), scorer.score(other, [item]))
        if score >= params.pair_threshold and (best is None or score > best[0]):
            best = (score, other)
    return None if best is None else best[1]


def _new_story(session: Session, members: Sequence[_Item]) -> Story:
    """A detected story named after its most shared entity; the slug never changes after."""
    first = members[0].event
    shared = set(members[0].entities).intersection(*(m.entities for m in members[1:]))
    names = dict(session.execute(select(Entity.id, Entity.name).where(Entity.id.in_(shared))).all())
    name = min(names.values(), key=lambda n: (len(n), n)) if names else first.title[:60]
    story = Story(
        slug=f"{first.first_reported_at:%Y-%m-%d}-{slugify(name, 60)}-{first.id}",
        title=f"{name}: {first.title}"[:200],
        origin="detected",
    )
    session.add(story)
    session.flush()
    return story


def _drop_empty_detected(session: Session) -> int:
    """Detected stories with no event left (their events were merged away); a person's stay."""
    in_use = select(Event.story_id).where(Event.story_id.is_not(None))
    empty = list(
        session.scalars(
            select(Story).where(
                Story.origin == "detected", Story.user_edited.is_(False), Story.id.not_in(in_use)
            )
        )
    )
    for story in empty:
        session.delete(story)
    session.flush()
    return len(empty)


def refresh_story_figures(session: Session, story_ids: Sequence[int] | None = None) -> None:
    """Stored coverage of each story: its events, their articles (merged ones included) and
    sources, and the span of first reports; lists read these without aggregating."""
    query = select(Story)
    if story_ids is not None:
        query = query.where(Story.id.in_(story_ids))
    for story in session.scalars(query.order_by(Story.id)):
        members = select(Event.id).where(Event.story_id == story.id)
        count, first, last = session.execute(
            select(
                func.count(), func.min(Event.first_reported_at), func.max(Event.first_reported_at)
            ).where(Event.story_id == story.id, Event.parent_id.is_(None))
        ).one()
        with_children = select(Event.id).where(
            (Event.id.in_(members)) | (Event.parent_id.in_(members))
        )
        articles, sources = session.execute(
            select(
                func.count(func.distinct(Article.id)), func.count(func.distinct(Article.feed_id))
            )
            .join(EventArticle, EventArticle.article_id == Article.id)
            .where(EventArticle.event_id.in_(with_children))
        ).one()
        story.event_count = int(count or 0)
        story.first_reported_at = first
        story.last_reported_at = last
        story.article_count = int(articles or 0)
        story.source_count = int(sources or 0)
    session.flush()


def story_of_event(session: Session, event_id: int) -> Story | None:
    """The story an event belongs to (a merged detected event: its curated event's story)."""
    event = session.get(Event, event_id)
    if event is None:
        return None
    if event.story_id is None and event.parent_id is not None:
        event = session.get(Event, event.parent_id) or event
    return None if event.story_id is None else session.get(Story, event.story_id)
