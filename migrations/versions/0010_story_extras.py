"""story extras: an event's story pinned by a person

- ``events.story_locked``: set when a person assigns an event to a story or takes it out of
  one (``tracker stories assign|unassign``); the automatic story pass never changes the story
  of a locked event, so an unassigned event is not put back on the next run.
- The column is added with a plain ALTER TABLE (no batch), which keeps the SQLite
  full-text triggers of ``events`` in place.

Revision ID: 0010_story_extras
Revises: 0007_attention_shares
Create Date: 2026-12-06 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_story_extras"
down_revision: str | None = "0007_attention_shares"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "events",
        sa.Column("story_locked", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("events", "story_locked")
