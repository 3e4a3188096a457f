"""Story queries (tracker.query.stories) on SQLite and PostgreSQL; synthetic rows only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tracker.db import Database
from tracker.db.models import Event, FirmImpact, Instrument, Story
from tracker.errors import NotFoundError, UserInputError
from tracker.markets.universe import seed_universe
from tracker.query import EventFilter, get_story, list_stories, search_events, story_of_event


def _world(database: Database) -> dict[str, int]:
    with database.session() as session:
        seed_universe(session)
        nvda = session.scalars(select(Instrument).where(Instrument.ticker == "NVDA")).one()
        big = Story(slug="big", title="Synthetic: big", importance=80.0, event_count=2)
        small = Story(slug="small", title="Synthetic: small", importance=20.0, event_count=1)
        session.add_all([big, small])
        session.flush()
        ids: dict[str, int] = {"big": big.id, "small": small.id}
        for name, day, story, parent in (
            ("second", 28, big, None),
            ("first", 27, big, None),
            ("lone", 29, small, None),
        ):
            event = Event(
                slug=name,
                title=f"Synthetic: {name}",
                first_reported_at=datetime(2025, 1, day, 14, tzinfo=UTC),
                story_id=story.id,
                parent_id=parent,
                importance=float(30 - day),
            )
            session.add(event)
            session.flush()
            ids[name] = event.id
        merged = Event(
            slug="merged",
            title="Synthetic: merged",
            first_reported_at=datetime(2025, 1, 27, 15, tzinfo=UTC),
            parent_id=ids["first"],
        )
        session.add(merged)
        session.flush()
        ids["merged"] = merged.id
        for car in (-0.05, 0.12):
            session.add(
                FirmImpact(
                    event_id=ids["first"],
                    instrument_id=nvda.id,
                    model="market",
                    window_start=0,
                    window_end=1 if car < 0 else 5,
                    status="ok",
                    car=car,
                    car_p=0.01,
                    input_fingerprint="x",
                )
            )
    return ids


def test_stories_list_by_importance_or_time(database: Database) -> None:
    ids = _world(database)
    with database.session() as session:
        assert [s.slug for s in list_stories(session)] == ["big", "small"]
        assert [s.id for s in list_stories(session, limit=1)] == [ids["big"]]
        with pytest.raises(UserInputError, match="--sort"):
            list_stories(session, sort="size")  # type: ignore[arg-type]


def test_a_story_lists_its_events_in_time_with_headline_impacts(database: Database) -> None:
    ids = _world(database)
    with database.session() as session:
        detail = get_story(session, "big")
        assert [e.slug for e in detail.events] == ["first", "second"]  # merged one left out
        first = detail.events[0]
        # the default window's result, not the larger [0,+5] one
        assert (first.top_ticker, first.top_car) == ("NVDA", -0.05)
        assert detail.events[1].top_car is None
        assert get_story(session, str(ids["big"])).story.slug == "big"
        with pytest.raises(NotFoundError, match="nope"):
            get_story(session, "nope")


def test_the_story_of_an_event_and_events_of_a_story(database: Database) -> None:
    ids = _world(database)
    with database.session() as session:
        story = story_of_event(session, ids["merged"])  # through its curated event
        assert story is not None
        assert story.slug == "big"
        found = search_events(session, EventFilter(story="big"))
        assert [e.slug for e in found] == ["first", "second"]  # by importance
        by_time = search_events(session, EventFilter(story="big", sort="time"))
        assert [e.slug for e in by_time] == ["second", "first"]
        everything = search_events(session, EventFilter(include_merged=True, limit=10))
        assert "merged" in {e.slug for e in everything}
        assert "merged" not in {e.slug for e in search_events(session, EventFilter(limit=10))}
