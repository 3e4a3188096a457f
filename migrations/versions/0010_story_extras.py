"""story extras: an event's story pinned by a person; events full-text triggers restored

- ``events.story_locked``: set when a person assigns an event to a story or takes it out of
  one (``tracker stories assign|unassign``); the automatic story pass never changes the story
  of a locked event, so an unassigned event is not put back on the next run.
- SQLite: 0004 rebuilt ``events`` in batch mode (to add its foreign key), which drops the
  table's triggers, so ``events_fts`` stopped following new and edited events. The triggers
  of 0002 are created again (if missing) and the index rebuilt. The column is added with a
  plain ALTER TABLE, which keeps the triggers.

Revision ID: 0010_story_extras
Revises: 0004_stories
Create Date: 2026-12-06 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_story_extras"
down_revision: str | None = "0004_stories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENTS_FTS_COLUMNS = ("title", "description")


def _restore_events_fts_triggers() -> None:
    cols = ", ".join(EVENTS_FTS_COLUMNS)
    new_values = ", ".join(f"new.{c}" for c in EVENTS_FTS_COLUMNS)
    old_values = ", ".join(f"old.{c}" for c in EVENTS_FTS_COLUMNS)
    op.execute(
        "CREATE TRIGGER IF NOT EXISTS events_fts_ai AFTER INSERT ON events BEGIN "
        f"INSERT INTO events_fts(rowid, {cols}) VALUES (new.id, {new_values}); END"
    )
    op.execute(
        "CREATE TRIGGER IF NOT EXISTS events_fts_ad AFTER DELETE ON events BEGIN "
        f"INSERT INTO events_fts(events_fts, rowid, {cols}) "
        f"VALUES ('delete', old.id, {old_values}); END"
    )
    op.execute(
        f"CREATE TRIGGER IF NOT EXISTS events_fts_au AFTER UPDATE OF {cols} ON events BEGIN "
        f"INSERT INTO events_fts(events_fts, rowid, {cols}) "
        f"VALUES ('delete', old.id, {old_values}); "
        f"INSERT INTO events_fts(rowid, {cols}) VALUES (new.id, {new_values}); END"
    )
    op.execute("INSERT INTO events_fts(events_fts) VALUES ('rebuild')")


def upgrade() -> None:
    op.add_column(
        "events",
        sa.Column("story_locked", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        _restore_events_fts_triggers()


def downgrade() -> None:
    op.drop_column("events", "story_locked")
