"""Full-text search: one syntax, both engines, user text always data."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from tests.query.conftest import corpus_headlines
from tracker.db import Database
from tracker.db.models import Article, Feed
from tracker.query import latest_headlines, parse_search_text
from tracker.query.search import STOP_WORDS, SearchTerm, fts5_query

INJECTIONS = [
    '"',
    "'",
    "*",
    "NEAR",
    ")",
    "--",
    ";",
    "a' OR '1'='1",
    'x" OR "y',
    "NEAR(a b)",
    "title:secret",
    "^start",
    "-- DROP TABLE articles;",
    "(",
    "AND",
    "OR NOT",
    "\\",
]


def test_parse_words_phrases_and_prefixes() -> None:
    terms = parse_search_text('Nvidia "power of the grid" chip* the ;--')
    assert terms == [
        SearchTerm(("nvidia",)),
        SearchTerm(("power", "of", "the", "grid")),
        SearchTerm(("chip",), prefix=True),
    ]
    assert parse_search_text('"unterminated phrase') == [SearchTerm(("unterminated", "phrase"))]
    assert parse_search_text("the of and") == []  # stop words only


def test_fts5_query_quotes_every_term() -> None:
    query = fts5_query(parse_search_text('NEAR "a b" c*'))
    assert query == '"near" AND "a b" AND "c"*'


def _words(title: str) -> list[str]:
    return [w for w in re.findall(r"[^\W_]+", title.lower()) if w not in STOP_WORDS and len(w) > 3]


@pytest.fixture
def headlines(database: Database, data_dir: Path) -> list[tuple[int, str]]:
    rows = corpus_headlines(data_dir, 150)
    with database.session() as session:
        feed = Feed(url="https://example.invalid/corpus", name="Recorded corpus")
        session.add(feed)
        session.flush()
        stored = []
        for number, row in enumerate(rows):
            article = Article(
                feed_id=feed.id,
                dedupe_key=f"corpus-{number}",
                canonical_url=row.get("link"),
                title=row["title"],
                summary_text=row.get("description") or "",
                published_at=datetime.fromisoformat(row["date_published"]).astimezone(UTC),
                content_hash=f"{number:064d}",
            )
            session.add(article)
            session.flush()
            stored.append((article.id, row["title"]))
    return stored


def search(database: Database, text: str) -> set[int]:
    with database.session() as session:
        return {h.article_id for h in latest_headlines(session, limit=10_000, text=text)}


def test_real_headlines_are_found_by_words_phrase_and_prefix(
    database: Database, headlines: list[tuple[int, str]]
) -> None:
    checked = 0
    for article_id, title in headlines[::15]:
        words = _words(title)
        if len(words) < 2:
            continue
        checked += 1
        assert article_id in search(database, f"{words[0]} {words[-1]}"), title
        assert article_id in search(database, f"{words[0][:4]}*"), title
        # a phrase of three adjacent words of the title, stop words included
        phrase = " ".join(re.findall(r"[^\W_]+", title.lower())[:3])
        assert article_id in search(database, f'"{phrase}"'), title
        # every word must match: a made-up word excludes the headline
        assert article_id not in search(database, f"{words[0]} zzqqxxnotaword")
    assert checked >= 5


def test_search_text_is_data_never_syntax_or_sql(
    database: Database, headlines: list[tuple[int, str]]
) -> None:
    for text in INJECTIONS:
        found = search(database, text)  # must not raise
        assert found <= {article_id for article_id, _ in headlines}
    with database.session() as session:
        assert session.query(Article).count() == len(headlines)
    # a word next to syntax characters is still searched as the word
    article_id, title = headlines[0]
    word = _words(title)[0]
    assert article_id in search(database, f'{word}") OR ("')
    assert article_id in search(database, f"{word};--")


def test_index_follows_updates_and_deletes(
    database: Database, headlines: list[tuple[int, str]]
) -> None:
    article_id, _title = headlines[0]
    with database.session() as session:
        session.execute(
            update(Article)
            .where(Article.id == article_id)
            .values(title="Synthetic zebracorn title")
        )
    assert search(database, "zebracorn") == {article_id}
    with database.session() as session:
        session.execute(delete(Article).where(Article.id == article_id))
    assert search(database, "zebracorn") == set()
