"""Entry point of the ``tracker`` command."""

from __future__ import annotations

import logging
import sys
from importlib.metadata import PackageNotFoundError, version

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError

from tracker.cli import (
    calendar,
    dashboard,
    db,
    demo,
    digest,
    events,
    feeds,
    impact,
    news,
    prices,
    query,
    query_impact,
    run,
    status,
    stories,
)
from tracker.errors import TrackerError

app = typer.Typer(
    help="AI market-impact tracker: AI news, the stocks exposed to it, and what it did to them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(feeds.app, name="feeds")
app.add_typer(news.app, name="news")
app.add_typer(events.app, name="events")
app.add_typer(stories.app, name="stories")
app.add_typer(prices.app, name="prices")
app.add_typer(calendar.app, name="calendar")
app.add_typer(run.app, name="run")
app.add_typer(status.app, name="status")
app.add_typer(impact.app, name="impact")
app.command(name="demo")(demo.demo)
app.add_typer(query.app, name="query")
query_impact.register(query.app)
app.add_typer(digest.app, name="digest")
app.add_typer(dashboard.app, name="dashboard")


def package_version() -> str:
    try:
        return version("ai-market-impact-tracker")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"tracker {package_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version_: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress to stderr."),
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main() -> None:
    """Run the CLI; user-facing errors become one line on stderr and exit status 2."""
    try:
        app()
    except TrackerError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (OperationalError, ProgrammingError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if _missing_table(reason):
            reason = f"the schema is not current ({reason}): run `tracker db upgrade`"
            typer.echo(f"error: database schema missing: {reason}", err=True)
        else:
            typer.echo(f"error: database unavailable: {reason}", err=True)
        sys.exit(2)


def _missing_table(reason: str) -> bool:
    """SQLite says 'no such table', PostgreSQL 'relation ... does not exist'."""
    return "no such table" in reason or ("relation" in reason and "does not exist" in reason)


if __name__ == "__main__":
    main()
