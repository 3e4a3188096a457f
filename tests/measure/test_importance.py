"""Importance (tracker.measure.importance): the order of the default lists.

Synthetic events and impacts (made-up numbers, real tickers), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tracker.db import Database
from tracker.db.models import Event, EventTicker, FirmImpact, Instrument, Story
from tracker.markets.universe import seed_universe
from tracker.measure.importance import (
    event_importance,
    is_significant,
    refresh_importance,
    story_importance,
)

AT = datetime(2025, 1, 27, 14, tzinfo=UTC)


def test_the_significance_test_is_p_below_five_percent() -> None:
    assert is_significant(0.049)
    assert not is_significant(0.05)
    assert not is_significant(None)
    assert not is_significant(float("nan"))


def test_each_part_raises_the_score() -> None:
    base = Event(origin="detected", is_novel=False, source_count=0, article_count=0)
    zero, _ = event_importance(base, 0.0, [])
    assert zero == 0.0
    covered = Event(origin="detected", is_novel=False, source_count=5, article_count=12)
    curated = Event(origin="curated", is_novel=False, source_count=0, article_count=0)
    novel = Event(origin="detected", is_novel=True, source_count=0, article_count=0)
    scores = [
        event_importance(covered, 0.0, [])[0],
        event_importance(curated, 0.0, [])[0],
        event_importance(novel, 0.0, [])[0],
        event_importance(base, 1.0, [])[0],
        event_importance(base, 0.0, [("NVDA", -0.17, 1.0)])[0],
    ]
    assert all(score > 0 for score in scores)
    # a move on a ticker linked only through a theme counts less than on a named one
    named, detail = event_importance(base, 0.0, [("NVDA", -0.17, 1.0)])
    themed, _ = event_importance(base, 0.0, [("VST", -0.17, 0.5)])
    assert named > themed
    assert detail["significant_moves"] == [{"ticker": "NVDA", "car": -0.17, "relevance": 1.0}]
    full = Event(origin="curated", is_novel=True, source_count=10, article_count=40)
    top, _ = event_importance(full, 1.0, [("A", 0.2, 1.0), ("B", 0.2, 1.0), ("C", 0.2, 1.0)])
    assert top == 100.0


def test_a_story_ranks_by_its_best_event_plus_a_share_of_the_rest() -> None:
    assert story_importance([]) == 0.0
    assert story_importance([40.0]) == 40.0
    assert story_importance([40.0, 60.0, 20.0]) > 60.0


def _event(session, slug: str, **fields) -> Event:
    event = Event(slug=slug, title=f"Synthetic: {slug}", first_reported_at=AT, **fields)
    session.add(event)
    session.flush()
    return event


def test_stored_significant_moves_put_an_event_first(database: Database) -> None:
    with database.session() as session:
        seed_universe(session)
        nvda = session.scalars(select(Instrument).where(Instrument.ticker == "NVDA")).one()
        story = Story(slug="s", title="Synthetic story")
        session.add(story)
        session.flush()
        quiet = _event(session, "quiet", source_count=3, article_count=3, story_id=story.id)
        moved = _event(session, "moved", source_count=3, article_count=3, story_id=story.id)
        for event, p in ((quiet, 0.6), (moved, 0.001)):
            session.add(EventTicker(event_id=event.id, instrument_id=nvda.id, relevance=1.0))
            session.add(
                FirmImpact(
                    event_id=event.id,
                    instrument_id=nvda.id,
                    model="market",
                    window_start=0,
                    window_end=1,
                    status="ok",
                    car=-0.12,
                    car_p=p,
                    q_value=p,  # significance is read from the stored q-value
                    input_fingerprint="x",
                )
            )
        quiet_id, moved_id, story_id = quiet.id, moved.id, story.id
    assert refresh_importance(database) == 2
    with database.session() as session:
        quiet, moved = session.get_one(Event, quiet_id), session.get_one(Event, moved_id)
        assert moved.importance > quiet.importance
        assert moved.importance_detail["significant_moves"][0]["ticker"] == "NVDA"
        assert quiet.importance_detail["significant_moves"] == []
        story = session.get_one(Story, story_id)
        assert story.importance == story_importance([moved.importance, quiet.importance])
