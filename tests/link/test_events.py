"""The link stage end to end on the recorded headlines, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.link.corpus import insert_corpus, read_corpus
from tests.link.evaluate import evaluate, load_labels
from tracker.db.models import Article, ArticleEntity, Event, EventArticle, Feed
from tracker.link.cluster import ClusterParams
from tracker.link.events import event_tickers, link_new_articles, load_curated_events

WINDOW = (datetime(2025, 1, 26, tzinfo=UTC), datetime(2025, 1, 29, tzinfo=UTC))
# Recorded articles that report the 2025-01-27 App Store / market sell-off (hand-labelled).
SELLOFF_LABEL = "deepseek-app-store-selloff"


@pytest.fixture(scope="module")
def corpus(data_dir: Path):
    return read_corpus(data_dir)


def selloff_links() -> list[str]:
    return [str(a["link"]) for a in load_labels() if a["event"] == SELLOFF_LABEL]


def test_selloff_becomes_an_event_with_nvidia_and_power_names(database, corpus) -> None:
    with database.session() as session:
        ids = insert_corpus(session, corpus, start=WINDOW[0], end=WINDOW[1])
    now = datetime(2025, 2, 1, tzinfo=UTC)
    report = link_new_articles(database, now=now)
    assert report.articles == len(ids)
    assert report.events_created > 0
    with database.session() as session:
        assert session.scalar(select(func.count()).where(Article.linked_at.is_(None))) == 0
        wanted = [ids[link] for link in selloff_links() if link in ids]
        events = session.execute(
            select(EventArticle.event_id, func.count())
            .where(EventArticle.article_id.in_(wanted))
            .group_by(EventArticle.event_id)
        ).all()
        main_event, members = max(events, key=lambda row: row[1])
        assert members >= 0.4 * len(wanted)
        event = session.get_one(Event, main_event)
        assert event.origin == "detected"
        assert event.first_reported_at < datetime(2025, 1, 27, 14, 30, tzinfo=UTC)
        assert event.day0 is not None
        assert event.day0.isoformat() == "2025-01-27"
        assert event.source_count >= 3
        tickers = {t["ticker"]: t["reason"] for t in event_tickers(session, main_event)}
        for power in ("VST", "CEG", "TLN", "GEV"):
            assert "theme: AI efficiency shock" in tickers[power]
        reasons = [
            {t["ticker"]: t["reason"] for t in event_tickers(session, event_id)}
            for event_id, _ in events
        ]
        assert any("named in" in r.get("NVDA", "") and "VST" in r for r in reasons)
        # a second run has nothing to do and changes nothing
    again = link_new_articles(database, now=now)
    assert again.articles == 0


def test_linking_in_two_batches_is_incremental(database, corpus) -> None:
    middle = datetime(2025, 1, 27, 14, tzinfo=UTC)
    with database.session() as session:
        insert_corpus(session, corpus, start=WINDOW[0], end=middle)
    first = link_new_articles(database)
    with database.session() as session:
        insert_corpus_rest(session, corpus, middle, WINDOW[1])
    second = link_new_articles(database)
    assert second.events_updated > 0  # later articles joined events of the first batch
    with database.session() as session:
        total = session.scalar(select(func.count()).select_from(EventArticle))
        assert total == first.ai_articles + second.ai_articles
        for event in session.scalars(select(Event).where(Event.origin == "detected")):
            count = session.scalar(select(func.count()).where(EventArticle.event_id == event.id))
            assert event.article_count == count


def insert_corpus_rest(session, corpus, start, end) -> None:
    feeds = {f.url: f for f in session.scalars(select(Feed))}
    for entry in corpus:
        if not start <= entry.published_at < end:
            continue
        feed = feeds.get(entry.feed_url)
        if feed is None:
            feed = Feed(url=entry.feed_url, name=entry.outlet, kind="recorded")
            session.add(feed)
            session.flush()
            feeds[entry.feed_url] = feed
        session.add(
            _article(feed.id, entry.link, entry.title, entry.summary_text, entry.published_at)
        )


def _article(feed_id: int, key: str, title: str, text: str, at: datetime) -> Article:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return Article(
        feed_id=feed_id,
        guid=key,
        dedupe_key=digest,
        canonical_url=key,
        title=title,
        summary_html=text,
        summary_text=text,
        published_at=at,
        first_seen_at=at,
        content_hash=digest,
    )


def test_bad_input_links_without_crashing(database) -> None:
    """Empty, HTML-only, non-English, absurd timestamps, one title x 2000 (synthetic)."""
    with database.session() as session:
        feed = Feed(url="https://example.invalid/feed", name="synthetic")
        session.add(feed)
        session.flush()
        at = datetime(2025, 1, 27, 12, tzinfo=UTC)
        odd = [
            ("", "", at),
            ("<p><img src=x></p>", "<div></div>", at),
            ("DeepSeek 发布新的推理模型", "深度求索公司发布了新的人工智能模型", at),
            ("Nvidia news from the distant past", "", datetime(1970, 1, 1, tzinfo=UTC)),
            ("Nvidia news from the far future", "", datetime(2999, 1, 1, tzinfo=UTC)),
        ]
        for i, (title, text, when) in enumerate(odd):
            session.add(_article(feed.id, f"odd-{i}", title, text, when))
        for i in range(2000):
            session.add(
                _article(feed.id, f"rep-{i}", "Nvidia AI roundup", "", at + timedelta(seconds=i))
            )
    report = link_new_articles(database)
    assert report.articles == 2005
    with database.session() as session:
        assert session.scalar(select(func.count()).where(Article.linked_at.is_(None))) == 0
        repeated = session.scalars(select(Event).where(Event.title == "Nvidia AI roundup")).all()
        assert len(repeated) == 1
        assert repeated[0].article_count == 2000
        future = session.scalars(
            select(Event).where(Event.title == "Nvidia news from the far future")
        ).one()
        assert future.day0 is None  # outside the trading calendar: no day 0, no crash
        chinese = session.scalars(select(Article).where(Article.title.like("DeepSeek %"))).one()
        assert (
            session.scalar(select(func.count()).where(ArticleEntity.article_id == chinese.id)) >= 1
        )


def test_curated_events_load_idempotently_and_attach(database, corpus) -> None:
    created = load_curated_events(database)
    assert created == 33
    assert load_curated_events(database) == 0
    with database.session() as session:
        r1 = session.scalars(
            select(Event).where(Event.slug == "2025-01-20-deepseek-r1-released")
        ).one()
        assert r1.origin == "curated"
        assert r1.day0 is not None
        assert r1.day0.isoformat() == "2025-01-21"
        sell = session.scalars(
            select(Event).where(Event.title.like("Nvidia falls about 17%%"))
        ).one()
        reasons = {t["ticker"]: str(t["reason"]) for t in event_tickers(session, sell.id)}
        assert reasons["NVDA"] == "curated timeline"
        # the rows folded into the sell-off (part_of) lend it their tickers
        assert reasons["VST"].startswith("part of this happening: Vistra drops nearly 30%")
        insert_corpus(session, corpus, start=WINDOW[0], end=WINDOW[1])
    report = link_new_articles(database)
    assert report.attached_to_curated >= 1
    with database.session() as session:
        parents = session.scalars(
            select(Event.origin).where(
                Event.id.in_(select(Event.parent_id).where(Event.parent_id.is_not(None)))
            )
        ).all()
        assert parents
        assert set(parents) == {"curated"}


def test_quality_on_the_hand_labels(data_dir: Path, tmp_path: Path) -> None:
    """The figures the report quotes, kept as a floor (SQLite; the full corpus)."""
    scores = evaluate(data_dir, f"sqlite:///{tmp_path / 'eval.db'}")
    assert scores.labelled >= 300
    assert scores.entity_precision >= 0.99
    assert scores.entity_recall >= 0.99
    # floors a little under the figures with separate distinctive subjects, scored in the
    # listed event, on 377 labels (pairwise recall 0.925, separation 0.996, purity 0.931,
    # inverse purity 0.973, held-out purity 0.961; before: 0.925, 0.996, 0.92, 0.973, 0.956)
    assert scores.pairwise_recall >= 0.92
    assert scores.separation >= 0.99
    assert scores.purity >= 0.925
    assert scores.inverse_purity >= 0.97
    held_out_purity, held_out_inverse = scores.by_split["B"]
    assert held_out_purity >= 0.95
    assert held_out_inverse >= 0.975
    assert scores.worthy_precision >= 0.94
    assert scores.worthy_recall >= 0.99
    # the DeepSeek story is a few events, neither one blob nor one event per article
    deepseek_labels = {a["event"] for a in load_labels() if str(a["event"]).startswith("deepseek-")}
    assert len(deepseek_labels) - 2 <= scores.events_for_deepseek <= len(deepseek_labels)


def _synthetic(database, rows: list[tuple[str, str, datetime]]) -> list[int]:
    """Synthetic articles (not recorded data), one feed per title so source counts differ."""
    ids = []
    with database.session() as session:
        for title, text, at in rows:
            url = f"https://example.invalid/feed-{hashlib.sha256(title.encode()).hexdigest()[:8]}"
            feed = session.scalars(select(Feed).where(Feed.url == url)).one_or_none()
            if feed is None:
                feed = Feed(url=url, name="synthetic")
                session.add(feed)
                session.flush()
            article = _article(feed.id, f"{title}-{at.isoformat()}", title, text, at)
            session.add(article)
            session.flush()
            ids.append(article.id)
    return ids


MON = datetime(2025, 1, 27, 14, tzinfo=UTC)
STORY = [
    "Nvidia shares plunge as DeepSeek cheap AI model rattles chip investors",
    "DeepSeek cheap AI model rattles investors, Nvidia chip shares plunge",
    "Investors dump Nvidia chip shares after DeepSeek cheap AI model",
]


def test_a_later_run_merges_stored_events_and_keeps_the_first_slug(database) -> None:
    # every article apart: no similarity join, no near-duplicate titles, no merge
    apart = ClusterParams(join_threshold=2.0, merge_threshold=9.0, near_duplicate_min_words=99)
    _synthetic(database, [(STORY[0], "", MON), (STORY[1], "", MON + timedelta(hours=1))])
    first = link_new_articles(database, params=apart)
    assert first.events_created == 2
    with database.session() as session:
        slugs = dict(session.execute(select(Event.id, Event.slug)).all())
    _synthetic(database, [(STORY[2], "", MON + timedelta(hours=2))])
    second = link_new_articles(database, params=replace(apart, merge_threshold=0.28))
    assert second.events_merged == 1
    with database.session() as session:
        events = session.scalars(select(Event).where(Event.origin == "detected")).all()
        assert len(events) == 1
        event = events[0]
        assert event.slug == slugs[min(slugs)]  # the first reported event survives, same slug
        assert (
            event.article_count
            == 3
            == session.scalar(select(func.count()).where(EventArticle.event_id == event.id))
        )
        assert event.source_count == 3
        assert event.first_reported_at == MON


def test_attach_needs_an_adjacent_day0_and_counts_the_curated_event(
    database, tmp_path: Path
) -> None:
    timeline = tmp_path / "timeline.csv"
    timeline.write_text(
        "date,time_utc,title,kind,entities,tickers,source\n"
        f"2025-01-29,14:00,{STORY[0]},market,DeepSeek;Nvidia,NVDA,\n"
        "2025-01-28,14:00,Nvidia shares plunge on DeepSeek,market,DeepSeek;Nvidia,NVDA,\n",
        encoding="utf-8",
    )
    assert load_curated_events(database, timeline) == 2
    _synthetic(database, [(STORY[0], "", MON), (STORY[1], "", MON + timedelta(hours=1))])
    report = link_new_articles(database)
    assert report.attached_to_curated == 1
    with database.session() as session:
        detected = session.scalars(select(Event).where(Event.origin == "detected")).one()
        parent = session.get_one(Event, detected.parent_id)
        # Wednesday's identical title is two sessions after Monday's day 0: not the same event
        assert parent.occurred_at is not None
        assert parent.occurred_at.date().isoformat() == "2025-01-28"
        # the curated event is first reported by its earliest article: day 0 moves with it
        assert parent.first_reported_at == MON
        assert parent.day0 is not None
        assert parent.day0.isoformat() == "2025-01-27"
        assert (parent.article_count, parent.source_count) == (2, 2)
        other = session.scalars(
            select(Event).where(Event.origin == "curated", Event.id != parent.id)
        ).one()
        assert other.article_count == 0
