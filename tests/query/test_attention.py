"""Attention reads: the stored anchored rows and strip, series by session and hour, errors.

Synthetic rows: titles and numbers are made up (only the tickers are real).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tracker.db import Database
from tracker.db.models import (
    AnchoredImpact,
    Article,
    ArticleEntity,
    Entity,
    Event,
    EventEntity,
    Feed,
)
from tracker.errors import NotFoundError, UserInputError
from tracker.markets.universe import ensure_instruments, seed_universe
from tracker.query.attention import (
    entities_with_articles,
    entity_attention_series,
    event_attention,
    event_attention_series,
    story_attention_series,
)


@pytest.fixture
def event_id(database: Database) -> int:
    with database.session() as session:
        seed_universe(session)
        nvda = ensure_instruments(session, ["NVDA"])["NVDA"]
        feed = Feed(url="https://feeds.example.org/a", name="a")
        lab = Entity(slug="lab-x", name="Lab X", kind="lab")
        event = Event(
            slug="synthetic-release",
            title="Synthetic: Lab X release",
            first_reported_at=datetime(2025, 1, 21, 15, tzinfo=UTC),
            day0=date(2025, 1, 21),
            attention_day0=date(2025, 1, 27),
            attention_detail={"lag_sessions": 4, "result": "surge"},
        )
        session.add_all([feed, lab, event])
        session.flush()
        session.add(EventEntity(event_id=event.id, entity_id=lab.id))
        for n, stamp in enumerate(
            [datetime(2025, 1, 21, 15, tzinfo=UTC), datetime(2025, 1, 25, 12, tzinfo=UTC)]
        ):
            article = Article(feed_id=feed.id, dedupe_key=f"k{n}", title=f"Synthetic {n}",
                              published_at=stamp, content_hash=f"h{n}")  # fmt: skip
            session.add(article)
            session.flush()
            session.add(ArticleEntity(article_id=article.id, entity_id=lab.id, relevance=1.0))
        for shift, car in [(0, 0.01), (4, -0.2), (-1, 0.0)]:
            session.add(
                AnchoredImpact(
                    event_id=event.id,
                    anchor="shift",
                    shift=shift,
                    subject="NVDA",
                    instrument_id=nvda,
                    model="market",
                    window_start=0,
                    window_end=0,
                    day0=date(2025, 1, 21),
                    status="ok",
                    car=car,
                    statistics={"value_change": car * 1e9},
                    parameters={},
                    input_fingerprint="x",
                )
            )
        session.add(
            AnchoredImpact(
                event_id=event.id,
                anchor="attention",
                shift=0,
                subject="NVDA",
                instrument_id=nvda,
                model="market",
                window_start=0,
                window_end=1,
                day0=date(2025, 1, 27),
                status="ok",
                car=-0.1,
                statistics={},
                parameters={},
                input_fingerprint="y",
            )
        )
        return event.id


def test_the_event_attention_summary_and_its_strip(database: Database, event_id: int) -> None:
    with database.session() as session:
        found = event_attention(session, "synthetic-release")
    assert (found.day0, found.attention_day0, found.lag_sessions) == (
        date(2025, 1, 21),
        date(2025, 1, 27),
        4,
    )
    assert [r.shift for r in found.strip("NVDA")] == [-1, 0, 4]
    assert found.strip("NVDA")[-1].value_change == pytest.approx(-0.2e9)
    assert set(found.at_attention((0, 1))) == {"NVDA"}
    assert found.at_attention((0, 0)) == {}


def test_series_by_session_and_hour(database: Database, event_id: int) -> None:
    with database.session() as session:
        by_session = event_attention_series(session, event_id).set_index("session")
        by_hour = event_attention_series(session, event_id, by="hour")
        entity = entity_attention_series(session, ["lab-x"], date(2025, 1, 20), date(2025, 1, 28))
        slugs = entities_with_articles(session)
    assert by_session.loc[date(2025, 1, 21), "articles"] == 1
    assert by_session.loc[date(2025, 1, 27), "articles"] == 1  # the Saturday article
    assert len(by_hour) == 2
    assert list(entity.columns) == ["entity", "session", "articles", "sources"]
    assert entity["articles"].sum() == 2
    assert slugs == ["lab-x"]


def test_a_storys_series_covers_its_events_articles(database: Database, event_id: int) -> None:
    from tracker.db.models import EventArticle, Story

    with database.session() as session:
        story = Story(slug="synthetic-thread", title="Synthetic: a thread")
        session.add(story)
        session.flush()
        session.get_one(Event, event_id).story_id = story.id
        for article_id in session.scalars(select(Article.id)):
            session.add(EventArticle(event_id=event_id, article_id=article_id))
        story_id = story.id
    with database.session() as session:
        series = story_attention_series(session, story_id).set_index("session")
        with pytest.raises(NotFoundError, match="no story"):
            story_attention_series(session, story_id + 1)
    assert series["articles"].sum() == 2
    assert series.loc[date(2025, 1, 27), "sources"] == 1


def test_unknown_names_and_bad_grouping_are_clear_errors(database: Database, event_id: int) -> None:
    with database.session() as session:
        with pytest.raises(NotFoundError, match="unknown entity nope"):
            entity_attention_series(session, ["nope"], date(2025, 1, 1), date(2025, 1, 2))
        with pytest.raises(UserInputError, match="session or hour"):
            event_attention_series(session, event_id, by="minute")
        with pytest.raises(NotFoundError):
            event_attention(session, "no-such-event")
