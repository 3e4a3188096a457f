"""Full-text search: one syntax, both engines, user text always data."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, update
from sqlalchemy import text as sql_text

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


def _phrase_texts(titles: list[str]) -> list[str]:
    """Phrases from real titles: adjacent, reversed, gapped, prefixed, hyphenated."""
    texts = []
    for title in titles:
        tokens = re.findall(r"[^\W_]+", title.lower())
        if len(tokens) < 4:
            continue
        texts += [
            f'"{tokens[1]} {tokens[2]}"',
            f'"{tokens[2]} {tokens[1]}"',
            f'"{tokens[0]} {tokens[2]}"',
            f'{tokens[0][:3]}* "{tokens[1]} {tokens[2]} {tokens[3]}"',
            f"{tokens[0]}-{tokens[1]}-{tokens[2][:3]}*",
            f'"{tokens[0]} the {tokens[1]}"',
        ]
    return texts


def test_phrases_match_the_same_rows_with_or_without_the_word_pair_index(
    database: Database, headlines: list[tuple[int, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pair condition only narrows what PostgreSQL rechecks: the matches stay the same."""
    from tracker.query import search as search_module

    texts = _phrase_texts([title for _, title in headlines[::4]])
    assert len(texts) >= 30
    narrowed = [search(database, text) for text in texts]
    monkeypatch.setattr(search_module, "_pg_phrase_conditions", lambda table, terms: [])
    exact = [search(database, text) for text in texts]
    assert narrowed == exact
    assert sum(1 for found in exact if found) >= 10  # the phrases do find headlines
    assert any(not found for found in exact)  # and some (reversed, gapped) find none


def test_phrase_pairs_are_the_adjacent_words_outside_stop_words() -> None:
    from tracker.query.search import _phrase_pairs

    assert _phrase_pairs(SearchTerm(("cost", "cheap"))) == "cost cheap"
    assert _phrase_pairs(SearchTerm(("open", "source", "mod"), prefix=True)) == "open source"
    assert _phrase_pairs(SearchTerm(("meet", "the", "man"))) is None  # meet <2> man
    assert _phrase_pairs(SearchTerm(("chip",))) is None
    assert _phrase_pairs(SearchTerm(("chip", "mak"), prefix=True)) is None


@pytest.mark.postgres
def test_word_pairs_of_a_document_include_every_phrase_it_matches(
    postgres_template_url: str,
) -> None:
    """tracker_bigrams (migration 0011): a phrase match implies the pairs, hyphens included."""
    query = sql_text(
        "SELECT tracker_bigrams(to_tsvector('english', :doc)) "
        "@> tracker_bigrams(to_tsvector('english', :phrase)), "
        "to_tsvector('english', :doc) @@ phraseto_tsquery('english', :phrase), "
        "tracker_bigrams(to_tsvector('english', :phrase))"
    )
    doc = "An open-source model cuts the cost of GPU training"
    phrases = ("open-source model", "gpu training", "training gpu", "open source", "cost of gpu")
    database = Database.connect(postgres_template_url)
    try:
        with database.engine.connect() as connection:
            rows = [connection.execute(query, {"doc": doc, "phrase": p}).one() for p in phrases]
    finally:
        database.dispose()
    # pairs held <=> phrase matched here; a stop word leaves no pair (cost <2> gpu)
    assert [(row[0], row[1]) for row in rows] == [
        (True, True),
        (True, True),
        (False, False),
        (True, True),
        (True, True),
    ]
    assert rows[1][2] == ["gpu train"]
    assert rows[4][2] == []
