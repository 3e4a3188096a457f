"""analog candidates from indexes alone

``events (kind, first_reported_at, id, parent_id)`` replaces ``(kind, first_reported_at)``
and ``event_themes (theme_id, event_id)`` replaces ``(theme_id)``: the analogs of an
event are the earlier events of its kind or of one of its themes outside its cluster
(``tracker.query.analogs``), and with these two indexes PostgreSQL collects them without
reading the events table (an index-only scan each), where it used to walk every earlier
event. On the 1M-article bench database a basket's analogs went from ~50 ms of SQL (two
passes over the earlier events) to ~12 ms. The old indexes are prefixes of the new ones,
so what used them (kind + date filters, theme lookups) still can. SQLite gets fresh
statistics so its planner knows them.

Revision ID: 0013_analog_candidates
Revises: 0012_query_speed
Create Date: 2026-12-06 09:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_analog_candidates"
down_revision: str | None = "0012_query_speed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain CREATE/DROP INDEX (no batch): the SQLite full-text triggers of ``events`` stay
    op.create_index(
        "ix_events_kind_first_reported_at_id_parent",
        "events",
        ["kind", "first_reported_at", "id", "parent_id"],
        unique=False,
    )
    op.drop_index("ix_events_kind_first_reported_at", table_name="events")
    op.create_index(
        "ix_event_themes_theme_id_event_id",
        "event_themes",
        ["theme_id", "event_id"],
        unique=False,
    )
    op.drop_index("ix_event_themes_theme_id", table_name="event_themes")
    op.execute("ANALYZE events")
    op.execute("ANALYZE event_themes")


def downgrade() -> None:
    op.create_index("ix_event_themes_theme_id", "event_themes", ["theme_id"], unique=False)
    op.drop_index("ix_event_themes_theme_id_event_id", table_name="event_themes")
    op.create_index(
        "ix_events_kind_first_reported_at", "events", ["kind", "first_reported_at"], unique=False
    )
    op.drop_index("ix_events_kind_first_reported_at_id_parent", table_name="events")
