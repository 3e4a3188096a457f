"""``tracker db ...``: schema migrations and the dashboard's read-only role."""

from __future__ import annotations

import typer

from tracker.cli.common import DbOption, open_database, settings_for

# tracker.db.migrate (alembic) is imported inside the commands, so that every other
# ``tracker`` command starts without it.

app = typer.Typer(help="Create and migrate the database schema.", no_args_is_help=True)


@app.command()
def upgrade(db: DbOption = None, revision: str = "head") -> None:
    """Migrate the database to REVISION (default: the newest)."""
    from tracker.db import migrate

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
    from tracker.db import migrate

    settings = settings_for(db)
    migrate.downgrade(settings.database_url, revision)
    typer.echo(f"database at revision {revision}")


@app.command()
def current(db: DbOption = None) -> None:
    """Print the database's revision and the newest one the code knows."""
    from tracker.db import migrate

    _, database = open_database(db)
    try:
        typer.echo(f"current: {migrate.current_revision(database.engine) or '(empty)'}")
        typer.echo(f"head:    {migrate.head_revision()}")
    finally:
        database.dispose()


@app.command()
def roles(db: DbOption = None) -> None:
    """Create or update the dashboard's read-only PostgreSQL role (idempotent).

    The role's name and password come from TRACKER_DASHBOARD_DATABASE_URL; run this as the
    migrating role after `tracker db upgrade`. On SQLite there are no roles: the dashboard
    opens the file read-only instead.
    """
    from tracker.db.roles import ensure_reader_role, reader_role

    settings, database = open_database(db)
    try:
        if database.backend != "postgresql":
            typer.echo("SQLite has no roles: the dashboard opens the database file read-only.")
            return
        role = reader_role(settings.dashboard_database_url)
        created = ensure_reader_role(database.engine, role)
        typer.echo(
            f"read-only role {role.name} {'created' if created else 'updated'}: "
            "SELECT on every table, default_transaction_read_only on"
        )
    finally:
        database.dispose()
