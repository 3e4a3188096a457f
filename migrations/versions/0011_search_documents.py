"""search documents: a word-pair (bigram) index beside PostgreSQL's full-text GIN index

A GIN index on a tsvector stores which rows hold a word, not where: a phrase of common
words makes PostgreSQL visit and recheck every article holding all of its words. On the
1M-article bench database ``chi* "market model"`` found 40,098 candidates in the GIN index
for 3,914 matches, reading 32,924 heap pages (1.5 s under load); with the pair index, 4,430
candidates. ``tracker_bigrams(search_document)`` lists the adjacent lexeme
pairs of a document (``'cost cheap'``), and a GIN index on it finds the rows where the
phrase's words are adjacent; the exact ``@@`` test still decides (a pair list is a
necessary condition of a phrase match, never a sufficient one), so results do not change.

The pairs are an expression index on the stored ``search_document`` of 0003, not a column:
nothing is stored twice and nothing changes for writers but the index upkeep. The models do
not declare the function or the indexes (``ftsix_`` indexes are hidden from autogenerate).
SQLite needs nothing: FTS5 keeps positions in its index, so its phrase queries are exact.

Revision ID: 0011_search_documents
Revises: 0010_story_extras
Create Date: 2026-12-06 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_search_documents"
down_revision: str | None = "0010_story_extras"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("events", "articles")

# Every pair of lexemes at positions p and p + 1 (a position can hold several lexemes,
# e.g. "open-source" -> open-sourc:2 open:3 sourc:4 after to_tsvector, so a self-join
# rather than lead()). COST: ~100 us a document; the planner must not call it row by row
# where the index answers.
BIGRAMS_FUNCTION = """
CREATE FUNCTION tracker_bigrams(document tsvector) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
    WITH placed AS (SELECT lexeme, unnest(positions) AS pos FROM unnest(document))
    SELECT coalesce(array_agg(DISTINCT first.lexeme || ' ' || second.lexeme), '{}')
    FROM placed AS first JOIN placed AS second ON second.pos = first.pos + 1
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(BIGRAMS_FUNCTION)
    for table in TABLES:
        op.execute(
            f"CREATE INDEX ftsix_{table}_bigrams ON {table} "
            "USING gin (tracker_bigrams(search_document))"
        )
        # statistics of the indexed expression: the search plans from the pair's frequency
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP INDEX ftsix_{table}_bigrams")
    op.execute("DROP FUNCTION tracker_bigrams(tsvector)")
