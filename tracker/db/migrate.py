"""Run the Alembic migrations in ``migrations/`` programmatically (``tracker db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from tracker.errors import DataUnavailableError

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str) -> Config:
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise DataUnavailableError(f"migrations not found at {MIGRATIONS_DIR}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


# Search structures the models cannot describe: SQLite FTS5 virtual tables (and the shadow
# tables FTS5 creates beside them), PostgreSQL's generated tsvector columns and their GIN
# indexes. Autogenerate would report them as tables/columns/indexes to drop; they are
# created and dropped by migrations 0002_query_search and 0003_query_indexes only.
SEARCH_TABLE_PREFIXES = ("events_fts", "articles_fts")
SEARCH_INDEX_PREFIX = "ftsix_"
SEARCH_COLUMN = "search_document"


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object | None
) -> bool:
    """Autogenerate filter: leave the full-text search structures out of the comparison."""
    if not reflected or name is None:
        return True
    if type_ == "table" and name.startswith(SEARCH_TABLE_PREFIXES):
        return False
    if type_ == "column" and name == SEARCH_COLUMN:
        return False
    return not (type_ == "index" and name.startswith(SEARCH_INDEX_PREFIX))


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return script.get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


# The SQLite full-text tables of migration 0002 and the columns each indexes.
SQLITE_SEARCH_SOURCES = {
    "events": ("events_fts", ("title", "description")),
    "articles": ("articles_fts", ("title", "summary_text")),
}


def sqlite_search_triggers(table: str) -> list[str]:
    """The triggers (as in migration 0002) that keep ``table``'s FTS5 index in step.

    A migration that rebuilds ``events`` or ``articles`` on SQLite (a batch operation:
    create, copy, drop, rename) drops these with the old table; it must run these
    statements again afterwards, or search silently stops finding new and edited rows.
    """
    fts, columns = SQLITE_SEARCH_SOURCES[table]
    cols = ", ".join(columns)
    new_values = ", ".join(f"new.{c}" for c in columns)
    old_values = ", ".join(f"old.{c}" for c in columns)
    return [
        f"DROP TRIGGER IF EXISTS {fts}_ai",
        f"DROP TRIGGER IF EXISTS {fts}_ad",
        f"DROP TRIGGER IF EXISTS {fts}_au",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "  # noqa: S608 (names from the constant table above)
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new_values}); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "  # noqa: S608 (names from the constant table above)
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old_values}); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "  # noqa: S608 (names from the constant table above)
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old_values}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new_values}); END",
    ]
