"""The feed registry on both backends: seeding, adding, removing, health rows."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tracker.db.models import Article, Feed
from tracker.errors import NotFoundError, UserInputError
from tracker.news.registry import (
    DEFAULT_FEEDS,
    add_feed,
    feed_health_rows,
    remove_feed,
    seed_default_feeds,
)

NOW = datetime(2025, 1, 27, 12, 0, tzinfo=UTC)


def test_defaults_are_the_documented_real_feeds(data_dir) -> None:
    with (data_dir / "feeds" / "feeds.csv").open() as handle:
        documented = {row["url"] for row in csv.DictReader(handle)}
    assert {spec.url for spec in DEFAULT_FEEDS} == documented


def test_seeding_is_idempotent_and_keeps_disabled_feeds_disabled(database) -> None:
    with database.session() as session:
        assert seed_default_feeds(session) == len(DEFAULT_FEEDS)
        remove_feed(session, DEFAULT_FEEDS[0].url)
    with database.session() as session:
        assert seed_default_feeds(session) == 0
        assert session.scalar(select(func.count()).select_from(Feed)) == len(DEFAULT_FEEDS)
        feed = session.scalar(select(Feed).where(Feed.url == DEFAULT_FEEDS[0].url))
        assert feed is not None
        assert not feed.enabled


def test_add_validates_and_re_enables(database) -> None:
    with database.session() as session:
        with pytest.raises(UserInputError, match="not an http"):
            add_feed(session, "ftp://example.test/feed")
        feed = add_feed(session, "https://example.test/feed.xml", name="Example")
        assert feed.name == "Example"
        remove_feed(session, feed.url)
        assert not feed.enabled
        again = add_feed(session, "https://example.test/feed.xml")
        assert again.id == feed.id
        assert again.enabled


def test_remove_unknown_feed_is_not_found(database) -> None:
    with database.session() as session, pytest.raises(NotFoundError, match="no feed"):
        remove_feed(session, "https://nowhere.test/feed")


def test_purge_deletes_feed_and_articles(database) -> None:
    with database.session() as session:
        feed = add_feed(session, "https://example.test/feed.xml")
        session.add(
            Article(
                feed_id=feed.id,
                dedupe_key="h:1",
                title="synthetic",
                published_at=NOW,
                content_hash="1",
            )
        )
        session.flush()
        assert remove_feed(session, feed.url, purge=True) == 1
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 0
        assert session.scalar(select(func.count()).select_from(Feed)) == 0


def test_health_rows_flag_feeds_failing_for_days(database) -> None:
    with database.session() as session:
        ok = add_feed(session, "https://ok.test/feed")
        bad = add_feed(session, "https://bad.test/feed")
        ok.last_success_at = NOW
        bad.error_count = 40
        bad.failing_since = NOW - timedelta(days=3)
        bad.last_error = "HTTP 500"
    with database.session() as session:
        rows = {row["url"]: row for row in feed_health_rows(session, NOW)}
    assert rows["https://bad.test/feed"]["failing"] is True
    assert rows["https://bad.test/feed"]["error_count"] == 40
    assert rows["https://ok.test/feed"]["failing"] is False
    assert rows["https://ok.test/feed"]["last_success_at"] == NOW
