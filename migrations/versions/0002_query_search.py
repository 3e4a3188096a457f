"""query: full-text search and the indexes the historical queries need

On SQLite: FTS5 external-content tables over events (title, description) and articles
(title, summary_text), kept in sync by triggers, with the porter stemmer so that words
match their inflections as PostgreSQL's ``english`` configuration does. On PostgreSQL:
GIN indexes on the same ``to_tsvector('english', ...)`` expressions the queries use
(``tracker/query/search.py`` must use these exact expressions, or the planner cannot use
the index). Autogenerate cannot see either (``tracker.db.migrate.include_object`` hides
them from the models-vs-migrations comparison).

Revision ID: 0002_query_search
Revises: 0001_initial
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002_query_search"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, FTS table, indexed columns); the FTS rowid is the source table's id.
FTS_SOURCES = (
    ("events", "events_fts", ("title", "description")),
    ("articles", "articles_fts", ("title", "summary_text")),
)

PG_EXPRESSIONS = {
    "events": "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(description, ''))",
    "articles": "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(summary_text, ''))",
}


def _sqlite_fts_upgrade() -> None:
    for table, fts, columns in FTS_SOURCES:
        cols = ", ".join(columns)
        new_values = ", ".join(f"new.{c}" for c in columns)
        old_values = ", ".join(f"old.{c}" for c in columns)
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', "
            f"content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "  # noqa: S608 (identifiers from the schema, values bound)
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new_values}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "  # noqa: S608 (identifiers from the schema, values bound)
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old_values}); END"
        )
        # Only when an indexed column changes: events are updated often (counts, updated_at).
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "  # noqa: S608 (identifiers from the schema, values bound)
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old_values}); "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new_values}); END"
        )
        # Rows written before this revision become searchable too.
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # noqa: S608 (identifiers from the schema, values bound)


def _sqlite_fts_downgrade() -> None:
    for _table, fts, _columns in FTS_SOURCES:
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")


def upgrade() -> None:
    op.create_index(
        "ix_events_kind_first_reported_at", "events", ["kind", "first_reported_at"], unique=False
    )
    op.create_index(
        "ix_firm_impacts_model_window_car",
        "firm_impacts",
        ["model", "window_start", "window_end", "car"],
        unique=False,
    )
    op.create_index(
        "ix_firm_impacts_instrument_model_window_car",
        "firm_impacts",
        ["instrument_id", "model", "window_start", "window_end", "car"],
        unique=False,
    )
    op.create_index(
        "ix_group_impacts_basket_model_window",
        "group_impacts",
        ["basket_id", "model", "window_start", "window_end"],
        unique=False,
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_fts_upgrade()
    else:
        for table, expression in PG_EXPRESSIONS.items():
            op.execute(f"CREATE INDEX ftsix_{table}_search ON {table} USING gin (({expression}))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_fts_downgrade()
    else:
        for table in PG_EXPRESSIONS:
            op.execute(f"DROP INDEX IF EXISTS ftsix_{table}_search")
    op.drop_index("ix_group_impacts_basket_model_window", table_name="group_impacts")
    op.drop_index("ix_firm_impacts_instrument_model_window_car", table_name="firm_impacts")
    op.drop_index("ix_firm_impacts_model_window_car", table_name="firm_impacts")
    op.drop_index("ix_events_kind_first_reported_at", table_name="events")
