"""story extras: an event's story pinned by a person

- ``events.story_locked``: set when a person assigns an event to a story or takes it out of
  one (``tracker stories assign|unassign``); the automatic story pass never changes the story
  of a locked event, so an unassigned event is not put back on the next run.

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


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("story_locked", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("story_locked")
