"""Stories from stored events (tracker.link.stories), on SQLite and PostgreSQL.

Synthetic events (not recorded data): titles written for the test, entities from the
shipped dictionary, so each case isolates one part of the rule.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from tracker.db.models import (
    Article,
    ArticleEntity,
    Entity,
    Event,
    EventArticle,
    EventEntity,
    Feed,
    Story,
)
from tracker.link.curated import day0_of
from tracker.link.events import load_curated_events, prepare
from tracker.link.stories import build_stories, story_of_event

MON = datetime(2025, 1, 27, 14, tzinfo=UTC)
TIMELINE = (
    "date,time_utc,title,kind,entities,tickers,source,story\n"
    "2025-01-20,,Chatbot maker Acme releases reasoning model R9,model_release,DeepSeek,,,"
    "DeepSeek\n"
    "2025-01-27,,Acme reasoning model app tops the app store,product,DeepSeek,,,DeepSeek\n"
)


def _event(session, title: str, at: datetime, entities: list[str], origin: str = "detected"):
    ids = dict(session.execute(select(Entity.slug, Entity.id)).all())
    event = Event(
        slug=f"t-{abs(hash((title, at))) % 10**9}",
        title=title,
        origin=origin,
        first_reported_at=at,
        day0=day0_of(at),
        article_count=1,
        source_count=1,
    )
    session.add(event)
    session.flush()
    for slug in entities:
        session.add(EventEntity(event_id=event.id, entity_id=ids[slug], relevance=1.0))
    session.flush()
    return event.id


def _curated_story(database, tmp_path: Path) -> None:
    path = tmp_path / "timeline.csv"
    path.write_text(TIMELINE, encoding="utf-8")
    assert load_curated_events(database, path) == 2


def test_curated_rows_name_their_story(database, tmp_path: Path) -> None:
    _curated_story(database, tmp_path)
    with database.session() as session:
        story = session.scalars(select(Story)).one()
        assert (story.slug, story.title, story.origin) == ("deepseek", "DeepSeek", "curated")
        members = session.scalars(select(Event).where(Event.story_id == story.id)).all()
        assert len(members) == 2
        build_stories(session)
        assert story.event_count == 2


def test_a_related_event_joins_and_an_unrelated_one_does_not(database, tmp_path: Path) -> None:
    _curated_story(database, tmp_path)
    with database.session() as session:
        prepare(session)
        related = _event(
            session,
            "Acme reasoning model R9 database exposed",
            MON + timedelta(days=2),
            ["deepseek"],
        )
        other = _event(
            session, "Apple cuts the price of its watch bands", MON + timedelta(days=2), ["apple"]
        )
        far = _event(
            session, "Acme reasoning model R9 one year on", MON + timedelta(days=200), ["deepseek"]
        )
        report = build_stories(session)
        story = session.scalars(select(Story).where(Story.slug == "deepseek")).one()
        assert session.get_one(Event, related).story_id == story.id
        assert session.get_one(Event, other).story_id is None
        assert session.get_one(Event, far).story_id is None  # beyond the time gap
        assert report.placed == 1
        assert story.event_count == 3
        assert story_of_event(session, related) is story
        # a second pass changes nothing: placed events stay, the rest still fits nowhere
        again = build_stories(session)
        assert (again.placed, again.stories_created) == (0, 0)


def test_a_locked_event_is_not_placed(database, tmp_path: Path) -> None:
    _curated_story(database, tmp_path)
    with database.session() as session:
        prepare(session)
        pinned = _event(
            session,
            "Acme reasoning model R9 database exposed",
            MON + timedelta(days=2),
            ["deepseek"],
        )
        session.get_one(Event, pinned).story_locked = True
        build_stories(session)
        assert session.get_one(Event, pinned).story_id is None


def test_two_fitting_events_start_a_detected_story(database) -> None:
    with database.session() as session:
        prepare(session)
        first = _event(
            session, "Nvidia graphics card RTX 5090 review: fast and hot", MON, ["nvidia"]
        )
        second = _event(
            session,
            "Nvidia graphics card RTX 5090 sells out in minutes",
            MON + timedelta(days=3),
            ["nvidia"],
        )
        lone = _event(session, "Microsoft patches Windows", MON, ["microsoft"])
        report = build_stories(session)
        assert report.stories_created == 1
        a, b = session.get_one(Event, first), session.get_one(Event, second)
        assert a.story_id is not None
        assert a.story_id == b.story_id
        assert session.get_one(Event, lone).story_id is None
        story = session.get_one(Story, a.story_id)
        assert story.origin == "detected"
        assert story.title.startswith("Nvidia: ")
        assert story.first_reported_at == MON
        assert story.event_count == 2


def _with_articles(session, event_id: int, naming: list[list[str]]) -> None:
    """Articles for an event, each naming the given entities (synthetic rows)."""
    ids = dict(session.execute(select(Entity.slug, Entity.id)).all())
    feed = Feed(url=f"https://example.invalid/feed-{event_id}", name="synthetic")
    session.add(feed)
    session.flush()
    event = session.get_one(Event, event_id)
    for index, slugs in enumerate(naming):
        key = f"https://example.invalid/{event_id}/{index}"
        digest = hashlib.sha256(key.encode()).hexdigest()
        at = event.first_reported_at + timedelta(hours=index)
        article = Article(
            feed_id=feed.id,
            guid=key,
            dedupe_key=digest,
            canonical_url=key,
            title=f"{event.title} ({index})",
            summary_html="",
            summary_text="",
            published_at=at,
            first_seen_at=at,
            content_hash=digest,
        )
        session.add(article)
        session.flush()
        session.add(
            EventArticle(event_id=event_id, article_id=article.id, relevance=1.0, reason="t")
        )
        for slug in slugs:
            session.add(
                ArticleEntity(
                    article_id=article.id,
                    entity_id=ids[slug],
                    relevance=0.6,
                    in_title=True,
                    mentions=1,
                )
            )
    event.article_count = len(naming)
    session.flush()


def test_an_entity_one_article_names_does_not_carry_its_event_into_a_story(
    database, tmp_path: Path
) -> None:
    """The demo's Apple cluster held one article on "Apple researchers reveal the secret sauce
    behind DeepSeek AI" and went into the DeepSeek story: an event joins a story through the
    names most of its articles carry."""
    _curated_story(database, tmp_path)
    with database.session() as session:
        prepare(session)
        title = "Apple researchers reveal the Acme reasoning model R9 secret sauce"
        passing = _event(session, title, MON + timedelta(days=1), ["apple", "deepseek"])
        _with_articles(session, passing, [["apple", "deepseek"], ["apple"], ["apple"]])
        about = _event(session, title + " again", MON + timedelta(days=1), ["apple", "deepseek"])
        _with_articles(session, about, [["apple", "deepseek"], ["deepseek"], ["apple"]])
        build_stories(session)
        story = session.scalars(select(Story).where(Story.slug == "deepseek")).one()
        assert session.get_one(Event, passing).story_id != story.id
        assert session.get_one(Event, about).story_id == story.id
