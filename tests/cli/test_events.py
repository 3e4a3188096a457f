"""``tracker events ...`` as a user runs it (subprocess, exit codes, JSON shape)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tracker.db import migrate

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker.cli.main", "events", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


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
    assert run("edit", str(event["id"]), "--title", "Renamed", "--db", url).returncode == 0
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


def test_load_and_link(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    loaded = run("load", "--db", url)
    assert loaded.returncode == 0
    assert "33 new" in loaded.stdout
    linked = run("link", "--db", url)
    assert linked.returncode == 0
    assert "linked 0 articles" in linked.stdout
