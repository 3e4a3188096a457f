"""stories: the thread that ties events; event importance for the ranked lists

- ``stories``: one row a story (the DeepSeek story, Stargate, US chip export controls),
  curated or detected, with its coverage and importance; ``user_edited`` keeps a person's
  edits from being overwritten by the automatic pass.
- ``events.story_id``: the story an event belongs to (at most one).
- ``events.importance`` and ``events.importance_detail``: the score the default lists sort
  by, and its components so a page can explain the order.

Revision ID: 0004_stories
Revises: 0003_query_indexes
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db.types
from tracker.db.migrate import sqlite_search_triggers

revision: str = "0004_stories"
down_revision: str | None = "0003_query_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=160), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("first_reported_at", tracker.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_reported_at", tracker.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("article_count", sa.Integer(), nullable=False),
        sa.Column("source_count", sa.Integer(), nullable=False),
        sa.Column("importance", sa.Float(), nullable=False),
        sa.Column("user_edited", sa.Boolean(), nullable=False),
        sa.Column("created_at", tracker.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tracker.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("origin IN ('curated', 'detected')", name=op.f("ck_stories_origin")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stories")),
        sa.UniqueConstraint("slug", name=op.f("uq_stories_slug")),
    )
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.create_index("ix_stories_first_reported_at", ["first_reported_at"], unique=False)

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("story_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("importance", sa.Float(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("importance_detail", sa.JSON(), server_default="{}", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_events_story_id"), ["story_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_events_story_id_stories"),
            "stories",
            ["story_id"],
            ["id"],
            ondelete="SET NULL",
        )
    _restore_search_triggers()


def _restore_search_triggers() -> None:
    """On SQLite a batch rebuilds ``events`` (create, copy, drop, rename), and dropping the
    old table drops the triggers that keep ``events_fts`` in step: without them search
    would silently stop finding new and edited events."""
    if op.get_bind().dialect.name == "sqlite":
        for statement in sqlite_search_triggers("events"):
            op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_events_story_id_stories"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_events_story_id"))
        batch_op.drop_column("importance_detail")
        batch_op.drop_column("importance")
        batch_op.drop_column("story_id")
    _restore_search_triggers()

    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.drop_index("ix_stories_first_reported_at")

    op.drop_table("stories")
