"""The story page (dashboard/views/story.py) rendered by Streamlit's AppTest."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from tracker.db import Database
from tracker.db.models import Article, Event, EventArticle, Feed, Story

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
HOSTILE = "[Click to re-login](https://evil.example/phish) <img src=x onerror=alert(1)>"


@pytest.fixture
def open_story(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    def run(url: str, **query: str) -> AppTest:
        monkeypatch.setenv("TRACKER_DATABASE_URL", url)
        st.cache_data.clear()
        st.cache_resource.clear()
        app = AppTest.from_file(str(APP), default_timeout=120)
        app.run()
        app.switch_page("views/story.py")
        for key, value in query.items():
            app.query_params[key] = value
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        assert "Stories" in [t.value for t in app.title]
        return app

    yield run
    st.cache_resource.clear()
    st.cache_data.clear()


def _deepseek(url: str) -> tuple[int, dict[str, int]]:
    database = Database.connect(url)
    with database.session() as session:
        story = session.scalars(select(Story).where(Story.slug == "deepseek")).one()
        titles = dict(
            session.execute(select(Event.title, Event.id).where(Event.story_id == story.id)).all()
        )
    database.dispose()
    return story.id, titles


def test_the_deepseek_story_lists_its_events_once_with_their_impacts(open_story, demo_database_url):
    story_id, titles = _deepseek(demo_database_url)
    app = open_story(demo_database_url, story=str(story_id))
    assert any(h.value == "DeepSeek" for h in app.header)
    table = next(e.value for e in app.dataframe if "CAR (%)" in e.value.columns)
    assert table["id"].is_unique
    assert set(table["title"]) <= set(titles)  # only the story's own events
    for title in ("DeepSeek-R1 released", "DeepSeek releases Janus-Pro multimodal models"):
        assert title in set(table["title"])
    # in time order (day 0 follows the first report; the shown times mix dates and clocks)
    days = [day for day in table["day 0"] if day is not None]
    assert days == sorted(days)
    assert len(days) == len(table)
    selloff_row = table[table["title"] == "Nvidia falls about 17% in record one-day value loss"]
    assert selloff_row["first reported (ET)"].iloc[0] == "2025-01-27 (date only)"
    # the sell-off's measured headline move is shown (from the stored results)
    selloff = table[table["title"] == "Nvidia falls about 17% in record one-day value loss"]
    assert selloff["CAR (%)"].iloc[0] < 0
    # the timeline carries one point per listed event
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert sum(len(trace["x"]) for trace in spec["data"]) == len(table)


def test_a_story_title_from_a_feed_is_shown_as_text(open_story, database_url):
    database = Database.connect(database_url)
    at = datetime(2025, 1, 27, 14, tzinfo=UTC)
    with database.session() as session:
        feed = Feed(url="https://example.invalid/feed", name="synthetic")
        session.add(feed)
        session.flush()
        article = Article(
            feed_id=feed.id,
            dedupe_key="a",
            title=HOSTILE,
            published_at=at,
            first_seen_at=at,
            content_hash="a",
        )
        story = Story(slug="hostile", title=HOSTILE, origin="detected", event_count=1)
        session.add_all([article, story])
        session.flush()
        event = Event(slug="hostile-event", title=HOSTILE, first_reported_at=at, story_id=story.id)
        session.add(event)
        session.flush()
        session.add(EventArticle(event_id=event.id, article_id=article.id))
        story_id = story.id
    database.dispose()
    app = open_story(database_url, story=str(story_id))
    for header in app.header:
        assert "](https://evil.example" not in header.value
        assert "\\[Click" in header.value
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    hover = json.dumps(spec["data"])
    assert "<img" not in hover
    assert "&lt;img" in hover
