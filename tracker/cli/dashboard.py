"""``tracker dashboard``: start the Streamlit dashboard on the configured database."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from tracker.cli.common import DbOption, settings_for
from tracker.errors import ConfigError

app = typer.Typer(help="Start the Streamlit dashboard (reads only).", invoke_without_command=True)

APP_FILE = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def streamlit_command(app_file: Path, port: int, address: str) -> list[str]:
    """The ``streamlit run`` command line: headless, no usage statistics sent anywhere."""
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
    ]


def dashboard_environment(database_url: str, root: Path) -> dict[str, str]:
    """The child's environment: the database URL, and the source tree first on the path."""
    env = dict(os.environ)
    env["TRACKER_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    return env


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
    typer.echo(
        f"dashboard on http://{address}:{port} (database: {settings.database_url.split('://')[0]})"
    )
    env = dashboard_environment(settings.database_url, APP_FILE.parents[1])
    command = streamlit_command(APP_FILE, port, address)
    sys.stdout.flush()
    # Replace this process: signals (Ctrl-C, a supervisor's SIGTERM) reach Streamlit itself,
    # and no orphaned server outlives its parent.
    os.execve(command[0], command, env)  # noqa: S606
