"""Attention series by hour and session, subjects (story or named entities), attention day 0."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from tracker.db import Database
from tracker.db.models import (
    Article,
    ArticleEntity,
    Entity,
    EntityAlias,
    Event,
    EventArticle,
    EventEntity,
    Feed,
    Story,
)
from tracker.impact.calendar import sessions_between
from tracker.link.attention import (
    coverage_start,
    entity_articles,
    event_subject,
    hourly_counts,
    session_counts,
    story_articles,
    update_attention_day0,
)

SESSIONS = sessions_between(date(2025, 1, 2), date(2025, 2, 14), "XNYS")
_ids = itertools.count(1)


def at_noon_utc(day: date) -> datetime:
    """16:00 UTC: during the New York session, so the article counts on that day."""
    return datetime(day.year, day.month, day.day, 16, tzinfo=UTC)


class World:
    """Feeds, two entities and helpers to place articles; plain labels, not headlines."""

    def __init__(self, database: Database) -> None:
        self.db = database
        with database.session() as session:
            self.feeds = []
            for n in range(6):
                feed = Feed(url=f"https://feeds.example.org/{n}", name=f"feed {n}")
                session.add(feed)
                self.feeds.append(feed)
            self.lab = Entity(slug="lab-x", name="Lab X", kind="lab")
            self.other = Entity(slug="bigco", name="BigCo", kind="company")
            session.add_all([self.lab, self.other])
            session.flush()
            session.add(EntityAlias(entity_id=self.lab.id, alias="LabX"))
            self.feed_ids = [feed.id for feed in self.feeds]
            self.lab_id, self.other_id = self.lab.id, self.other.id

    def articles(
        self, when: datetime, count: int, feeds: int, entity_ids: Sequence[int]
    ) -> list[int]:
        ids = []
        with self.db.session() as session:
            for i in range(count):
                n = next(_ids)
                article = Article(
                    feed_id=self.feed_ids[i % feeds],
                    dedupe_key=f"k{n}",
                    title=f"item {n}",
                    published_at=when + timedelta(minutes=i),
                    content_hash=f"h{n}",
                )
                session.add(article)
                session.flush()
                for entity_id in entity_ids:
                    session.add(
                        ArticleEntity(article_id=article.id, entity_id=entity_id, relevance=1.0)
                    )
                ids.append(article.id)
        return ids

    def event(self, slug: str, title: str, day0: date, entity_ids: Sequence[int],
              story_id: int | None = None, article_ids: Sequence[int] = ()) -> int:  # fmt: skip
        with self.db.session() as session:
            event = Event(slug=slug, title=title, first_reported_at=at_noon_utc(day0), day0=day0,
                          story_id=story_id)  # fmt: skip
            session.add(event)
            session.flush()
            for entity_id in entity_ids:
                session.add(EventEntity(event_id=event.id, entity_id=entity_id))
            for article_id in article_ids:
                session.add(EventArticle(event_id=event.id, article_id=article_id))
            return event.id

    def background(self, entity_id: int) -> None:
        """One article a session from one feed, on every session of the range."""
        for day in SESSIONS:
            self.articles(at_noon_utc(day), 1, 1, [entity_id])


@pytest.fixture
def world(database: Database) -> World:
    return World(database)


def test_counts_by_session_follow_the_day0_mapping(world: World, database: Database) -> None:
    saturday = datetime(2025, 1, 25, 12, tzinfo=UTC)
    after_close = datetime(2025, 1, 24, 22, tzinfo=UTC)  # 17:00 New York: after the close
    world.articles(saturday, 3, 3, [world.lab_id])
    world.articles(after_close, 2, 1, [world.lab_id])
    world.articles(at_noon_utc(date(2025, 1, 23)), 1, 1, [world.lab_id])
    with database.session() as session:
        articles = entity_articles(session, [world.lab_id])
    counts = session_counts(articles, date(2025, 1, 22), date(2025, 1, 28)).set_index("session")
    assert counts.loc[date(2025, 1, 27), "articles"] == 5  # Friday evening + the weekend
    assert counts.loc[date(2025, 1, 27), "sources"] == 3
    assert counts.loc[date(2025, 1, 23), "articles"] == 1
    assert counts.loc[date(2025, 1, 22), "articles"] == 0
    assert date(2025, 1, 25) not in counts.index  # sessions only
    unknown = session_counts(articles, date(2025, 1, 22), date(2025, 1, 28),
                             known_from=date(2025, 1, 24)).set_index("session")  # fmt: skip
    assert pd.isna(unknown.loc[date(2025, 1, 23), "articles"])
    hours = hourly_counts(articles).set_index("hour")
    assert hours.loc[pd.Timestamp("2025-01-25 12:00", tz="UTC"), "articles"] == 3
    assert hours["articles"].sum() == 6


def test_coverage_starts_after_the_last_long_gap() -> None:
    days = [date(2016, 2, 25), date(2017, 3, 6), *[date(2025, 1, d) for d in range(6, 31)]]
    assert coverage_start(days, date(2025, 1, 21)) == date(2025, 1, 6)
    assert coverage_start(days, date(2016, 1, 1)) is None


def test_the_subject_is_the_story_else_the_entities_the_title_names(
    world: World, database: Database
) -> None:
    named = world.event("e1", "LabX releases a model", SESSIONS[10], [world.lab_id, world.other_id])
    unnamed = world.event("e2", "something happened", SESSIONS[10], [world.lab_id, world.other_id])
    with database.session() as session:
        story = Story(slug="s", title="a story")
        session.add(story)
        session.flush()
        story_id = story.id
    in_story = world.event("e3", "LabX again", SESSIONS[11], [world.lab_id], story_id=story_id)
    with database.session() as session:
        first = event_subject(session, session.get_one(Event, named))
        second = event_subject(session, session.get_one(Event, unnamed))
        third = event_subject(session, session.get_one(Event, in_story))
    assert first is not None
    assert first.entity_ids == (world.lab_id,)  # BigCo is linked but not named
    assert second is not None
    assert set(second.entity_ids) == {world.lab_id, world.other_id}
    assert third is not None
    assert (third.kind, third.story_id) == ("story", story_id)


def test_attention_day0_is_the_surge_session_for_an_entity(
    world: World, database: Database
) -> None:
    world.background(world.lab_id)
    day0, surge = SESSIONS[15], SESSIONS[19]
    world.articles(at_noon_utc(day0), 2, 1, [world.lab_id])  # published: one outlet
    world.articles(at_noon_utc(surge), 12, 6, [world.lab_id])  # noticed: six outlets
    event_id = world.event("release", "Lab X releases a model", day0, [world.lab_id])
    quiet_id = world.event("quiet", "BigCo", day0, [world.other_id])
    report = update_attention_day0(database)
    assert report.failed == 0
    with database.session() as session:
        event = session.get_one(Event, event_id)
        quiet = session.get_one(Event, quiet_id)
    assert event.attention_day0 == surge
    detail = event.attention_detail
    assert detail["lag_sessions"] == 4
    assert detail["onset"]["articles"] == 13  # the surge plus the background article
    assert detail["onset"]["sources"] == 6
    assert detail["subject"]["label"] == "lab-x"
    assert detail["parameters"]["method"] == "robust_z_trailing_median"
    assert quiet.attention_day0 is None
    assert quiet.attention_detail["result"] == "no surge within the search range"


def test_attention_day0_follows_the_story_when_the_event_has_one(
    world: World, database: Database
) -> None:
    world.background(world.other_id)  # coverage is known from the first session on
    with database.session() as session:
        story = Story(slug="thread", title="a thread")
        session.add(story)
        session.flush()
        story_id = story.id
    day0, surge = SESSIONS[14], SESSIONS[16]
    first = world.articles(at_noon_utc(day0), 1, 1, [])
    later = world.articles(at_noon_utc(surge), 8, 4, [])
    event_id = world.event("opening", "BigCo", day0, [world.other_id], story_id, first)
    world.event("follow-up", "BigCo again", surge, [world.other_id], story_id, later)
    update_attention_day0(database)
    with database.session() as session:
        event = session.get_one(Event, event_id)
        assert len(story_articles(session, story_id)) == 9
    assert event.attention_day0 == surge
    assert event.attention_detail["subject"]["kind"] == "story"
    assert event.attention_detail["onset"]["sources"] == 4
