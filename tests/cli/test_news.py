"""``tracker feeds`` and ``tracker news`` as a user runs them (in-process through the entry
point, real database)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import TrackerResult, run_tracker
from tests.feed_server import LOOPBACK, FeedServer, Reply, item, rss
from tracker.db import migrate


def run(*args: str) -> TrackerResult:
    return run_tracker(*args)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    return url


def test_feeds_add_list_remove(db_url: str) -> None:
    added = run(
        "feeds", "add", "https://example.test/feed.xml", "--name", "Example", "--db", db_url
    )
    assert added.returncode == 0, added.stderr
    listed = json.loads(run("feeds", "list", "--format", "json", "--db", db_url).stdout)
    assert [(f["name"], f["enabled"], f["failing"]) for f in listed] == [("Example", True, False)]
    assert {"last_success_at", "error_count", "next_check_at"} <= set(listed[0])
    assert run("feeds", "remove", "https://example.test/feed.xml", "--db", db_url).returncode == 0
    listed = json.loads(run("feeds", "list", "--format", "json", "--db", db_url).stdout)
    assert listed[0]["enabled"] is False
    table = run("feeds", "list", "--db", db_url).stdout
    assert "next_check_at" in table


def test_bad_input_is_one_line_exit_2(db_url: str) -> None:
    for args in (
        ("feeds", "add", "javascript:alert(1)"),
        ("news", "backfill", "--query", "x", "--from", "2025-02-01", "--to", "2025-01-01"),
    ):
        result = run(*args, "--db", db_url)
        assert result.returncode == 2, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_poll_one_feed_prints_counts(db_url: str) -> None:
    server = FeedServer().start()
    try:
        server.routes["/f"] = Reply(body=rss([item("1", "Synthetic A"), item("1", "dup")]))
        run("feeds", "add", server.url("/f"), "--db", db_url)
        result = run_tracker(
            "news",
            "poll",
            "--feed",
            server.url("/f"),
            "--db",
            db_url,
            env={"TRACKER_FEED_ALLOWED_NETWORKS": LOOPBACK},
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    assert "new: 1, duplicate: 1" in result.stdout
    header = result.stdout.splitlines()[0].split()
    assert header == ["feed", "status", "http", "new", "duplicate", "error"]


def test_poll_recorded_twice_and_list(db_url: str, data_dir: Path) -> None:
    first = run("news", "poll", "--recorded", "--until", "2025-01-28", "--db", db_url)
    assert first.returncode == 0, first.stderr
    assert "errors: 0" in first.stdout
    second = run("news", "poll", "--recorded", "--until", "2025-01-28", "--db", db_url)
    assert "new: 0," in second.stdout
    listed = run(
        "news",
        "list",
        "--text",
        "hitting nvidia",
        "--since",
        "2025-01-27",
        "--format",
        "json",
        "--db",
        db_url,
    )
    rows = json.loads(listed.stdout)
    assert [r["published_at"] for r in rows] == ["2025-01-27T07:49:01+00:00"]
    assert rows[0]["feed"] == "The Verge - all"
