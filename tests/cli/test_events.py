"""``tracker events ...`` as a user runs it (in-process through the entry point):
exit codes, JSON shape."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.runner import TrackerResult, run_tracker
from tracker.db import migrate


def run(*args: str) -> TrackerResult:
    return run_tracker("events", *args)


def test_add_list_edit_remove_curated_event(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    added = run(
        "add",
        "--title",
        "Test launch",
        "--at",
        "2025-01-20T15:00:00Z",
        "--kind",
        "product",
        "--tickers",
        "NVDA",
        "--basket",
        "ai_power",
        "--db",
        url,
    )
    assert added.returncode == 0, added.stderr
    listed = run(
        "list", "--from", "2025-01-20", "--to", "2025-01-20", "--format", "json", "--db", url
    )
    assert listed.returncode == 0, listed.stderr
    [event] = json.loads(listed.stdout)
    assert event["source"] == "curated"
    assert event["kind"] == "product"
    assert event["day0"] == "2025-01-21"  # 2025-01-20 was an NYSE holiday
    reasons = {t["ticker"]: t["reason"] for t in event["tickers"]}
    assert reasons["NVDA"] == "named by the user"
    assert reasons["VST"] == "basket: ai_power"
    for key in ("id", "slug", "title", "first_reported_at", "article_count"):
        assert key in event
    edited = run(
        "edit",
        str(event["id"]),
        "--title",
        "Renamed",
        "--at",
        "2025-01-24T22:00:00Z",
        "--kind",
        "market",
        "--tickers",
        "AVGO",
        "--db",
        url,
    )
    assert edited.returncode == 0, edited.stderr
    shown = run("show", str(event["id"]), "--db", url)
    assert shown.returncode == 0, shown.stderr
    [after] = json.loads(shown.stdout)
    assert after["title"] == "Renamed"
    assert after["kind"] == "market"
    assert after["first_reported_at"].startswith("2025-01-24T22:00:00")
    assert after["day0"] == "2025-01-27"  # after Friday's close: the next session
    assert {t["ticker"] for t in after["tickers"]} == {"AVGO"}  # replaced, basket dropped
    assert run("remove", event["slug"], "--db", url).returncode == 0
    assert json.loads(run("list", "--format", "json", "--db", url).stdout) == []


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    bad = run("add", "--title", "X", "--at", "yesterday", "--db", url)
    assert bad.returncode == 2
    assert "not an ISO date" in bad.stderr
    missing = run("show", "999", "--db", url)
    assert missing.returncode == 2
    assert "no event" in missing.stderr
    assert "Traceback" not in bad.stderr + missing.stderr
    for ref in ("99999999999999999999999", "²"):
        odd = run("show", ref, "--db", url)
        assert odd.returncode == 2, odd.stderr
        assert odd.stderr.strip() == f"error: no event with id or slug {ref!r}"


def test_load_and_link(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    loaded = run("load", "--db", url)
    assert loaded.returncode == 0
    assert "33 new" in loaded.stdout
    linked = run("link", "--db", url)
    assert linked.returncode == 0
    assert "linked 0 articles" in linked.stdout


def test_attach_and_detach_update_the_curated_counts(tmp_path: Path) -> None:
    """A synthetic article (not recorded data) linked, then attached/detached by hand."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from tracker.db import Database
    from tracker.db.models import Article, Event, Feed

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    assert run("add", "--title", "Curated", "--at", "2025-03-03", "--db", url).returncode == 0
    db = Database.connect(url)
    at = datetime(2025, 1, 27, 14, tzinfo=UTC)
    with db.session() as session:
        feed = Feed(url="https://example.invalid/feed", name="synthetic")
        session.add(feed)
        session.flush()
        session.add(
            Article(
                feed_id=feed.id,
                guid="a",
                dedupe_key="a",
                canonical_url="https://example.invalid/a",
                title="Nvidia shares plunge as DeepSeek AI model rattles chip investors",
                summary_text="",
                published_at=at,
                first_seen_at=at,
                content_hash="a",
            )
        )
    assert run("link", "--db", url).returncode == 0

    def counts() -> tuple[int, int]:
        with db.session() as session:
            curated = session.scalars(select(Event).where(Event.origin == "curated")).one()
            return curated.article_count, curated.source_count

    with db.session() as session:
        detected = session.scalars(select(Event.id).where(Event.origin == "detected")).one()
        curated_id = session.scalars(select(Event.id).where(Event.origin == "curated")).one()
    assert counts() == (0, 0)
    assert run("attach", str(detected), str(curated_id), "--db", url).returncode == 0
    assert counts() == (1, 1)
    assert run("detach", str(detected), "--db", url).returncode == 0
    assert counts() == (0, 0)
    db.dispose()
