"""``tracker news ...``: poll feeds (live or recorded), backfill a past window, list articles."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracker.cli.common import DbOption, OutputFormat, emit, open_database
from tracker.errors import UserInputError

# The ORM models and tracker.ingest (httpx, feedparser) are imported inside the commands,
# so that every other ``tracker`` command starts without them.
if TYPE_CHECKING:
    from tracker.db import Database
    from tracker.ingest.news import PollReport

app = typer.Typer(help="Poll news feeds and list the stored articles.", no_args_is_help=True)

POLL_COLUMNS = ("feed", "status", "http", "new", "duplicate", "error")


class ListFormat(StrEnum):
    table = "table"
    json = "json"


FormatOption = Annotated[ListFormat, typer.Option("--format", help="table or json.")]


def _parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserInputError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def _parse_time(value: str, option: str) -> datetime:
    """A date (start of day, UTC) or an ISO time; a naive time is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UserInputError(f"{option}: {value!r} is not a date or ISO time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _print_report(report: PollReport) -> None:
    emit([row.as_dict() for row in report.rows], OutputFormat.table, POLL_COLUMNS)
    counts = report.as_counts()
    typer.echo(", ".join(f"{key}: {value}" for key, value in counts.items()))


@app.command("poll")
def poll(
    feed: str | None = typer.Option(None, "--feed", help="Poll only this registered feed."),
    all_feeds: bool = typer.Option(False, "--all", help="Poll every enabled feed, due or not."),
    recorded: bool = typer.Option(
        False, "--recorded", help="Ingest the recorded feeds of TRACKER_DATA_DIR instead."
    ),
    until: str | None = typer.Option(
        None, "--until", help="With --recorded: only entries published at or before this time."
    ),
    db: DbOption = None,
) -> None:
    """Poll feeds and print, per feed: status, new, duplicate, errors."""
    from tracker.ingest.news import PollReport, poll_due_feeds, poll_feed, poll_recorded

    if until and not recorded:
        raise UserInputError("--until only applies with --recorded")
    if recorded and (feed or all_feeds):
        raise UserInputError("--recorded cannot be combined with --feed or --all")
    settings, database = open_database(db)
    try:
        if recorded:
            limit = _parse_time(until, "--until") if until else None
            report = poll_recorded(database, settings.require_data_dir(), until=limit)
        elif feed:
            report = PollReport([poll_feed(database, settings, feed)])
        else:
            report = poll_due_feeds(database, settings, all_feeds=all_feeds)
    finally:
        database.dispose()
    _print_report(report)


@app.command("backfill")
def backfill(
    query: str = typer.Option(..., "--query", help="Search words, e.g. DeepSeek."),
    start: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--to", help="Last day, inclusive (YYYY-MM-DD)."),
    db: DbOption = None,
) -> None:
    """Bring in the headlines of a past window from Google News search (needs network)."""
    from tracker.ingest.news import PollReport, backfill_search

    first, last = _parse_day(start, "--from"), _parse_day(end, "--to")
    settings, database = open_database(db)
    try:
        row = backfill_search(database, settings, query, first, last)
    finally:
        database.dispose()
    _print_report(PollReport([row]))


def list_articles(
    database: Database, since: datetime | None, words: list[str], limit: int
) -> list[dict[str, Any]]:
    """Newest articles first, optionally since a time and containing every word."""
    from sqlalchemy import or_, select

    from tracker.db.models import Article, Feed

    query = select(Article, Feed.name).join(Feed, Feed.id == Article.feed_id)
    if since is not None:
        query = query.where(Article.published_at >= since)
    for word in words:
        pattern = f"%{word.lower()}%"
        query = query.where(or_(Article.title.ilike(pattern), Article.summary_text.ilike(pattern)))
    query = query.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)
    with database.session() as session:
        return [
            {
                "published_at": article.published_at,
                "feed": feed_name,
                "title": article.title,
                "url": article.canonical_url,
                "estimated_time": article.published_estimated,
            }
            for article, feed_name in session.execute(query)
        ]


@app.command("list")
def list_command(
    since: str | None = typer.Option(None, "--since", help="Only articles published since."),
    text: str | None = typer.Option(None, "--text", help="Words the title or summary contain."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="At most this many."),
    output: FormatOption = ListFormat.table,
    db: DbOption = None,
) -> None:
    """Stored articles, newest first."""
    start = _parse_time(since, "--since") if since else None
    _, database = open_database(db)
    try:
        rows = list_articles(database, start, (text or "").split(), limit)
    finally:
        database.dispose()
    if output is ListFormat.json:
        emit(rows, OutputFormat.json)
    else:
        emit(rows, OutputFormat.table, ("published_at", "feed", "title", "url"))
