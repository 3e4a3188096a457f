"""``tracker events ...``: link articles into events, list them, and curate the event list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracker.cli.common import DbOption, OutputFormat, emit, open_database
from tracker.errors import UserInputError

# The ORM models, tracker.link and tracker.measure (pandas, scipy) are imported inside the
# commands, so that every other ``tracker`` command starts without them.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tracker.db.models import Event

app = typer.Typer(
    help="Events: link news into events, list them, curate them.", no_args_is_help=True
)

FromOption = Annotated[
    str | None, typer.Option("--from", help="Earliest first report (ISO date/time, UTC).")
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="Latest first report (ISO date; inclusive).")
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")]


def _parse_tickers(text: str | None) -> list[str]:
    return [t.strip().upper() for t in (text or "").split(",") if t.strip()]


def _check_kind(kind: str) -> str:
    from tracker.link.curated import EVENT_KINDS

    if kind not in EVENT_KINDS:
        raise UserInputError(f"--kind {kind!r} is not one of {', '.join(sorted(EVENT_KINDS))}")
    return kind


def _find(session: Session, ref: str) -> Event:
    """An event by id or slug (the one lookup, so the message is the same everywhere)."""
    from tracker.query.common import find_event

    return find_event(session, ref)


def event_record(session: Session, event: Event) -> dict[str, Any]:
    """The JSON shape of an event (used by ``list`` and ``show``)."""
    from tracker.link.events import event_tickers

    return {
        "id": event.id,
        "slug": event.slug,
        "title": event.title,
        "kind": event.kind,
        "source": event.origin,
        "first_reported_at": event.first_reported_at,
        "occurred_at": event.occurred_at,
        "day0": event.day0,
        "article_count": event.article_count,
        "source_count": event.source_count,
        "is_novel": event.is_novel,
        "parent_id": event.parent_id,
        "story_id": event.story_id,
        "importance": event.importance,
        "importance_detail": event.importance_detail,
        "reference_url": event.reference_url,
        "tickers": event_tickers(session, event.id),
    }


@app.command("link")
def link_command(db: DbOption = None) -> None:
    """Link the articles not yet linked: entities, events, themes, tickers."""
    from tracker.link.events import link_new_articles
    from tracker.measure.importance import refresh_importance

    _, database = open_database(db)
    report = link_new_articles(database)
    refresh_importance(database)
    typer.echo(
        f"linked {report.articles} articles ({report.ai_articles} AI news, "
        f"{report.entity_links} entity links): {report.events_created} events created, "
        f"{report.events_updated} updated, {report.attached_to_curated} attached to curated events"
    )


@app.command("list")
def list_command(
    from_: FromOption = None,
    to: ToOption = None,
    source: Annotated[str | None, typer.Option(help="curated or detected")] = None,
    min_articles: Annotated[int, typer.Option(help="Only events with this many articles.")] = 0,
    sort: Annotated[
        str, typer.Option(help="importance (most important first, default) or time.")
    ] = "importance",
    merged: Annotated[
        bool, typer.Option("--merged", help="Also list detected events merged into curated ones.")
    ] = False,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Events, most important first (coverage, curated, novelty, ticker links, significant
    moves: docs/stories.md) or by first-report time; merged detected events stand under
    their curated event."""
    from sqlalchemy import select

    from tracker.db.models import Event
    from tracker.link.curated import parse_timestamp

    if sort not in {"importance", "time"}:
        raise UserInputError("--sort must be importance or time")
    query = select(Event).order_by(
        *(
            (Event.importance.desc(), Event.first_reported_at, Event.id)
            if sort == "importance"
            else (Event.first_reported_at, Event.id)
        )
    )
    if not merged:
        query = query.where(Event.parent_id.is_(None))
    if from_:
        query = query.where(Event.first_reported_at >= parse_timestamp(from_))
    if to:
        end = parse_timestamp(to)
        if len(to.strip()) == 10:  # a date: include the whole day
            end += timedelta(days=1) - timedelta(microseconds=1)
        query = query.where(Event.first_reported_at <= end)
    if source:
        if source not in {"curated", "detected"}:
            raise UserInputError("--source must be curated or detected")
        query = query.where(Event.origin == source)
    _, database = open_database(db)
    with database.session() as session:
        events = [
            e
            for e in session.scalars(query)
            if e.origin == "curated" or e.article_count >= min_articles
        ]
        records = [event_record(session, e) for e in events]
    if output is OutputFormat.json:
        emit(records, output)
        return
    rows = [
        {
            **{
                k: r[k]
                for k in (
                    "id",
                    "importance",
                    "source",
                    "kind",
                    "first_reported_at",
                    "article_count",
                )
            },
            "title": r["title"][:70],
            "tickers": ",".join(t["ticker"] for t in r["tickers"][:8]),
        }
        for r in records
    ]
    emit(rows, output)


@app.command("show")
def show_command(event: str, db: DbOption = None) -> None:
    """One event (by id or slug) with its tickers and reasons, as JSON."""
    _, database = open_database(db)
    with database.session() as session:
        emit([event_record(session, _find(session, event))], OutputFormat.json)


@app.command("add")
def add_command(
    title: Annotated[str, typer.Option(help="What happened.")],
    at: Annotated[str, typer.Option(help="When (ISO date or date-time; UTC if no zone).")],
    kind: Annotated[str, typer.Option(help="Event kind.")] = "news",
    tickers: Annotated[str | None, typer.Option(help="Comma-separated tickers.")] = None,
    basket: Annotated[str | None, typer.Option(help="A basket whose members are exposed.")] = None,
    url: Annotated[str | None, typer.Option(help="Reference URL.")] = None,
    db: DbOption = None,
) -> None:
    """Add a curated event."""
    from sqlalchemy import select

    from tracker.db.models import Event
    from tracker.link.curated import curated_slug, day0_of, parse_timestamp, set_event_tickers

    if not title.strip():
        raise UserInputError("--title must not be empty")
    occurred = parse_timestamp(at)
    _check_kind(kind)
    _, database = open_database(db)
    with database.session() as session:
        slug = curated_slug(occurred, title)
        if session.scalars(select(Event.id).where(Event.slug == slug)).first() is not None:
            raise UserInputError(f"event {slug!r} already exists (use 'events edit')")
        event = Event(
            slug=slug,
            title=title.strip(),
            kind=kind,
            origin="curated",
            occurred_at=occurred,
            first_reported_at=occurred,
            day0=day0_of(occurred),
            reference_url=url,
        )
        session.add(event)
        session.flush()
        set_event_tickers(session, event, _parse_tickers(tickers), basket)
        typer.echo(f"added event {event.id} {slug}")


@app.command("edit")
def edit_command(
    event: str,
    title: Annotated[str | None, typer.Option()] = None,
    at: Annotated[str | None, typer.Option()] = None,
    kind: Annotated[str | None, typer.Option()] = None,
    tickers: Annotated[str | None, typer.Option(help="Replace the tickers.")] = None,
    basket: Annotated[str | None, typer.Option()] = None,
    db: DbOption = None,
) -> None:
    """Edit a curated event (detected events are rebuilt from their articles)."""
    from tracker.link.curated import day0_of, parse_timestamp, set_event_tickers

    _, database = open_database(db)
    with database.session() as session:
        found = _find(session, event)
        if found.origin != "curated":
            raise UserInputError(f"event {found.id} is detected; only curated events can be edited")
        if title is not None:
            if not title.strip():
                raise UserInputError("--title must not be empty")
            found.title = title.strip()
        if at is not None:
            occurred = parse_timestamp(at)
            found.occurred_at = occurred
            found.first_reported_at = occurred
            found.day0 = day0_of(occurred)
        if kind is not None:
            found.kind = _check_kind(kind)
        if tickers is not None or basket is not None:
            set_event_tickers(session, found, _parse_tickers(tickers), basket)
        found.updated_at = datetime.now(UTC)
        typer.echo(f"edited event {found.id}")


@app.command("remove")
def remove_command(event: str, db: DbOption = None) -> None:
    """Remove a curated event (its attached detected events are kept, detached)."""
    from sqlalchemy import select

    from tracker.db.models import Event

    _, database = open_database(db)
    with database.session() as session:
        found = _find(session, event)
        if found.origin != "curated":
            raise UserInputError(
                f"event {found.id} is detected; only curated events can be removed"
            )
        for child in session.scalars(select(Event).where(Event.parent_id == found.id)):
            child.parent_id = None
        session.delete(found)
        typer.echo(f"removed event {found.id}")


@app.command("attach")
def attach_command(detected: str, curated: str, db: DbOption = None) -> None:
    """Attach a detected event to the curated event of the same happening."""
    from tracker.link.events import refresh_curated_counts

    _, database = open_database(db)
    with database.session() as session:
        child, parent = _find(session, detected), _find(session, curated)
        if child.origin != "detected" or parent.origin != "curated":
            raise UserInputError("attach a detected event to a curated one")
        previous = child.parent_id
        child.parent_id = parent.id
        for curated_id in sorted({parent.id, previous or parent.id}):
            refresh_curated_counts(session, curated_id)
        typer.echo(f"attached event {child.id} to {parent.id}")


@app.command("detach")
def detach_command(detected: str, db: DbOption = None) -> None:
    """Detach a detected event from its curated event."""
    from sqlalchemy import delete

    from tracker.db.models import EventArticle
    from tracker.link.curated import MERGED_REASON
    from tracker.link.events import refresh_curated_counts

    _, database = open_database(db)
    with database.session() as session:
        child = _find(session, detected)
        previous, child.parent_id = child.parent_id, None
        if previous is not None:
            # the articles it brought to the curated event leave with it
            session.execute(
                delete(EventArticle).where(
                    EventArticle.event_id == previous,
                    EventArticle.reason == f"{MERGED_REASON}{child.id}",
                )
            )
            refresh_curated_counts(session, previous)
        typer.echo(f"detached event {child.id}")


@app.command("load")
def load_command(
    path: Annotated[
        Path | None, typer.Argument(help="Timeline CSV (default: the shipped one).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Load curated events from a timeline CSV (idempotent by slug)."""
    from sqlalchemy import func, select

    from tracker.db.models import Event
    from tracker.link.events import load_curated_events

    _, database = open_database(db)
    created = load_curated_events(database, path)
    with database.session() as session:
        total = session.scalar(
            select(func.count()).select_from(Event).where(Event.origin == "curated")
        )
    typer.echo(f"loaded curated events: {created} new, {total} curated in total")
