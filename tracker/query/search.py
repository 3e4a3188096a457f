"""Full-text search with the database's own engine, with one user-facing syntax.

The user writes words (all must match), ``word*`` for a prefix, and ``"a phrase"`` in
double quotes. The text is parsed here into terms of plain alphanumeric tokens; only those
tokens ever reach the database, and always as bound parameters, so quotes, ``*``,
``NEAR``, ``)``, ``--`` or ``;`` in the text are data, never query syntax or SQL.

- SQLite: FTS5 external-content tables ``events_fts`` / ``articles_fts`` (migration
  0002_query_search) with the porter stemmer; each term becomes a quoted FTS5 string.
- PostgreSQL: ``to_tsvector('english', ...)`` expressions with GIN indexes; each term
  becomes ``phraseto_tsquery`` (or ``to_tsquery`` with ``:*`` for a prefix), ANDed.

PostgreSQL's ``english`` configuration drops stop words, so a word that is a stop word on
its own is dropped on both sides (inside a phrase it is kept: "meet the man" is a phrase of
three words on SQLite and ``meet <2> man`` on PostgreSQL); a text with no searchable word
matches nothing on both. Stemmers differ slightly
(porter vs snowball), which can change which rare inflections match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from tracker.db.models import Article, Event, EventArticle

# PostgreSQL's english.stop (the Snowball list), so both backends ignore the same words.
_STOP_WORDS_TEXT = """i me my myself we our ours ourselves you your yours yourself yourselves he
    him his himself she her hers herself it its itself they them their theirs themselves what
    which who
    whom this that these those am is are was were be been being have has had having do does did
    doing a an the and but if or because as until while of at by for with about against between
    into through during before after above below to from up down in out on off over under again
    further then once here there when where why how all any both each few more most other some
    such no nor not only own same so than too very s t can will just don should now"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

_TERM = re.compile(r'"([^"]*)"?|(\S+)')
_TOKEN = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class SearchTerm:
    """One ANDed term: a word or a phrase (tokens in order), optionally a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False


def parse_search_text(text: str) -> list[SearchTerm]:
    """Terms of ``text``: quoted phrases, words, ``word*`` prefixes; lone stop words dropped."""
    terms: list[SearchTerm] = []
    for match in _TERM.finditer(text):
        phrase, word = match.group(1), match.group(2)
        raw = phrase if phrase is not None else word
        prefix = word is not None and word.endswith("*")
        tokens = tuple(_TOKEN.findall(raw.lower()))
        # a stop word alone is dropped; inside a phrase it keeps the words' distance
        if any(token not in STOP_WORDS for token in tokens):
            terms.append(SearchTerm(tokens, prefix))
    return terms


def fts5_query(terms: list[SearchTerm]) -> str:
    """An FTS5 MATCH expression: every term a quoted string (tokens hold no quote)."""
    parts = []
    for term in terms:
        quoted = '"' + " ".join(term.tokens).replace('"', '""') + '"'
        parts.append(quoted + ("*" if term.prefix else ""))
    return " AND ".join(parts)


_REGCONFIG: ColumnElement[Any] = literal_column("'english'::regconfig")

# Exactly the expressions of the GIN indexes in migration 0002_query_search.
_PG_DOCUMENTS: dict[str, TextClause] = {
    "events": text(
        "to_tsvector('english', coalesce(events.title, '') || ' ' || "
        "coalesce(events.description, ''))"
    ),
    "articles": text(
        "to_tsvector('english', coalesce(articles.title, '') || ' ' || "
        "coalesce(articles.summary_text, ''))"
    ),
}


def _pg_tsquery(terms: list[SearchTerm]) -> ColumnElement[object]:
    queries: list[ColumnElement[object]] = []
    for term in terms:
        if term.prefix:
            # tokens are alphanumeric only, so this to_tsquery input holds no operator
            expression = " <-> ".join(term.tokens) + ":*"
            queries.append(func.to_tsquery(_REGCONFIG, literal(expression)))
        else:
            queries.append(func.phraseto_tsquery(_REGCONFIG, literal(" ".join(term.tokens))))
    combined = queries[0]
    for query in queries[1:]:
        combined = combined.op("&&")(query)
    return combined


def _matching_ids(backend: str, table: str, terms: list[SearchTerm]) -> Select[Any]:
    if backend == "sqlite":
        fts = f"{table}_fts"
        return (
            select(literal_column("rowid", type_=Article.id.type))
            .select_from(text(fts))
            .where(literal_column(fts).op("MATCH")(literal(fts5_query(terms))))
        )
    model = Event if table == "events" else Article
    document = _PG_DOCUMENTS[table]
    return select(model.id).where(literal_column(document.text).op("@@")(_pg_tsquery(terms)))


def matching_event_ids(backend: str, terms: list[SearchTerm]) -> Select[Any]:
    """Ids of events whose title or description match every term."""
    return _matching_ids(backend, "events", terms)


def matching_article_ids(backend: str, terms: list[SearchTerm]) -> Select[Any]:
    """Ids of articles whose title or summary match every term."""
    return _matching_ids(backend, "articles", terms)


COMMON_MATCH_THRESHOLD = 50_000
"""Above this many matching articles a text is "common": walking events newest-first and
checking each one is then cheaper than collecting every match (see ``is_common``). Each
check is a full-text probe (~0.3 ms on SQLite), so walking only pays when matches are
dense; measured on the 1M-article bench database (bench/bench_queries.py)."""


def is_common(session: Session, terms: list[SearchTerm]) -> bool:
    """Whether the articles matching ``terms`` reach the threshold.

    Either answer gives the same results (only the plan differs), so an estimate is enough
    where counting is dear: PostgreSQL's planner estimate from the GIN expression's
    statistics (counting even a capped number of matches builds the whole GIN bitmap,
    ~1 s for a word in most articles); SQLite's FTS5 counts incrementally, with a cap.
    """
    backend = session.get_bind().dialect.name
    if backend == "postgresql":
        return _estimated_rows(session, matching_article_ids(backend, terms)) >= (
            COMMON_MATCH_THRESHOLD
        )
    capped = matching_article_ids(backend, terms).limit(COMMON_MATCH_THRESHOLD).subquery()
    count = session.scalar(select(func.count()).select_from(capped)) or 0
    return count >= COMMON_MATCH_THRESHOLD


def _estimated_rows(session: Session, query: Select[Any]) -> float:
    """PostgreSQL's estimate of the rows ``query`` returns (EXPLAIN, parameters bound)."""
    compiled = query.compile(dialect=session.get_bind().dialect)
    plan = (
        session.connection()
        .exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params)
        .scalar()
    )
    return float(plan[0]["Plan"]["Plan Rows"])


def article_matches(backend: str, terms: list[SearchTerm], article_id: Any) -> ColumnElement[bool]:
    """A condition on one article (``article_id`` a column of the outer query)."""
    if backend == "sqlite":
        fts = table("articles_fts", column("rowid"))
        return (
            select(literal(1))
            .select_from(fts)
            .where(
                literal_column("articles_fts").op("MATCH")(literal(fts5_query(terms))),
                fts.c.rowid == article_id,
            )
            .exists()
        )
    return literal_column(_PG_DOCUMENTS["articles"].text).op("@@")(_pg_tsquery(terms))


def event_matches(backend: str, terms: list[SearchTerm]) -> ColumnElement[bool]:
    """A correlated condition on ``events``: its own text or one of its articles matches."""
    if backend == "sqlite":
        fts = table("events_fts", column("rowid"))
        own: ColumnElement[bool] = (
            select(literal(1))
            .select_from(fts)
            .where(
                literal_column("events_fts").op("MATCH")(literal(fts5_query(terms))),
                fts.c.rowid == Event.id,
            )
            .exists()
        )
        linked = (
            select(literal(1))
            .select_from(EventArticle)
            .where(
                EventArticle.event_id == Event.id,
                article_matches(backend, terms, EventArticle.article_id),
            )
            .correlate(Event)
            .exists()
        )
        return or_(own, linked)
    own = literal_column(_PG_DOCUMENTS["events"].text).op("@@")(_pg_tsquery(terms))
    linked = (
        select(literal(1))
        .select_from(EventArticle)
        .join(Article, Article.id == EventArticle.article_id)
        .where(EventArticle.event_id == Event.id, article_matches(backend, terms, Article.id))
        .correlate(Event)
        .exists()
    )
    return or_(own, linked)
