"""``tracker dashboard``: start the Streamlit dashboard on the configured database."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from tracker.access import Mode, check_access_settings, resolve_mode, write_secrets
from tracker.cli.common import DbOption, settings_for
from tracker.config import Settings
from tracker.errors import ConfigError

app = typer.Typer(help="Start the Streamlit dashboard (reads only).", invoke_without_command=True)

APP_FILE = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def streamlit_command(
    app_file: Path, port: int, address: str, secrets_file: Path | None = None
) -> list[str]:
    """The ``streamlit run`` command line: headless, no usage statistics sent anywhere.

    Error details are off: a visitor sees that something failed, never file paths or source.
    ``secrets_file`` (OIDC mode) is the generated ``secrets.toml`` Streamlit's login reads.
    """
    secrets = ["--secrets.files", str(secrets_file)] if secrets_file is not None else []
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_file),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.showErrorDetails",
        "none",
        "--client.toolbarMode",
        "viewer",
        *secrets,
    ]


def dashboard_environment(database_url: str, root: Path) -> dict[str, str]:
    """The child's environment: the URL it reads with, and the source tree first on the path.

    ``FORWARDED_ALLOW_IPS`` is emptied so uvicorn never replaces the TCP peer with an
    ``X-Forwarded-For`` value: header mode decides on the real peer address.
    """
    env = dict(os.environ)
    env["TRACKER_DATABASE_URL"] = database_url
    env["TRACKER_DASHBOARD_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    env["FORWARDED_ALLOW_IPS"] = ""
    return env


def login_line(mode: Mode, address: str, settings: Settings) -> str:
    """The start-up line that says who can get in."""
    if mode == "off":
        return f"login is OFF: listening on {address} (loopback) only"
    allowed = settings.dashboard_allowed_users
    if mode == "header":
        return (
            f"login: trusted header {settings.dashboard_auth_header} from "
            f"{settings.dashboard_trusted_proxy} only; allowed: {allowed}"
        )
    return f"login: OpenID Connect ({settings.oidc_server_metadata_url}); allowed: {allowed}"


@app.callback()
def dashboard(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8501,
    address: Annotated[
        str, typer.Option(help="Address to bind (127.0.0.1: this machine only).")
    ] = "127.0.0.1",
    db: DbOption = None,
) -> None:
    """Serve the dashboard at http://ADDRESS:PORT until interrupted."""
    settings = settings_for(db)
    if not APP_FILE.is_file():
        raise ConfigError(f"dashboard app not found at {APP_FILE} (run from a source checkout)")
    mode = resolve_mode(settings, address)
    check_access_settings(settings, mode)
    secrets = None
    if mode == "oidc":
        # A private folder per start (0700, file 0600): two dashboards never share one.
        secrets = write_secrets(settings, Path(tempfile.mkdtemp(prefix="tracker-dashboard-")))
    typer.echo(
        f"dashboard on http://{address}:{port} (database: {settings.database_url.split('://')[0]})"
    )
    typer.echo(login_line(mode, address, settings))
    # --db names the database explicitly; otherwise the read-only role's URL when configured.
    reader_url = db or settings.dashboard_database_url or settings.database_url
    env = dashboard_environment(reader_url, APP_FILE.parents[1])
    command = streamlit_command(APP_FILE, port, address, secrets)
    sys.stdout.flush()
    # Replace this process: signals (Ctrl-C, a supervisor's SIGTERM) reach Streamlit itself,
    # and no orphaned server outlives its parent.
    os.execve(command[0], command, env)  # noqa: S606
