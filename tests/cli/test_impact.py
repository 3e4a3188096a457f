"""``tracker impact compute`` and ``query impact`` as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.cli.runner import run_tracker
from tests.measure.recorded import SELLOFF_TICKERS, add_january_events, load_recorded_prices
from tracker.cli.query_impact import register
from tracker.db import Database


@pytest.fixture
def january_url(sqlite_template: Path, tmp_path: Path, data_dir: Path) -> str:
    """SQLite only: the storage paths run on both backends in tests/measure; here the CLI."""
    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    database = Database.connect(url)
    with database.session() as session:
        load_recorded_prices(session, data_dir, ("SPY", *SELLOFF_TICKERS))
    add_january_events(database)
    database.dispose()
    return url


def test_compute_prints_counts_then_rewrites_nothing(january_url: str) -> None:
    first = run_tracker("impact", "compute", "--db", january_url)
    assert first.returncode == 0, first.stderr
    assert "computed 60, unchanged 0, pending 0, insufficient 0, failed 0" in first.stdout
    assert "deepseek-selloff day0 2025-01-27" in first.stdout
    again = run_tracker("impact", "compute", "--event", "deepseek-r1-released", "--db", january_url)
    assert again.returncode == 0, again.stderr
    assert "1 events" in again.stdout
    assert "computed 0, unchanged 5" in again.stdout


def test_unknown_event_exits_2_with_one_line(january_url: str) -> None:
    result = run_tracker("impact", "compute", "--event", "no-such-event", "--db", january_url)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: no event with id or slug 'no-such-event'"


def test_query_impact_registers_on_any_typer_app(january_url: str) -> None:
    app = typer.Typer()
    register(app)

    @app.command()
    def other() -> None:  # a second command keeps typer from collapsing the group
        """Placeholder."""

    runner = CliRunner()
    args = ["impact", "deepseek-selloff", "--db", january_url]
    shown = runner.invoke(app, [*args, "--format", "json", "--window", "-1,1"])
    assert shown.exit_code == 0, shown.output
    impact = json.loads(shown.output)
    assert impact["day0"] == "2025-01-27"
    assert {f["window"] for f in impact["firms"]} == {"[-1,+1]"}
    table = runner.invoke(app, [*args, "--tickers", "NVDA,VST", "--basket", "ai_power"])
    assert table.exit_code == 0, table.output
    assert "VST" in table.output
    assert "ai_power" in table.output
    csv_out = runner.invoke(app, [*args, "--format", "csv", "--model", "market_adjusted"])
    assert csv_out.exit_code == 0, csv_out.output
    header = csv_out.output.splitlines()[0].split(",")
    assert header[:3] == ["ticker", "window", "model"]
    assert "ar[1]" in header
    bad = runner.invoke(app, [*args, "--window", "3,1"])
    assert bad.exit_code != 0


def test_query_impact_at_the_attention_anchor(january_url: str) -> None:
    from datetime import date

    from sqlalchemy import update

    from tracker.db.models import Event

    database = Database.connect(january_url)
    with database.session() as session:
        session.execute(
            update(Event)
            .where(Event.slug == "deepseek-r1-released")
            .values(attention_day0=date(2025, 1, 27), attention_detail={"lag_sessions": 4})
        )
    database.dispose()
    args = ("query", "impact", "deepseek-r1-released", "--window", "0,0", "--db", january_url)
    at = run_tracker(*args, "--anchor", "attention", "--format", "json")
    assert at.returncode == 0, at.stderr
    attention = json.loads(at.stdout)
    assert attention["day0"] == "2025-01-21"
    assert attention["attention_day0"] == "2025-01-27"
    assert attention["anchor_day0"] == "2025-01-27"
    assert attention["lag_sessions"] == 4
    assert attention["firms"][0]["car"] < -0.1
    assert set(attention["value_change"]) == {"firms", "baskets"}
    plain = json.loads(run_tracker(*args, "--format", "json").stdout)
    assert plain["anchor_day0"] == "2025-01-21"
    assert plain["firms"][0]["car"] > -0.05
    table = run_tracker(*args, "--anchor", "attention")
    assert "measured at 2025-01-27 (attention)" in table.stdout
    bad = run_tracker(*args, "--anchor", "later")
    assert bad.returncode == 2
