"""docker-compose.yml, checked by parsing it: services, commands, health checks, and the
safe defaults of issue 18 (loopback ports, required secrets, pinned images, the dashboard
behind the sign-in proxy with a read-only role). Where a compose binary exists,
``docker compose config`` must agree (refuse without the secrets, accept with them)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
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
    assert {"db", "migrate", "roles", "scheduler", "dashboard", "auth-proxy", "mailpit"} <= set(
        compose["services"]
    )


def test_database_has_health_check_and_volume(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(str(volume).startswith("pgdata:") for volume in db["volumes"])
    assert "pgdata" in compose["volumes"]


def test_migration_is_one_shot_and_others_wait_for_it(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for name, after in (("scheduler", "migrate"), ("dashboard", "roles"), ("roles", "migrate")):
        depends = services[name]["depends_on"]
        assert depends[after]["condition"] == "service_completed_successfully"
    for name in ("scheduler", "dashboard", "migrate"):
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"


def test_scheduler_restarts_and_stops_gracefully(compose: dict[str, Any]) -> None:
    scheduler = compose["services"]["scheduler"]
    assert scheduler["command"][0] == "run"
    assert scheduler["restart"] == "unless-stopped"
    grace = scheduler["stop_grace_period"]
    assert grace.endswith("m")
    assert int(grace[:-1]) >= 2
    assert "/health" in " ".join(scheduler["healthcheck"]["test"])


def test_dashboard_on_8501_reachable_only_through_the_proxy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    dashboard = services["dashboard"]
    assert "ports" not in dashboard, "the dashboard is published only through auth-proxy"
    assert dashboard["command"][dashboard["command"].index("--port") + 1] == "8501"
    assert "/_stcore/health" in " ".join(dashboard["healthcheck"]["test"])
    proxy = services["auth-proxy"]
    assert proxy["environment"]["OAUTH2_PROXY_UPSTREAMS"] == "http://dashboard:8501/"
    assert proxy["environment"]["OAUTH2_PROXY_PASS_USER_HEADERS"] == "true"
    env = dashboard["environment"]
    assert env["TRACKER_DASHBOARD_AUTH"] == "header"
    assert env["TRACKER_DASHBOARD_TRUSTED_PROXY"] == proxy["networks"]["backend"]["ipv4_address"]
    subnet = compose["networks"]["backend"]["ipam"]["config"][0]["subnet"]
    import ipaddress

    assert ipaddress.ip_address(env["TRACKER_DASHBOARD_TRUSTED_PROXY"]) in ipaddress.ip_network(
        subnet
    )
    assert env["TRACKER_DASHBOARD_AUTH_HEADER"] == "X-Forwarded-Email"
    assert ":?" in env["TRACKER_DASHBOARD_ALLOWED_USERS"]
    assert env["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"] == "none"


def test_dashboard_holds_only_the_read_only_role(compose: dict[str, Any]) -> None:
    services = compose["services"]
    env = services["dashboard"]["environment"]
    for key in ("TRACKER_DATABASE_URL", "TRACKER_DASHBOARD_DATABASE_URL"):
        assert env[key].startswith("postgresql://tracker_dashboard:${DASHBOARD_DB_PASSWORD:?")
    assert "POSTGRES_PASSWORD" not in str(services["dashboard"])
    roles = services["roles"]
    assert roles["command"] == ["db", "roles"]
    assert (
        roles["environment"]["TRACKER_DASHBOARD_DATABASE_URL"]
        == (env["TRACKER_DASHBOARD_DATABASE_URL"])
    )
    assert roles["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["dashboard"]["depends_on"]["roles"]["condition"] == (
        "service_completed_successfully"
    )


def _published(service: dict[str, Any]) -> list[str]:
    return [str(port) for port in service.get("ports", [])]


def test_ports_bind_to_loopback_unless_the_operator_opts_in(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    secrets = dict.fromkeys(REQUIRED, "s3cret")
    default = yaml.safe_load(interpolate(text, secrets))["services"]
    published = [(name, port) for name, svc in default.items() for port in _published(svc)]
    assert published
    for name, port in published:
        assert port.startswith("127.0.0.1:"), (name, port)
    opted = yaml.safe_load(interpolate(text, {**secrets, "PUBLISH_ADDRESS": "0.0.0.0"}))
    assert _published(opted["services"]["auth-proxy"]) == ["0.0.0.0:4180:4180"]
    assert _published(opted["services"]["mailpit"]) == _published(default["mailpit"])
    assert not _published(compose["services"]["db"])
    assert not _published(compose["services"]["scheduler"])
    assert "0.0.0.0" not in compose["services"]["scheduler"]["command"]


def test_compose_refuses_to_start_without_the_secrets() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "change-me" not in text
    for name in (
        "POSTGRES_PASSWORD",
        "DASHBOARD_DB_PASSWORD",
        "OIDC_CLIENT_SECRET",
        "OAUTH2_PROXY_COOKIE_SECRET",
    ):
        uses = re.findall(r"\$\{" + name + r"(:?[-?]?)", text)
        assert uses, f"{name} unused"
        assert set(uses) == {":?"}, f"{name} must be required (${{{name}:?...}}) everywhere"
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolate(text, {k: "x" for k in REQUIRED if k != "POSTGRES_PASSWORD"})
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolate(text, {**dict.fromkeys(REQUIRED, "x"), "POSTGRES_PASSWORD": ""})
    document = yaml.safe_load(interpolate(text, dict.fromkeys(REQUIRED, "s3cret")))
    assert document["services"]["db"]["environment"]["POSTGRES_PASSWORD"] == "s3cret"


REQUIRED = (
    "POSTGRES_PASSWORD",
    "DASHBOARD_DB_PASSWORD",
    "DASHBOARD_ALLOWED_USERS",
    "OIDC_ISSUER_URL",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "OAUTH2_PROXY_COOKIE_SECRET",
    "DASHBOARD_PUBLIC_URL",
    "OAUTH2_PROXY_EMAIL_DOMAINS",
)
VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} (no nesting, which the file avoids)."""

    def value(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        current = env.get(name)
        if operator == ":?" and not current:
            raise KeyError(f"{name}: {argument}")
        if operator == ":-" and not current:
            return argument
        return current or ""

    return VARIABLE.sub(value, text)


def _compose_binary() -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def test_docker_compose_config_agrees_where_a_binary_exists(tmp_path: Path) -> None:
    """Run only where a compose binary is installed; the parsed checks above always run."""
    binary = _compose_binary()
    if binary is None:
        return
    base = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    command = [*binary, "-f", str(ROOT / "docker-compose.yml"), "--env-file", os.devnull, "config"]
    refused = subprocess.run(command, capture_output=True, text=True, env=base, check=False)
    assert refused.returncode != 0
    assert "POSTGRES_PASSWORD" in refused.stderr or "required" in refused.stderr
    accepted = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**base, **dict.fromkeys(REQUIRED, "s3cret")},
    )
    assert accepted.returncode == 0, accepted.stderr


def test_images_are_pinned_by_version(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image")
        assert image, f"{name} has no image"
        repository, _, tag = image.rpartition(":")
        assert repository, (name, image)
        assert tag not in ("", "latest"), (name, image)
        assert re.search(r"\d+\.\d+", tag), f"{name}: {image} is not pinned to a version"
    dockerfile = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert base is not None
    assert re.search(r":\d+\.\d+\.\d+", base.group(1)), base.group(1)


def test_mailpit_only_in_development_and_on_loopback(compose: dict[str, Any]) -> None:
    mailpit = compose["services"]["mailpit"]
    assert mailpit["profiles"] == ["dev"]
    assert _published(mailpit)
    assert all(port.startswith("127.0.0.1:") for port in _published(mailpit))
    for name, service in compose["services"].items():
        if name != "mailpit":
            assert "profiles" not in service, f"{name} would not start by default"


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
    for example in (".env.example", "tracker.env.example"):
        for line in (ROOT / example).read_text().splitlines():
            key = line.lstrip("# ").split("=", 1)[0]
            if key.startswith("TRACKER_"):
                assert key in fields, f"{example} names unknown setting {key}"


def test_example_env_sets_every_required_secret_and_no_default_password() -> None:
    names = {
        line.lstrip("# ").split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line
    }
    assert set(REQUIRED) <= names
    assert "change-me" not in (ROOT / ".env.example").read_text()
