"""attribution: which event a move is credited to, the confound ledger, BH q-values

- ``attributions``: the ranked candidate catalysts of each (ticker, session) move, one
  ``primary`` per move, with score components and a one-line reason.
- ``confounds``: what else touched an (event, ticker) around day 0 (other events, earnings,
  macro releases, ex-dividend days, splits), by session offset from day 0.
- ``firm_impacts.q_value``: Benjamini-Hochberg q-value across an event's tickers.

Revision ID: 0006_attribution
Revises: 0004_stories
Create Date: 2026-12-06 05:04:11.291543
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db.types

revision: str = "0006_attribution"
down_revision: str | None = "0004_stories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("abnormal_return", sa.Float(), nullable=True),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("q_value", sa.Float(), nullable=True),
        sa.Column("model", sa.String(length=20), nullable=False),
        sa.Column("input_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("computed_at", tracker.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('primary', 'same_story', 'confound')", name=op.f("ck_attributions_role")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_attributions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_attributions_instrument_id_instruments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"],
            ["stories.id"],
            name=op.f("fk_attributions_story_id_stories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attributions")),
        sa.UniqueConstraint(
            "instrument_id",
            "session_date",
            "event_id",
            name=op.f("uq_attributions_instrument_id_session_date_event_id"),
        ),
    )
    with op.batch_alter_table("attributions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attributions_event_id"), ["event_id"], unique=False)
        batch_op.create_index(
            "ix_attributions_session_date_role", ["session_date", "role"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attributions_story_id"), ["story_id"], unique=False)

    op.create_table(
        "confounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("relative_day", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("other_event_id", sa.Integer(), nullable=True),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("input_fingerprint", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('event', 'earnings', 'macro', 'dividend', 'split')",
            name=op.f("ck_confounds_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_confounds_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_confounds_instrument_id_instruments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_event_id"],
            ["events.id"],
            name=op.f("fk_confounds_other_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"],
            ["stories.id"],
            name=op.f("fk_confounds_story_id_stories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confounds")),
    )
    with op.batch_alter_table("confounds", schema=None) as batch_op:
        batch_op.create_index(
            "ix_confounds_event_instrument",
            ["event_id", "instrument_id", "relative_day"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_confounds_instrument_id"), ["instrument_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_confounds_other_event_id"), ["other_event_id"], unique=False
        )

    with op.batch_alter_table("firm_impacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("q_value", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("firm_impacts", schema=None) as batch_op:
        batch_op.drop_column("q_value")

    with op.batch_alter_table("confounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_confounds_other_event_id"))
        batch_op.drop_index(batch_op.f("ix_confounds_instrument_id"))
        batch_op.drop_index("ix_confounds_event_instrument")

    op.drop_table("confounds")
    with op.batch_alter_table("attributions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attributions_story_id"))
        batch_op.drop_index("ix_attributions_session_date_role")
        batch_op.drop_index(batch_op.f("ix_attributions_event_id"))

    op.drop_table("attributions")
