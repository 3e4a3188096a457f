"""The CLI as a user runs it: a real subprocess, exit codes and stderr included."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.cli.runner import run_tracker_process as run_tracker
from tracker.db import make_engine, migrate


def test_version_and_help() -> None:
    result = run_tracker("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("tracker ")
    help_text = run_tracker("--help").stdout
    assert "db" in help_text


def test_bad_database_setting_is_one_line_naming_the_setting() -> None:
    result = run_tracker("db", "upgrade", env={"TRACKER_DATABASE_URL": "nonsense://"})
    assert result.returncode == 2
    assert "TRACKER_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_db_upgrade_creates_the_schema_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = run_tracker("db", "upgrade", "--db", url)
    assert result.returncode == 0, result.stderr
    engine = make_engine(url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_db_upgrade_creates_the_schema_on_postgresql(postgres_server) -> None:
    url = postgres_server.create_database()
    result = run_tracker("db", "upgrade", "--db", url)
    assert result.returncode == 0, result.stderr
    engine = make_engine(url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_unreachable_database_is_a_clear_error() -> None:
    result = run_tracker("db", "current", "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 2
    assert "database unavailable" in result.stderr
    assert "Traceback" not in result.stderr


def test_unmigrated_database_says_to_upgrade(tmp_path: Path) -> None:
    result = run_tracker("prices", "show", "NVDA", "--db", f"sqlite:///{tmp_path / 'new.db'}")
    assert result.returncode == 2
    assert "tracker db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.postgres
def test_unmigrated_postgresql_says_to_upgrade(postgres_server) -> None:
    url = postgres_server.create_database()
    result = run_tracker("prices", "show", "NVDA", "--db", url)
    assert result.returncode == 2
    assert "tracker db upgrade" in result.stderr


@pytest.mark.postgres
def test_demo_output_hides_the_database_password(postgres_server, data_dir) -> None:
    url = make_url(postgres_server.create_database()).set(password="s3cret-pw")
    result = run_tracker(
        "demo", "--db", url.render_as_string(hide_password=False),
        env={"TRACKER_DATA_DIR": str(data_dir)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert "***" in result.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["run", "--health-port", "99999"], "--health-port"),
        (["calendar", "session", "2025-01-20T12:00Z", "--calendar", "BOGUS"], "--calendar"),
        (["prices", "show", "NVDA", "--from", "2025-02-01", "--to", "2025-01-01"], "--from"),
        (["digest", "preview", "--date", "2025-01-27", "--out", "/nonexistent/d.html"], "--out"),
        # NaN passes every "< 0" check; it is refused by name, not accepted silently
        (["query", "events", "--min-abs-car", "nan"], "--min-abs-car"),
        (["query", "events", "--alpha", "nan"], "--alpha"),
        (["run", "--replay", "2025-01-24..2025-01-27", "--speed", "nan"], "--speed"),
    ],
)
def test_bad_input_is_one_named_line_and_exit_2(
    tmp_path: Path, args: list[str], named: str
) -> None:
    url = f"sqlite:///{tmp_path / 'bad.db'}"
    migrate.upgrade(url)
    result = run_tracker(*args, *([] if args[0] == "calendar" else ["--db", url]))
    assert result.returncode == 2, result.stderr
    assert named in result.stderr
    assert "Traceback" not in result.stderr
