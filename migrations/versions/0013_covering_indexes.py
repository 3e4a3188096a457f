"""covering indexes: analog candidates and a ticker's event days from indexes alone

``events (kind, first_reported_at, id, parent_id)`` replaces ``(kind, first_reported_at)``
and ``event_themes (theme_id, event_id)`` replaces ``(theme_id)``: the analogs of an
event are the earlier events of its kind or of one of its themes outside its cluster
(``tracker.query.analogs``), and with these two indexes PostgreSQL collects them without
reading the events table (an index-only scan each), where it used to walk every earlier
event. On the 1M-article bench database a basket's analogs went from ~50 ms of SQL (two
passes over the earlier events) to ~12 ms.

``firm_impacts (instrument_id, car, day0)`` replaces ``(instrument_id, car)``: a ticker's
event days (``tracker.query.tickers``) are read from the index (~20 pages) instead of
~1,000 heap pages of results, 48 ms when those are not cached, 0.7 ms with it.

The old indexes are prefixes of the new ones, so what used them (kind + date filters,
theme lookups, a ticker's results by CAR) still can. SQLite gets fresh statistics so its
planner knows them.

Revision ID: 0013_covering_indexes
Revises: 0012_query_speed
Create Date: 2026-12-06 09:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_covering_indexes"
down_revision: str | None = "0012_query_speed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, old index, its columns, new index, its columns)
REPLACED = (
    (
        "events",
        "ix_events_kind_first_reported_at",
        ["kind", "first_reported_at"],
        "ix_events_kind_first_reported_at_id_parent",
        ["kind", "first_reported_at", "id", "parent_id"],
    ),
    (
        "event_themes",
        "ix_event_themes_theme_id",
        ["theme_id"],
        "ix_event_themes_theme_id_event_id",
        ["theme_id", "event_id"],
    ),
    (
        "firm_impacts",
        "ix_firm_impacts_instrument_car",
        ["instrument_id", "car"],
        "ix_firm_impacts_instrument_car_day0",
        ["instrument_id", "car", "day0"],
    ),
)


def upgrade() -> None:
    # plain CREATE/DROP INDEX (no batch): the SQLite full-text triggers of ``events`` stay
    for table, old, _, new, columns in REPLACED:
        op.create_index(new, table, columns, unique=False)
        op.drop_index(old, table_name=table)
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    for table, old, old_columns, new, _ in reversed(REPLACED):
        op.create_index(old, table, old_columns, unique=False)
        op.drop_index(new, table_name=table)
