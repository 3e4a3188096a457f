"""attention and shares: attention day 0, results at other anchors, shares outstanding

- ``events.attention_day0`` and ``events.attention_detail``: the session attention to the
  event's story or entities first surged (tracker.impact.onset), with the method's parameters
  and the counts behind it.
- ``anchored_impacts``: event-study results at the attention day 0 and for the sensitivity
  strip (publication day 0 shifted by -2..+5 sessions); apart from ``firm_impacts`` /
  ``group_impacts`` so their keys and indexes stay as they are.
- ``shares_outstanding``: a time series of share counts per instrument (filings, yfinance);
  the value change uses the count in force on the day before day 0.

Revision ID: 0007_attention_shares
Revises: 0006_attribution
Create Date: 2026-12-06 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db.types
from tracker.db.migrate import sqlite_search_triggers

revision: str = "0007_attention_shares"
down_revision: str | None = "0006_attribution"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _restore_sqlite_event_search() -> None:
    """Put back the events full-text triggers that the batch rebuild of ``events`` drops on
    SQLite (``tracker.db.migrate.sqlite_search_triggers``)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in sqlite_search_triggers("events"):
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "shares_outstanding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("shares", sa.BigInteger(), nullable=False),
        sa.Column("share_class", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", tracker.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_shares_outstanding_instrument_id_instruments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shares_outstanding")),
        sa.UniqueConstraint(
            "instrument_id", "as_of", name=op.f("uq_shares_outstanding_instrument_id_as_of")
        ),
    )
    op.create_table(
        "anchored_impacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("anchor", sa.String(length=20), nullable=False),
        sa.Column("shift", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=True),
        sa.Column("basket_id", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(length=20), nullable=False),
        sa.Column("window_start", sa.Integer(), nullable=False),
        sa.Column("window_end", sa.Integer(), nullable=False),
        sa.Column("day0", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("car", sa.Float(), nullable=True),
        sa.Column("car_t", sa.Float(), nullable=True),
        sa.Column("car_p", sa.Float(), nullable=True),
        sa.Column("statistics", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("input_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("computed_at", tracker.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "anchor IN ('attention', 'shift')", name=op.f("ck_anchored_impacts_anchor")
        ),
        sa.ForeignKeyConstraint(
            ["basket_id"],
            ["baskets.id"],
            name=op.f("fk_anchored_impacts_basket_id_baskets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_anchored_impacts_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_anchored_impacts_instrument_id_instruments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anchored_impacts")),
        sa.UniqueConstraint(
            "event_id",
            "anchor",
            "shift",
            "subject",
            "model",
            "window_start",
            "window_end",
            name="uq_anchored_impacts_key",
        ),
    )
    with op.batch_alter_table("anchored_impacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_anchored_impacts_event_id"), ["event_id"])

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attention_day0", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("attention_detail", sa.JSON(), server_default="{}", nullable=False)
        )
    _restore_sqlite_event_search()


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("attention_detail")
        batch_op.drop_column("attention_day0")
    _restore_sqlite_event_search()

    with op.batch_alter_table("anchored_impacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_anchored_impacts_event_id"))

    op.drop_table("anchored_impacts")
    op.drop_table("shares_outstanding")
