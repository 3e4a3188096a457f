"""q-values in the result indexes: "significant" read from the index, as raw p was

"Significant" in the event lists is the Benjamini-Hochberg q-value below the level (never
raw p). The two result indexes the lists read held ``car_p`` but not ``q_value``, so the
significant filter read every candidate's table row: on the 1M-article bench database
"min |CAR| + significant" went from 19 ms (p, from the index) to 290 ms (q, from the
table). Both indexes gain ``q_value`` after ``car_p``; they keep their other columns in the
same order, so what used them still can.

Revision ID: 0014_q_value_indexes
Revises: 0013_covering_indexes
Create Date: 2026-12-06 09:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_q_value_indexes"
down_revision: str | None = "0013_covering_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WINDOW = ["model", "window_start", "window_end"]
# (old index, its columns, new index, its columns), all on firm_impacts
REPLACED = (
    (
        "ix_firm_impacts_model_window_car_p_event",
        [*WINDOW, "car", "car_p", "event_id"],
        "ix_firm_impacts_model_window_car_q_event",
        [*WINDOW, "car", "car_p", "q_value", "event_id"],
    ),
    (
        "ix_firm_impacts_event_model_window",
        ["event_id", *WINDOW, "car", "car_p", "instrument_id"],
        "ix_firm_impacts_event_model_window_q",
        ["event_id", *WINDOW, "car", "car_p", "q_value", "instrument_id"],
    ),
)


def upgrade() -> None:
    # plain CREATE/DROP INDEX (no batch): no table is rebuilt, no trigger is touched
    for old, _, new, columns in REPLACED:
        op.create_index(new, "firm_impacts", columns, unique=False)
        op.drop_index(old, table_name="firm_impacts")
    op.execute("ANALYZE firm_impacts")


def downgrade() -> None:
    for old, old_columns, new, _ in reversed(REPLACED):
        op.create_index(old, "firm_impacts", old_columns, unique=False)
        op.drop_index(new, table_name="firm_impacts")
