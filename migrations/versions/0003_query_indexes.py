"""query: covering indexes for impact filters, FTS5 prefix indexes

- ``firm_impacts (model, window_start, window_end, car, car_p, event_id)`` replaces
  ``(model, window_start, window_end, car)``: the |CAR| / significance filter collects the
  few qualifying events from it without reading the table, and the impact sort still reads
  it from both ends.
- ``firm_impacts (event_id, model, window_start, window_end, car, car_p, instrument_id)``:
  when many events qualify, the filter walks events newest-first and probes each one's
  results here; the event lists' top-ticker lookup reads it too.
- PostgreSQL: the searched ``to_tsvector('english', ...)`` becomes a stored generated column
  ``search_document`` of events and articles, GIN-indexed in place of the expression
  indexes of 0002: a phrase's recheck and the per-event probe of a common word read the
  stored vector instead of parsing the text again (~100 us a row). The models do not
  declare it (the database computes it; ``tracker.db.migrate.include_object`` hides it).
- SQLite: the FTS5 tables are rebuilt with prefix indexes (2 and 3 characters), so a
  ``word*`` search reads one index entry instead of scanning every term with the prefix.

Revision ID: 0003_query_indexes
Revises: 0002_query_search
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_query_indexes"
down_revision: str | None = "0002_query_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS_SOURCES = (
    ("events", "events_fts", ("title", "description")),
    ("articles", "articles_fts", ("title", "summary_text")),
)
TOKENIZE = "porter unicode61 remove_diacritics 2"
PG_TEXT = {
    "events": "coalesce(title, '') || ' ' || coalesce(description, '')",
    "articles": "coalesce(title, '') || ' ' || coalesce(summary_text, '')",
}


def _pg_documents_upgrade() -> None:
    for table, text in PG_TEXT.items():
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN search_document tsvector "
            f"GENERATED ALWAYS AS (to_tsvector('english', {text})) STORED"
        )
        op.execute(f"DROP INDEX ftsix_{table}_search")
        op.execute(f"CREATE INDEX ftsix_{table}_document ON {table} USING gin (search_document)")
    # Adding a stored column rewrites the tables: their visibility maps start empty (every
    # index-only scan, e.g. counting articles, would read the heap: 33 ms -> 160 ms on the
    # bench) and the new column has no statistics (the search plans from the estimate).
    # VACUUM cannot run inside the migration's transaction.
    with op.get_context().autocommit_block():
        for table in PG_TEXT:
            op.execute(f"VACUUM ANALYZE {table}")


def _pg_documents_downgrade() -> None:
    for table, text in PG_TEXT.items():
        op.execute(f"DROP INDEX ftsix_{table}_document")
        op.execute(f"ALTER TABLE {table} DROP COLUMN search_document")
        op.execute(
            f"CREATE INDEX ftsix_{table}_search ON {table} "
            f"USING gin ((to_tsvector('english', {text})))"
        )


def _recreate_fts(prefix_option: str) -> None:
    """Recreate the FTS5 tables (their triggers stay: they name the table, not its options)."""
    for table, fts, columns in FTS_SOURCES:
        op.execute(f"DROP TABLE {fts}")
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({', '.join(columns)}, content='{table}', "
            f"content_rowid='id', tokenize='{TOKENIZE}'{prefix_option})"
        )
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # noqa: S608 (identifiers from the schema, values bound)


def upgrade() -> None:
    op.drop_index("ix_firm_impacts_model_window_car", table_name="firm_impacts")
    op.create_index(
        "ix_firm_impacts_model_window_car_p_event",
        "firm_impacts",
        ["model", "window_start", "window_end", "car", "car_p", "event_id"],
        unique=False,
    )
    op.create_index(
        "ix_firm_impacts_event_model_window",
        "firm_impacts",
        ["event_id", "model", "window_start", "window_end", "car", "car_p", "instrument_id"],
        unique=False,
    )
    if op.get_bind().dialect.name == "sqlite":
        _recreate_fts(", prefix='2 3'")
    else:
        _pg_documents_upgrade()
    # planner statistics for the new indexes: without them SQLite guesses, and picked the
    # event index over the (model, window, car) one for the impact sort (2.5 s instead of 20 ms)
    op.execute("ANALYZE firm_impacts")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _recreate_fts("")
    else:
        _pg_documents_downgrade()
    op.drop_index("ix_firm_impacts_event_model_window", table_name="firm_impacts")
    op.drop_index("ix_firm_impacts_model_window_car_p_event", table_name="firm_impacts")
    op.create_index(
        "ix_firm_impacts_model_window_car",
        "firm_impacts",
        ["model", "window_start", "window_end", "car"],
        unique=False,
    )
