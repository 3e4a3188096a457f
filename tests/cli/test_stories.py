"""``tracker stories ...`` and ``tracker query stories`` as a user runs them
(in-process through the entry point)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.runner import TrackerResult, run_tracker
from tracker.db import migrate


def run(*args: str) -> TrackerResult:
    return run_tracker(*args)


def _ok(result: TrackerResult) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def _two_events(url: str) -> None:
    from datetime import UTC, datetime

    from tracker.db import Database
    from tracker.db.models import Event

    database = Database.connect(url)
    with database.session() as session:
        for day, slug in ((20, "test-launch"), (22, "test-follow-up")):
            at = datetime(2025, 1, day, tzinfo=UTC)
            session.add(Event(slug=slug, title=slug, origin="curated", first_reported_at=at))
    database.dispose()


def test_curate_a_story_and_query_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    _two_events(url)
    added = _ok(run("stories", "add", "--title", "Test thread", "--db", url))
    assert "test-thread" in added
    _ok(run("stories", "assign", "1", "test-thread", "--db", url))
    [story] = json.loads(_ok(run("query", "stories", "--format", "json", "--db", url)))
    assert (story["slug"], story["event_count"], story["user_edited"]) == (
        "test-thread",
        1,
        True,
    )
    events = json.loads(
        _ok(run("query", "events", "--story", "test-thread", "--format", "json", "--db", url))
    )
    assert [(e["id"], e["story_id"]) for e in events] == [(1, story["id"])]
    _ok(run("stories", "unassign", "1", "--db", url))
    [shown] = json.loads(_ok(run("stories", "show", "test-thread", "--db", url)))
    assert shown["events"] == []
    assert shown["story"]["event_count"] == 0


def test_unknown_story_is_one_line_and_status_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    for args in (("stories", "show", "nope"), ("query", "events", "--story", "nope")):
        result = run(*args, "--db", url)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "nope" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
