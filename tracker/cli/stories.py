"""``tracker stories ...``: list, show and curate stories (the threads that tie events).

Stories are built by the linking pass (``tracker.link.stories``); a person can add, rename,
remove them and put events in or out. An edited story is ``user_edited`` (its title and
description are the person's); an event placed by hand is ``story_locked`` (the automatic
pass never moves it again).
"""

from __future__ import annotations

from typing import Annotated

import typer

from tracker.cli.common import DbOption, OutputFormat, emit, open_database
from tracker.errors import UserInputError

# The ORM models, tracker.link and tracker.query (pandas) are imported inside the
# commands, so that every other ``tracker`` command starts without them.

app = typer.Typer(help="Stories: the threads that tie events.", no_args_is_help=True)
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")]


@app.command("list")
def list_command(output: FormatOption = OutputFormat.table, db: DbOption = None) -> None:
    """Every story, most important first."""
    from tracker.query import as_record, list_stories

    _, database = open_database(db)
    with database.session() as session:
        rows = [as_record(s) for s in list_stories(session, limit=10_000, min_events=0)]
    columns = ["id", "slug", "origin", "importance", "event_count", "title"]
    emit(rows, output, columns if output is OutputFormat.table else None)


@app.command("show")
def show_command(story: str, db: DbOption = None) -> None:
    """One story (id or slug) with its events and their headline impacts, as JSON."""
    from tracker.query import as_record, get_story

    _, database = open_database(db)
    with database.session() as session:
        detail = get_story(session, story)
    record = as_record(detail)
    record["story"] = as_record(detail.story)
    emit([record], OutputFormat.json)


@app.command("add")
def add_command(
    title: Annotated[str, typer.Option(help="The story's name, e.g. 'Stargate'.")],
    description: Annotated[str, typer.Option(help="What the thread is about.")] = "",
    db: DbOption = None,
) -> None:
    """Add a story (curated, edited by a person)."""
    from sqlalchemy import select

    from tracker.db.models import Story
    from tracker.link.curated import slugify

    if not title.strip():
        raise UserInputError("--title must not be empty")
    _, database = open_database(db)
    with database.session() as session:
        slug = slugify(title, 120)
        if session.scalars(select(Story.id).where(Story.slug == slug)).first() is not None:
            raise UserInputError(f"story {slug!r} already exists (use 'stories edit')")
        story = Story(
            slug=slug,
            title=" ".join(title.split()),
            description=description.strip(),
            origin="curated",
            user_edited=True,
        )
        session.add(story)
        session.flush()
        typer.echo(f"added story {story.id} {slug}")


@app.command("edit")
def edit_command(
    story: str,
    title: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    db: DbOption = None,
) -> None:
    """Rename or describe a story; the automatic pass keeps the person's words."""
    from tracker.query.common import find_story

    _, database = open_database(db)
    with database.session() as session:
        found = find_story(session, story)
        if title is not None:
            if not title.strip():
                raise UserInputError("--title must not be empty")
            found.title = " ".join(title.split())
        if description is not None:
            found.description = description.strip()
        found.user_edited = True
        typer.echo(f"edited story {found.id}")


@app.command("remove")
def remove_command(story: str, db: DbOption = None) -> None:
    """Remove a story; its events stay, in no story and pinned there (not re-placed)."""
    from sqlalchemy import update

    from tracker.db.models import Event
    from tracker.query.common import find_story

    _, database = open_database(db)
    with database.session() as session:
        found = find_story(session, story)
        session.execute(
            update(Event).where(Event.story_id == found.id).values(story_locked=True, story_id=None)
        )
        session.delete(found)
        typer.echo(f"removed story {found.id}")


@app.command("assign")
def assign_command(event: str, story: str, db: DbOption = None) -> None:
    """Put an event (id or slug) in a story; the automatic pass will not move it."""
    from tracker.link.stories import refresh_story_figures
    from tracker.query.common import find_event, find_story

    _, database = open_database(db)
    with database.session() as session:
        found, target = find_event(session, event), find_story(session, story)
        previous = found.story_id
        found.story_id, found.story_locked = target.id, True
        target.user_edited = True
        session.flush()
        refresh_story_figures(session, [i for i in (previous, target.id) if i is not None])
        typer.echo(f"assigned event {found.id} to story {target.id}")


@app.command("unassign")
def unassign_command(event: str, db: DbOption = None) -> None:
    """Take an event out of its story; the automatic pass will not put it back."""
    from tracker.db.models import Story
    from tracker.link.stories import refresh_story_figures
    from tracker.query.common import find_event

    _, database = open_database(db)
    with database.session() as session:
        found = find_event(session, event)
        previous = found.story_id
        found.story_id, found.story_locked = None, True
        if previous is not None:
            story = session.get(Story, previous)
            if story is not None:
                story.user_edited = True
            session.flush()
            refresh_story_figures(session, [previous])
        typer.echo(f"unassigned event {found.id}")
