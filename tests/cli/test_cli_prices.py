"""``tracker prices`` and ``tracker calendar`` as a user runs them (in-process through the
entry point, real SQLite; the calendar refusal also as a real process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.runner import TrackerResult, run_tracker, run_tracker_process
from tracker.cli.main import app


def run(*args: str, db: Path, data_dir: Path | None = None) -> TrackerResult:
    env = {"TRACKER_DATABASE_URL": f"sqlite:///{db}"}
    if data_dir is not None:
        env["TRACKER_DATA_DIR"] = str(data_dir)
    return run_tracker(*args, env=env)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "cli.db"
    assert run("db", "upgrade", db=path).returncode == 0
    return path


def test_fetch_recorded_then_show_and_refetch(db_path: Path, data_dir: Path) -> None:
    first = run(
        "prices",
        "fetch",
        "--source",
        "recorded",
        "--tickers",
        "NVDA,VST,NOPE",
        db=db_path,
        data_dir=data_dir,
    )
    assert first.returncode == 0, first.stderr
    nvda = next(line for line in first.stdout.splitlines() if line.startswith("NVDA"))
    assert " 752 " in f" {nvda} "  # every recorded NVDA bar
    assert "no recorded daily bars for NOPE" in first.stdout
    shown = run(
        "prices",
        "show",
        "NVDA",
        "--from",
        "2025-01-24",
        "--to",
        "2025-01-27",
        "--format",
        "json",
        db=db_path,
    )
    rows = json.loads(shown.stdout)
    assert [r["date"] for r in rows] == ["2025-01-24", "2025-01-27"]
    assert [r["close"] for r in rows] == [142.62, 118.42]
    assert set(rows[0]) == {"date", "open", "high", "low", "close", "adj_close", "volume"}
    table = run("prices", "show", "VST", "--from", "2025-01-27", "--to", "2025-01-27", db=db_path)
    assert "137.08" in table.stdout
    again = run(
        "prices",
        "fetch",
        "--source",
        "recorded",
        "--tickers",
        "NVDA,VST",
        db=db_path,
        data_dir=data_dir,
    )
    assert "0 inserted" in again.stdout
    assert "0 updated" in again.stdout


def test_show_unknown_ticker_and_bad_dates_exit_2(db_path: Path) -> None:
    unknown = run("prices", "show", "NOPE", db=db_path)
    assert unknown.returncode == 2
    assert "NOPE" in unknown.stderr
    bad = run("prices", "fetch", "--source", "recorded", "--start", "2025-13-01", db=db_path)
    assert bad.returncode == 2
    assert "--start" in bad.stderr


@pytest.mark.parametrize(
    ("timestamp", "session"),
    [
        ("2025-01-20T15:00:00Z", "2025-01-21"),  # MLK day holiday
        ("2025-01-24T21:30:00Z", "2025-01-27"),  # Friday after the close
        ("2025-01-24T20:59:59+00:00", "2025-01-24"),  # before the 16:00 ET close
    ],
)
def test_calendar_session(timestamp: str, session: str) -> None:
    """In-process (the subprocess path is covered by the refusal test below)."""
    result = CliRunner().invoke(app, ["calendar", "session", timestamp])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == session


def test_calendar_session_refuses_naive_or_garbage(tmp_path: Path) -> None:
    for timestamp in ("2025-01-24T21:30:00", "not-a-time"):
        result = run_tracker_process(
            "calendar", "session", timestamp,
            env={"TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}"},
        )  # fmt: skip
        assert result.returncode == 2
        assert result.stderr.startswith("error:")
        assert timestamp in result.stderr


def test_recorded_share_counts_are_fetched_per_ticker(db_path: Path, data_dir: Path) -> None:
    first = run(
        "prices", "shares", "--source", "recorded", "--tickers", "NVDA,VST,NOPE",
        db=db_path, data_dir=data_dir,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    lines = {line.split()[0]: line for line in first.stdout.splitlines() if line.strip()}
    assert lines["NVDA"].split()[1] == "2"  # two filings on record
    assert "no recorded share count" in lines["VST"]
    assert "unknown ticker" in lines["NOPE"]
    again = run("prices", "shares", "--source", "recorded", "--tickers", "NVDA",
                db=db_path, data_dir=data_dir)  # fmt: skip
    assert again.stdout.splitlines()[2].split()[1:4] == ["0", "0", "2"]
    bad = run("prices", "shares", "--source", "nope", db=db_path, data_dir=data_dir)
    assert bad.returncode == 2
    assert "--source 'nope'" in bad.stderr
