"""``tracker feeds ...``: the feed registry (add, remove, list with health, seed defaults)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer

from tracker.cli.common import DbOption, OutputFormat, emit, open_database

# tracker.news.registry (the ORM models) is imported inside the commands, so that every
# other ``tracker`` command starts without it.

app = typer.Typer(help="The news feeds that are polled, and their health.", no_args_is_help=True)

LIST_COLUMNS = (
    "name",
    "url",
    "enabled",
    "articles",
    "last_status",
    "last_success_at",
    "error_count",
    "next_check_at",
    "failing",
)


class ListFormat(StrEnum):
    table = "table"
    json = "json"


FormatOption = Annotated[ListFormat, typer.Option("--format", help="table or json.")]


@app.command("add")
def add(
    url: str = typer.Argument(..., help="The feed's http(s) URL."),
    name: str | None = typer.Option(None, "--name", help="Display name (default: the URL)."),
    topics: str = typer.Option("", "--topics", help="Comma-separated topics, e.g. ai,markets."),
    db: DbOption = None,
) -> None:
    """Register a feed (or re-enable a removed one); it is polled at the next run."""
    from tracker.news.registry import add_feed

    _, database = open_database(db)
    try:
        with database.session() as session:
            feed = add_feed(session, url, name=name, topics=topics)
            typer.echo(f"feed added: {feed.name} <{feed.url}>")
    finally:
        database.dispose()


@app.command("remove")
def remove(
    url: str = typer.Argument(..., help="The feed's URL as listed."),
    purge: bool = typer.Option(False, "--purge", help="Also delete the feed and its articles."),
    db: DbOption = None,
) -> None:
    """Stop polling a feed (its articles are kept unless --purge)."""
    from tracker.news.registry import remove_feed

    _, database = open_database(db)
    try:
        with database.session() as session:
            deleted = remove_feed(session, url, purge=purge)
        typer.echo(f"feed deleted with {deleted} articles" if purge else "feed disabled")
    finally:
        database.dispose()


@app.command("list")
def list_feeds(
    output: FormatOption = ListFormat.table,
    db: DbOption = None,
) -> None:
    """Every feed with its health: last success, error count, next check, failing flag."""
    from tracker.news.registry import feed_health_rows

    _, database = open_database(db)
    try:
        with database.session() as session:
            rows = feed_health_rows(session, datetime.now(UTC))
    finally:
        database.dispose()
    if output is ListFormat.json:
        emit(rows, OutputFormat.json)
    else:
        emit(rows, OutputFormat.table, LIST_COLUMNS)


@app.command("seed")
def seed(db: DbOption = None) -> None:
    """Register the default AI, tech, markets and energy feeds that are missing."""
    from tracker.news.registry import seed_default_feeds

    _, database = open_database(db)
    try:
        with database.session() as session:
            added = seed_default_feeds(session)
        typer.echo(f"{added} default feeds added")
    finally:
        database.dispose()
