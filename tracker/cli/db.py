"""``tracker db ...``: schema migrations."""

from __future__ import annotations

import typer

from tracker.cli.common import DbOption, open_database, settings_for
from tracker.db import migrate

app = typer.Typer(help="Create and migrate the database schema.", no_args_is_help=True)


@app.command()
def upgrade(db: DbOption = None, revision: str = "head") -> None:
    """Migrate the database to REVISION (default: the newest)."""
    settings = settings_for(db)
    migrate.upgrade(settings.database_url, revision)
    typer.echo(
        f"database at revision {migrate.head_revision() if revision == 'head' else revision}"
    )


@app.command()
def downgrade(
    revision: str = typer.Argument(..., help="Target revision, or 'base'."), db: DbOption = None
) -> None:
    """Migrate the database down to REVISION."""
    settings = settings_for(db)
    migrate.downgrade(settings.database_url, revision)
    typer.echo(f"database at revision {revision}")


@app.command()
def current(db: DbOption = None) -> None:
    """Print the database's revision and the newest one the code knows."""
    _, database = open_database(db)
    try:
        typer.echo(f"current: {migrate.current_revision(database.engine) or '(empty)'}")
        typer.echo(f"head:    {migrate.head_revision()}")
    finally:
        database.dispose()
