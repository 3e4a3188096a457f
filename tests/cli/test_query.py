"""``tracker query ...`` as a user runs it (in-process through the entry point): exit codes,
output shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import run_tracker
from tests.query.conftest import seed_world
from tracker.db import Database, migrate
from tracker.query import parse_window


@pytest.fixture
def seeded_url(database_url: str) -> str:
    database = Database.connect(database_url)
    try:
        with database.session() as session:
            seed_world(session)
    finally:
        database.dispose()
    return database_url


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'query.db'}"
    migrate.upgrade(url)
    database = Database.connect(url)
    with database.session() as session:
        seed_world(session)
    database.dispose()
    return url


def test_events_json_on_both_backends(seeded_url: str) -> None:
    result = run_tracker(
        "query",
        "events",
        "--kind",
        "model_release",
        "--min-abs-car",
        "0.05",
        "--window",
        "0,1",
        "--sort",
        "impact",
        "--format",
        "json",
        "--db",
        seeded_url,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["slug"] for row in rows] == ["synthetic-c", "synthetic-a"]
    assert {"id", "title", "kind", "origin", "first_reported_at", "top_ticker", "top_car"} <= set(
        rows[0]
    )
    assert rows[0]["top_ticker"] == "CEG"


def test_events_table_csv_and_filters(sqlite_url: str) -> None:
    table = run_tracker(
        "query", "events", "--text", "cheap", "--from", "2024-06-01", "--db", sqlite_url
    )
    assert table.returncode == 0, table.stderr
    assert "Synthetic: cheap model B released" in table.stdout
    assert "Synthetic: cheap model A released" not in table.stdout
    csv_out = run_tracker(
        "query", "events", "--entity", "DeepSeek-R1", "-f", "csv", "--db", sqlite_url
    )
    assert csv_out.returncode == 0, csv_out.stderr
    lines = csv_out.stdout.strip().splitlines()
    assert lines[0].startswith("id,slug,title")
    assert len(lines) == 3


def test_injection_looking_text_is_an_answer_not_an_error(sqlite_url: str) -> None:
    # the full list of syntax characters is checked on the API (tests/query/test_search.py)
    for text in ['NEAR ) "', "x' OR 1=1; --", 'cheap" OR "1*']:
        result = run_tracker("query", "events", "--text", text, "-f", "json", "--db", sqlite_url)
        assert result.returncode == 0, (text, result.stderr)
        assert isinstance(json.loads(result.stdout), list)


def test_empty_result_is_status_0(sqlite_url: str) -> None:
    result = run_tracker("query", "events", "--kind", "security", "--db", sqlite_url)
    assert result.returncode == 0
    assert "(no rows)" in result.stdout
    as_json = run_tracker("query", "events", "--kind", "security", "-f", "json", "--db", sqlite_url)
    assert json.loads(as_json.stdout) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["events", "--from", "2024-13-01"], "--from"),
        (["events", "--window", "5,0"], "--window"),
        (["ticker", "NOPE"], "unknown ticker"),
        (["analogs", "no-such-event"], "no event with id or slug 'no-such-event'"),
        (["events", "--kind", "nope"], "--kind 'nope' is not one of"),
        (["events", "--model", "bogus"], "unknown model 'bogus'"),
        (["events", "--model", "constant_mean"], "only stored results"),
        (["events", "--window", "0,3"], "not a stored window"),
        (["analogs", "synthetic-b"], "no linked ticker with a stored CAR[0,5]"),
    ],
)
def test_bad_input_is_one_line_and_status_2(sqlite_url: str, args: list[str], message: str) -> None:
    result = run_tracker("query", *args, "--db", sqlite_url)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_ticker_and_analogs_json_shapes(sqlite_url: str) -> None:
    ticker = run_tracker("query", "ticker", "NVDA", "--top", "2", "-f", "json", "--db", sqlite_url)
    assert ticker.returncode == 0, ticker.stderr
    moves = json.loads(ticker.stdout)
    assert moves["ticker"] == "NVDA"
    assert [move["day0"] for move in moves["moves"]] == ["2024-01-10", "2024-03-05"]
    assert moves["moves"][0]["events"][0]["slug"] == "synthetic-a"
    assert moves["unexplained"] == []  # no bars stored in this world
    assert {move["model"] for move in moves["moves"]} == {"market"}
    assert (moves["model"], moves["unexplained_model"]) == ("market", "market_adjusted")
    analogs = run_tracker(
        "query", "analogs", "synthetic-d", "--window", "0,5", "-f", "json", "--db", sqlite_url
    )
    assert analogs.returncode == 0, analogs.stderr
    body = json.loads(analogs.stdout)
    assert body["distribution"]["n"] == 3
    assert body["summary"].startswith("events like this, n = 3")
    assert len(body["rows"]) == 3
    table = run_tracker(
        "query", "analogs", "synthetic-later", "--basket", "ai_power", "--db", sqlite_url
    )
    assert table.returncode == 0, table.stderr
    assert "median CAAR[0,+5] of ai_power" in table.stdout
    assert "(p_value: kp_p, model market)" in table.stdout


def test_ticker_table_names_each_section_s_model(sqlite_url: str) -> None:
    """Event-day moves (stored, market) and no-event moves (market_adjusted) are not alike."""
    table = run_tracker("query", "ticker", "NVDA", "--top", "2", "--db", sqlite_url)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert "model market: stored event-study results" in lines[0]
    assert lines[1].split()[:3] == ["day0", "model", "abnormal_return"]
    assert lines[3].split()[:2] == ["2024-01-10", "market"]
    assert any("model market_adjusted: computed from daily bars" in line for line in lines)


def test_cli_defaults_mirror_the_query_layer() -> None:
    from tracker.cli import query as cli
    from tracker.query import ANALOG_WINDOW, DEFAULT_ALPHA, DEFAULT_MODEL, DEFAULT_WINDOW

    assert parse_window(cli.DEFAULT_WINDOW) == DEFAULT_WINDOW
    assert parse_window(cli.ANALOG_WINDOW) == ANALOG_WINDOW
    assert (cli.DEFAULT_MODEL, cli.DEFAULT_ALPHA) == (DEFAULT_MODEL, DEFAULT_ALPHA)


def test_help_lists_the_query_commands(tmp_path: Path) -> None:
    result = run_tracker("query", "--help")
    assert result.returncode == 0
    for command in ("events", "ticker", "analogs"):
        assert command in result.stdout


def test_attribution_json_csv_table_and_errors(seeded_url: str) -> None:
    from tracker.measure.attribution import compute_attributions

    database = Database.connect(seeded_url)
    try:
        compute_attributions(database, "XNYS")
    finally:
        database.dispose()
    base = ("query", "attribution", "NVDA", "--date", "2024-01-10")
    result = run_tracker(*base, "--format", "json", "--db", seeded_url)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert list(body) == [
        "ticker", "session", "abnormal_return", "p_value", "q_value", "primary", "candidates",
    ]  # fmt: skip
    assert (body["ticker"], body["session"]) == ("NVDA", "2024-01-10")
    assert body["primary"]["event"]["slug"] == "synthetic-a"
    assert body["candidates"][0]["role"] == "primary"
    assert {c["role"] for c in body["candidates"]} <= {"primary", "same_story", "confound"}
    csv_out = run_tracker(*base, "-f", "csv", "--db", seeded_url)
    assert csv_out.returncode == 0, csv_out.stderr
    assert csv_out.stdout.splitlines()[0] == "rank,role,score,event_id,event,story,why"
    table = run_tracker(*base, "--db", seeded_url)
    assert "primary catalyst:" in table.stdout
    missing = run_tracker(
        "query", "attribution", "NVDA", "--date", "2024-01-11", "--db", seeded_url
    )
    assert missing.returncode == 2
    assert "no attributed move of NVDA on 2024-01-11" in missing.stderr
    bad = run_tracker("query", "attribution", "NVDA", "--date", "2024-13-01", "--db", seeded_url)
    assert bad.returncode == 2
    assert "--date" in bad.stderr
