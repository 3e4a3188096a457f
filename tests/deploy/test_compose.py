"""docker-compose.yml, checked without a Docker engine: services, commands, health checks."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from tracker.cli.main import app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def _resolve(command: Any, words: list[str]) -> Any:
    """Walk the CLI like click would, returning the command the words name."""
    for word in words:
        if word.startswith("-"):
            break
        subcommands = getattr(command, "commands", None)
        assert subcommands is not None, f"{word!r}: no subcommands below"
        sub = subcommands.get(word)
        assert sub is not None, f"compose runs 'tracker {' '.join(words)}', unknown {word!r}"
        command = sub
    return command


def test_services_present(compose: dict[str, Any]) -> None:
    assert {"db", "migrate", "scheduler", "dashboard", "mailpit"} <= set(compose["services"])


def test_database_has_health_check_and_volume(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(str(volume).startswith("pgdata:") for volume in db["volumes"])
    assert "pgdata" in compose["volumes"]


def test_migration_is_one_shot_and_others_wait_for_it(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for name in ("scheduler", "dashboard"):
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_scheduler_restarts_and_stops_gracefully(compose: dict[str, Any]) -> None:
    scheduler = compose["services"]["scheduler"]
    assert scheduler["command"][0] == "run"
    assert scheduler["restart"] == "unless-stopped"
    grace = scheduler["stop_grace_period"]
    assert grace.endswith("m")
    assert int(grace[:-1]) >= 2
    assert "/health" in " ".join(scheduler["healthcheck"]["test"])


def test_dashboard_on_8501(compose: dict[str, Any]) -> None:
    dashboard = compose["services"]["dashboard"]
    assert "8501:8501" in dashboard["ports"]
    assert "/_stcore/health" in " ".join(dashboard["healthcheck"]["test"])


def test_every_command_exists_in_the_package(compose: dict[str, Any]) -> None:
    cli = typer.main.get_command(app)
    for name, service in compose["services"].items():
        if "command" not in service or ("image" in service and "build" not in service):
            continue
        command = _resolve(cli, list(service["command"]))
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for word in service["command"]:
            if word.startswith("--"):
                assert word in options, f"{name}: option {word} unknown to {command.name}"


def test_image_entry_point_is_the_installed_script() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["tracker"]' in dockerfile
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    module, function = project["scripts"]["tracker"].split(":")
    imported = __import__(module, fromlist=[function])
    assert callable(getattr(imported, function))
    for path in ("tracker", "migrations", "dashboard"):
        assert f"COPY {path} ./{path}" in dockerfile
        assert (ROOT / path).is_dir()


def test_example_env_names_only_real_settings() -> None:
    from tracker.config import Settings

    fields = {f"TRACKER_{name.upper()}" for name in Settings.model_fields}
    for line in (ROOT / ".env.example").read_text().splitlines():
        key = line.lstrip("# ").split("=", 1)[0]
        if key.startswith("TRACKER_"):
            assert key in fields, f".env.example names unknown setting {key}"
