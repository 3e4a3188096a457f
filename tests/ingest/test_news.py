"""Polling into the database (SQLite and PostgreSQL) against a real loopback HTTP server."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import feedparser
import httpx
import pytest
from sqlalchemy import func, select, text

from tests.feed_server import LOOPBACK, FeedServer, Reply, item, rss
from tracker.config import Settings
from tracker.db.models import Article, Feed
from tracker.ingest.news import (
    _FeedRef,
    backfill_search,
    poll_due_feeds,
    poll_feed,
    poll_feeds,
    poll_recorded,
)
from tracker.news.normalize import dedupe_key as make_key
from tracker.news.registry import add_feed
from tracker.sources.feeds import make_client

NOW = datetime(2025, 1, 27, 12, 0, tzinfo=UTC)
SETTINGS = Settings(
    feed_timeout_seconds=0.5,
    feed_max_bytes=200_000,
    feed_interval_minutes=10,
    feed_allowed_networks=LOOPBACK,
)
GOOD = rss(
    [
        item(
            "s1",
            "Synthetic one",
            link="https://example.test/1?utm_source=rss",
            date="Mon, 27 Jan 2025 07:49:01 +0000",
            description="<p>one</p>",
        ),
        item(
            "s2",
            "Synthetic two",
            link="https://example.test/2",
            date="Mon, 27 Jan 2025 08:00:00 GMT",
        ),
    ]
)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(SETTINGS) as http:
        yield http


def register(database, *urls: str) -> None:
    with database.session() as session:
        for url in urls:
            add_feed(session, url)


def feed_row(database, url: str) -> Feed:
    with database.session() as session:
        feed = session.scalar(select(Feed).where(Feed.url == url))
        assert feed is not None
        return feed


def article_count(database, url: str | None = None) -> int:
    query = select(func.count()).select_from(Article)
    if url:
        query = query.join(Feed).where(Feed.url == url)
    with database.session() as session:
        return session.scalar(query) or 0


def test_good_feed_then_304_adds_nothing(database, server, client) -> None:
    server.routes["/good"] = Reply(body=GOOD, etag='"e1"', headers={"Last-Modified": "lm"})
    url = server.url("/good")
    register(database, url)
    first = poll_due_feeds(database, SETTINGS, NOW, client=client)
    assert first.as_counts()["new"] == 2
    assert first.rows[0].status == "ok"
    feed = feed_row(database, url)
    assert feed.etag == '"e1"'
    assert feed.last_modified == "lm"
    assert feed.last_success_at == NOW
    assert feed.next_check_at == NOW + timedelta(minutes=10)
    assert poll_due_feeds(database, SETTINGS, NOW, client=client).rows == []  # not due yet
    later = NOW + timedelta(minutes=11)
    second = poll_due_feeds(database, SETTINGS, later, client=client)
    assert second.rows[0].status == "not_modified"
    assert second.as_counts() == {
        "feeds": 1,
        "new": 0,
        "duplicate": 0,
        "not_modified": 1,
        "errors": 0,
    }
    assert server.requests[-1][1]["If-None-Match"] == '"e1"'
    assert article_count(database) == 2
    with database.session() as session:
        one = session.scalar(select(Article).where(Article.guid == "s1"))
        assert one is not None
        assert one.published_at == datetime(2025, 1, 27, 7, 49, 1, tzinfo=UTC)
        assert one.canonical_url == "https://example.test/1"
        assert one.first_seen_at == NOW


def test_each_bad_feed_is_recorded_and_the_others_continue(database, server, client) -> None:
    server.routes["/good"] = Reply(body=GOOD)
    server.routes["/html"] = Reply(
        body=b"<html><body>Error</body></html>", headers={"Content-Type": "text/html"}
    )
    server.routes["/500"] = Reply(status=500, body=b"oops")
    server.routes["/429"] = Reply(status=429, headers={"Retry-After": "7200"})
    server.routes["/big"] = Reply(body=b"<rss>" + b"x" * 300_000)
    server.routes["/slow"] = Reply(body=GOOD, delay=1.0)
    server.routes["/loop"] = Reply(status=302, headers={"Location": "/loop"})
    server.routes["/garbage"] = Reply(body=b"\x00\x01 not xml at all <<<")
    bad = ["/html", "/500", "/429", "/big", "/slow", "/loop", "/garbage"]
    register(database, server.url("/good"), *(server.url(path) for path in bad))
    report = poll_due_feeds(database, SETTINGS, NOW, client=client)
    by_path = {urlsplit(row.feed).path: row for row in report.rows}
    assert by_path["/good"].new == 2
    for path in bad:
        assert by_path[path].status == "error", path
        feed = feed_row(database, server.url(path))
        assert feed.error_count == 1
        assert feed.failing_since == NOW
        assert feed.last_error
        assert feed.next_check_at is not None
        assert feed.next_check_at > NOW
    assert feed_row(database, server.url("/429")).next_check_at == NOW + timedelta(hours=2)
    assert "not an RSS/Atom feed" in (feed_row(database, server.url("/html")).last_error or "")
    assert report.as_counts()["errors"] == len(bad)
    assert article_count(database) == 2


def test_error_count_grows_and_success_resets_it(database, server, client) -> None:
    server.routes["/flaky"] = Reply(status=503)
    url = server.url("/flaky")
    register(database, url)
    poll_feed(database, SETTINGS, url, NOW, client=client)
    poll_feed(database, SETTINGS, url, NOW + timedelta(hours=1), client=client)
    feed = feed_row(database, url)
    assert feed.error_count == 2
    assert feed.failing_since == NOW
    assert feed.next_check_at is not None
    assert feed.next_check_at - (NOW + timedelta(hours=1)) >= timedelta(minutes=16)
    server.routes["/flaky"] = Reply(body=GOOD)
    poll_feed(database, SETTINGS, url, NOW + timedelta(hours=2), client=client)
    feed = feed_row(database, url)
    assert (feed.error_count, feed.failing_since, feed.last_error) == (0, None, None)


def test_hostile_content_is_sanitised_and_duplicates_stored_once(database, server, client):
    hostile = rss(
        [
            item(
                "x1",
                "&lt;script&gt;alert(1)&lt;/script&gt;Evil &lt;b&gt;title&lt;/b&gt;",
                link="https://example.test/x1",
                description='&lt;img src=x onerror="alert(1)"&gt;&lt;a href="javascript:alert(1)"'
                "&gt;click&lt;/a&gt;&lt;p onclick=x&gt;text&lt;/p&gt;",
            ),
            item("x1", "Same guid again", link="https://example.test/x1-again"),
            item(None, "No date, no guid", link="https://example.test/nodate"),
            item(
                "future",
                "From the future",
                link="https://example.test/f",
                date="Fri, 01 Jan 2100 00:00:00 GMT",
            ),
        ]
    )
    server.routes["/hostile"] = Reply(body=hostile)
    url = server.url("/hostile")
    register(database, url)
    row = poll_feed(database, SETTINGS, url, NOW, client=client)
    assert (row.new, row.duplicate) == (3, 1)
    with database.session() as session:
        articles = {a.canonical_url: a for a in session.scalars(select(Article))}
    evil = articles["https://example.test/x1"]
    assert evil.title == "Evil title"
    for field in (evil.title, evil.summary_html, evil.summary_text):
        lowered = field.lower()
        assert "<script" not in lowered
        assert "onerror" not in lowered
        assert "onclick" not in lowered
        assert "javascript:" not in lowered
    assert "click" in evil.summary_text
    undated = articles["https://example.test/nodate"]
    assert undated.published_estimated
    assert undated.published_at == NOW
    future = articles["https://example.test/f"]
    assert future.future_dated
    assert future.published_at == NOW


def test_truncated_feed_stores_recovered_entries_and_records_the_warning(
    database, server, client
) -> None:
    server.routes["/cut"] = Reply(body=GOOD[: GOOD.index(b"Synthetic two") + 5])
    url = server.url("/cut")
    register(database, url)
    row = poll_feed(database, SETTINGS, url, NOW, client=client)
    assert row.status == "malformed"
    assert row.new >= 1
    feed = feed_row(database, url)
    assert feed.last_status == "malformed"
    assert "malformed" in (feed.last_error or "")


def test_same_story_in_two_feeds_is_stored_once_per_feed(database, server, client) -> None:
    story = "https://example.test/story"
    server.routes["/a"] = Reply(body=rss([item("a-1", "Story", link=story + "?utm_source=a")]))
    server.routes["/b"] = Reply(body=rss([item("b-9", "Story", link=story + "?utm_campaign=b")]))
    register(database, server.url("/a"), server.url("/b"))
    poll_due_feeds(database, SETTINGS, NOW, client=client)
    poll_due_feeds(database, SETTINGS, NOW + timedelta(hours=1), client=client)
    with database.session() as session:
        urls = session.scalars(select(Article.canonical_url)).all()
    assert urls == [story, story]


def _poison_trigger(database) -> None:
    """A database trigger refusing one title: a storage failure in the middle of a batch."""
    with database.engine.begin() as connection:
        if database.backend == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON articles WHEN NEW.title = 'POISON' "
                    "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE OR REPLACE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
                    "IF NEW.title = 'POISON' THEN RAISE EXCEPTION 'poisoned row'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON articles "
                    "FOR EACH ROW EXECUTE FUNCTION poison()"
                )
            )


def _drop_poison(database) -> None:
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "DROP TRIGGER poison"
                if database.backend == "sqlite"
                else "DROP TRIGGER poison ON articles"
            )
        )


def test_a_failing_batch_is_not_half_stored(database, server, client) -> None:
    _poison_trigger(database)
    try:
        server.routes["/p"] = Reply(body=rss([item("1", "fine"), item("2", "POISON")]))
        server.routes["/ok"] = Reply(body=GOOD)
        register(database, server.url("/p"), server.url("/ok"))
        report = poll_due_feeds(database, SETTINGS, NOW, client=client)
    finally:
        _drop_poison(database)
    by_path = {urlsplit(row.feed).path: row for row in report.rows}
    assert by_path["/p"].status == "error"
    assert "storage failed" in (by_path["/p"].error or "")
    assert article_count(database, server.url("/p")) == 0
    assert article_count(database, server.url("/ok")) == 2
    assert feed_row(database, server.url("/p")).error_count == 1


def test_one_request_at_a_time_per_host(database, server, client) -> None:
    other = FeedServer().start()
    try:
        for path in ("/1", "/2", "/3"):
            server.routes[path] = Reply(body=GOOD, delay=0.1)
            other.routes[path] = Reply(body=GOOD, delay=0.1)
        register(database, *(s.url(p) for s in (server, other) for p in ("/1", "/2", "/3")))
        report = poll_due_feeds(database, SETTINGS, NOW, client=client)
    finally:
        other.stop()
    assert report.as_counts()["new"] == 12
    assert server.max_active == 1
    assert other.max_active == 1


def test_backfill_searches_the_window_through_the_same_path(database, server, client) -> None:
    server.routes["/rss/search"] = Reply(body=GOOD)
    row = backfill_search(
        database,
        SETTINGS,
        "DeepSeek",
        date(2025, 1, 19),
        date(2025, 1, 31),
        client=client,
        endpoint=server.url("/rss/search"),
        now=NOW,
    )
    assert (row.status, row.new) == ("ok", 2)
    query = parse_qs(urlsplit(server.requests[-1][0]).query)
    assert query["q"] == ["DeepSeek after:2025-01-19 before:2025-02-01"]
    feed = feed_row(database, row.feed)
    assert feed.kind == "search"
    assert poll_due_feeds(database, SETTINGS, NOW, client=client).rows == []  # not polled


# ------------------------------------------------------------------------ recorded data


def _expected_recorded_keys(data_dir) -> set[tuple[str, str]]:
    """(feed, dedupe key) of every real recorded entry, computed from the files themselves."""
    feeds = data_dir / "feeds"
    keys = set()
    for path in sorted((feeds / "corpus").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            keys.add((entry["source_url"], make_key(entry["link"], None, "")))
    for path in sorted((feeds / "recorded").glob("*_entries_*.json")):
        for entry in json.loads(path.read_text()):
            keys.add((entry["source_url"], make_key(entry["link"], None, "")))
    for path in [*(feeds / "recorded").glob("*.xml"), *(feeds / "recorded").glob("*.atom")]:
        parsed = feedparser.parse(path.read_bytes())
        feed_url = next(
            (link.href for link in parsed.feed.get("links", []) if link.rel == "self"),
            parsed.feed.link,
        )
        for entry in parsed.entries:
            keys.add((feed_url, make_key(entry.get("id") or None, entry.link, "")))
    return keys


def test_recorded_feeds_twice_store_every_real_entry_once(database, data_dir) -> None:
    expected = _expected_recorded_keys(data_dir)
    first = poll_recorded(database, data_dir)
    assert first.as_counts()["errors"] == 0
    assert first.as_counts()["new"] == len(expected)
    second = poll_recorded(database, data_dir)
    assert second.as_counts()["new"] == 0
    with database.session() as session:
        stored = set(session.execute(select(Feed.url, Article.dedupe_key).join(Article.feed)))
        assert stored == expected
        verge = session.scalar(
            select(Article)
            .join(Feed)
            .where(
                Feed.url == "https://www.theverge.com/rss/index.xml",
                Article.canonical_url
                == "https://www.theverge.com/2025/1/27/24352801/deepseek-ai-chatbot-chatgpt-ios-app-store",
            )
        )
        assert verge is not None
        assert verge.title == "China’s DeepSeek AI is hitting Nvidia where it hurts"
        assert verge.published_at == datetime(2025, 1, 27, 7, 49, 1, tzinfo=UTC)
        assert not verge.published_estimated
        assert "<figure" not in verge.summary_html
        assert "DeepSeek" in verge.summary_text


def test_recorded_until_replays_only_what_was_published(database, data_dir) -> None:
    until = datetime(2025, 1, 27, 7, 49, 1, tzinfo=UTC)
    poll_recorded(database, data_dir, until=until)
    with database.session() as session:
        latest = session.scalar(select(func.max(Article.published_at)))
        titles = set(session.scalars(select(Article.title)))
    assert latest is not None
    assert latest <= until
    assert "China’s DeepSeek AI is hitting Nvidia where it hurts" in titles
    later = poll_recorded(database, data_dir, until=until + timedelta(hours=6))
    assert later.as_counts()["new"] > 0


def test_hostile_scheduling_headers_never_stop_the_poll(database, server, client) -> None:
    """Before: ``Retry-After: 99999999999999999999`` or ``²`` raised out of the poll (every
    later poll crashed the same way, feeds behind it on the host were never polled) and a
    huge ``max-age`` failed a healthy feed's batch with "storage failed"."""
    server.routes["/huge"] = Reply(status=503, headers={"Retry-After": "99999999999999999999"})
    server.routes["/sup"] = Reply(status=429, headers={"Retry-After": "\u00b2"})
    server.routes["/maxage"] = Reply(
        body=GOOD, headers={"Cache-Control": "max-age=99999999999999999999"}
    )
    server.routes["/after"] = Reply(body=rss([item("a1", "Synthetic after")]))
    paths = ["/huge", "/sup", "/maxage", "/after"]  # one host: polled one after the other
    register(database, *(server.url(path) for path in paths))
    report = poll_due_feeds(database, SETTINGS, NOW, client=client)
    by_path = {urlsplit(row.feed).path: row for row in report.rows}
    assert [by_path[path].status for path in paths] == ["error", "error", "ok", "ok"]
    assert (by_path["/maxage"].new, by_path["/after"].new) == (2, 1)
    huge = feed_row(database, server.url("/huge"))
    assert huge.next_check_at == NOW + timedelta(days=7)  # clamped
    sup = feed_row(database, server.url("/sup"))
    assert sup.error_count == 1
    assert sup.next_check_at is not None
    assert NOW < sup.next_check_at <= NOW + timedelta(days=1)  # ignored: plain back-off
    assert feed_row(database, server.url("/maxage")).next_check_at == NOW + timedelta(days=1)


def test_billion_laughs_feed_is_an_error_and_the_others_continue(database, server, client):
    laughs = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{n} "{("&lol%s;" % (n - 1 if n > 1 else "")) * 10}">' for n in range(1, 10)
    )
    body = GOOD.replace(b"<rss", f"<!DOCTYPE rss [{laughs}]><rss".encode(), 1)
    body = body.replace(b"Synthetic one", b"Synthetic &lol9;")
    server.routes["/laughs"] = Reply(body=body)
    server.routes["/good"] = Reply(body=GOOD)
    register(database, server.url("/laughs"), server.url("/good"))
    report = poll_due_feeds(database, SETTINGS, NOW, client=client)
    by_path = {urlsplit(row.feed).path: row for row in report.rows}
    assert by_path["/laughs"].status == "error"
    assert "declares XML entities" in (by_path["/laughs"].error or "")
    assert article_count(database, server.url("/laughs")) == 0
    assert by_path["/good"].new == 2


def test_local_feeds_are_refused_without_the_allowed_networks_setting(database, server):
    server.routes["/good"] = Reply(body=GOOD)
    register(database, server.url("/good"))
    settings = Settings(feed_timeout_seconds=0.5, feed_interval_minutes=10)
    row = poll_feed(database, settings, server.url("/good"), NOW)
    assert row.status == "error"
    assert "loopback" in (row.error or "")
    assert server.requests == []
    assert "TRACKER_FEED_ALLOWED_NETWORKS" in (
        feed_row(database, server.url("/good")).last_error or ""
    )


def test_a_feed_that_fails_beyond_its_own_error_handling_does_not_stop_the_poll(
    database, server, client
) -> None:
    """A feed row that vanished while its fetch was in flight (deleted by another process)
    makes even the error bookkeeping fail; before, that exception left ``poll_feeds`` and the
    feeds queued behind it on the host were never polled."""
    server.routes["/gone"] = Reply(body=GOOD)
    server.routes["/next"] = Reply(body=GOOD)
    register(database, server.url("/next"))
    with database.session() as session:
        feed = session.scalar(select(Feed).where(Feed.url == server.url("/next")))
        assert feed is not None
        refs = [
            _FeedRef(feed.id + 1000, server.url("/gone"), None, None),
            _FeedRef(feed.id, feed.url, None, None),
        ]
    report = poll_feeds(database, SETTINGS, refs, NOW, client=client)
    assert [row.status for row in report.rows] == ["error", "ok"]
    assert "poll failed" in (report.rows[0].error or "")
    assert report.rows[1].new == 2


def test_without_network_one_summary_line_per_poll(database, client, caplog) -> None:
    """Every feed failing the same way (no network) is said once, not once per feed."""
    with socket.socket() as a, socket.socket() as b, socket.socket() as c:
        ports = []
        for held in (a, b, c):
            held.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
            ports.append(held.getsockname()[1])
        urls = [f"http://127.0.0.1:{port}/feed.xml" for port in ports]
        register(database, *urls)
        with caplog.at_level(logging.DEBUG, logger="tracker"):
            report = poll_due_feeds(database, SETTINGS, now=NOW, client=client)
    assert report.as_counts()["errors"] == 3
    said = [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("tracker") and record.levelno >= logging.WARNING
    ]
    assert len(said) == 1
    assert said[0].startswith("poll: 3 of 3 feeds failed")
    assert all(feed_row(database, url).last_error for url in urls)  # each feed keeps its own
