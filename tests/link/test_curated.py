"""Curated events: the shipped timeline's themes expose the same baskets detected events get."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tracker.db import Database
from tracker.db.models import Event, EventTheme
from tracker.errors import UserInputError
from tracker.link.events import event_tickers, load_curated_events


def _event(database: Database, title: str) -> Event:
    with database.session() as session:
        return session.scalars(select(Event).where(Event.title == title)).one()


def test_app_store_event_exposes_semis_and_power_names_with_reasons(database: Database) -> None:
    load_curated_events(database)
    event = _event(database, "DeepSeek app becomes No. 1 free app on the US App Store")
    assert event.origin == "curated"
    assert event.day0 == date(2025, 1, 27)  # a Sunday: the next session
    with database.session() as session:
        tickers = {row["ticker"]: str(row["reason"]) for row in event_tickers(session, event.id)}
        themes = session.scalars(select(EventTheme).where(EventTheme.event_id == event.id)).all()
    assert len(themes) == 1
    for ticker in ("NVDA", "AVGO", "TSM", "MRVL", "VST", "CEG", "TLN", "GEV", "NRG"):
        assert ticker in tickers
    assert tickers["VST"].startswith("theme: AI efficiency shock")
    assert "data-centre power" in tickers["VST"]
    assert "AAPL" in tickers  # named in the timeline row itself
    assert tickers["AAPL"] == "curated timeline"


def test_reloading_keeps_one_link_per_ticker(database: Database) -> None:
    load_curated_events(database)
    load_curated_events(database)
    event = _event(database, "Stargate Project announced at the White House")
    with database.session() as session:
        rows = event_tickers(session, event.id)
    names = [row["ticker"] for row in rows]
    assert len(names) == len(set(names))
    orcl = next(row for row in rows if row["ticker"] == "ORCL")
    assert str(orcl["reason"]).startswith("curated timeline; theme: AI capex")


def test_unknown_theme_names_the_event(database: Database, tmp_path: Path) -> None:
    timeline = tmp_path / "timeline.csv"
    timeline.write_text(
        "date,time_utc,title,kind,entities,tickers,source,themes\n"
        "2025-01-27,,Something happened,news,,NVDA,,no-such-theme\n"
    )
    with pytest.raises(UserInputError, match="no-such-theme"):
        load_curated_events(database, timeline)
    with database.session() as session:
        assert session.scalars(select(Event)).all() == []


def test_market_moves_measure_the_session_they_describe(database: Database) -> None:
    load_curated_events(database)
    fall = _event(database, "Nvidia falls about 17% in record one-day value loss")
    rebound = _event(database, "Nvidia rebounds about 9%")
    assert fall.day0 == date(2025, 1, 27)
    assert rebound.day0 == date(2025, 1, 28)


# ------------------------------------------------- detected events merged into curated ones
# Synthetic articles (not recorded data); their URLs are under example.invalid.

MERGE_TIMELINE = (
    "date,time_utc,title,kind,entities,tickers,source\n"
    "2025-01-27,22:00,NYT: 'Nvidia Reels After Acme Breakthrough',news,Nvidia,NVDA,"
    "https://example.invalid/nvidia-reels\n"
    "2025-01-27,12:00,Acme opens a chip plant in Ohio,corporate,Nvidia,NVDA,\n"
)


def _article(session, feed_url: str, url: str, title: str, at: datetime) -> int:
    from tracker.db.models import Article, Feed

    feed = session.scalars(select(Feed).where(Feed.url == feed_url)).one_or_none()
    if feed is None:
        feed = Feed(url=feed_url, name="synthetic")
        session.add(feed)
        session.flush()
    article = Article(
        feed_id=feed.id,
        dedupe_key=url,
        canonical_url=url,
        title=title,
        summary_text="",
        published_at=at,
        first_seen_at=at,
        content_hash=url,
    )
    session.add(article)
    session.flush()
    return article.id


def test_a_detected_report_of_a_curated_happening_is_merged_and_hidden(
    database: Database, tmp_path: Path
) -> None:

    from tracker.db.models import EventArticle
    from tracker.link.events import link_new_articles
    from tracker.query import EventFilter, search_events

    path = tmp_path / "timeline.csv"
    path.write_text(MERGE_TIMELINE, encoding="utf-8")
    assert load_curated_events(database, path) == 2
    early = datetime(2025, 1, 27, 19, 30, tzinfo=UTC)  # before the curated time
    with database.session() as session:
        _article(
            session,
            "https://example.invalid/feed-a",
            "https://example.invalid/nvidia-reels",
            "Nvidia Reels After Acme Breakthrough",
            datetime(2025, 1, 27, 22, 0, tzinfo=UTC),
        )
        _article(
            session,
            "https://example.invalid/feed-b",
            "https://example.invalid/b",
            "Nvidia reels after the Acme breakthrough, shares slide",
            early,
        )
    report = link_new_articles(database)
    assert report.attached_to_curated >= 1
    with database.session() as session:
        curated = session.scalars(select(Event).where(Event.title.like("NYT:%"))).one()
        other = session.scalars(select(Event).where(Event.title.like("Acme opens%"))).one()
        detected = session.scalars(select(Event).where(Event.origin == "detected")).all()
        assert detected
        assert {e.parent_id for e in detected} == {curated.id}
        # coverage: both articles, two sources; first report is the earliest article
        assert (curated.article_count, curated.source_count) == (2, 2)
        assert curated.first_reported_at == early
        # 17:00 ET was after the close (day 0 the 28th); the first report, 14:30 ET, was not
        assert curated.day0 == date(2025, 1, 27)
        assert (other.article_count, other.parent_id) == (0, None)
        listed = search_events(session, EventFilter(limit=100))
        assert curated.id in {e.id for e in listed}
        assert not {e.id for e in detected} & {e.id for e in listed}  # listed once
        merged = search_events(session, EventFilter(limit=100, include_merged=True))
        assert {e.id for e in detected} <= {e.id for e in merged}
        # a second pass merges nothing new and attaches no duplicate article
        again = link_new_articles(database)
        assert again.attached_to_curated == 0
        # the detected event's articles are attached to the curated event too, once
        attached = session.scalars(
            select(EventArticle.article_id).where(EventArticle.event_id == curated.id)
        ).all()
        assert len(attached) == len(set(attached)) == 2
        session.refresh(curated)
        assert (curated.article_count, curated.source_count) == (2, 2)


def test_the_reference_article_lands_in_its_curated_event(
    database: Database, tmp_path: Path
) -> None:
    """Even when linking made no event of it (a headline with no tracked name)."""

    from tracker.db.models import EventArticle
    from tracker.link.curated import merge_detected_into_curated

    path = tmp_path / "timeline.csv"
    path.write_text(MERGE_TIMELINE, encoding="utf-8")
    load_curated_events(database, path)
    with database.session() as session:
        article_id = _article(
            session,
            "https://example.invalid/feed-a",
            "https://example.invalid/nvidia-reels",
            "A headline naming nothing tracked",
            datetime(2025, 1, 27, 21, tzinfo=UTC),
        )
        merge_detected_into_curated(session)
        curated = session.scalars(select(Event).where(Event.title.like("NYT:%"))).one()
        holders = session.scalars(
            select(EventArticle.event_id).where(EventArticle.article_id == article_id)
        ).all()
        assert holders == [curated.id]
        assert curated.article_count == 1
        merge_detected_into_curated(session)  # idempotent
        assert (
            len(
                session.scalars(
                    select(EventArticle.event_id).where(EventArticle.article_id == article_id)
                ).all()
            )
            == 1
        )


def test_reports_of_a_happening_stand_under_it(database: Database) -> None:
    """The shipped timeline's sell-off: the outlets' reports and the power names' moves
    that day are part of one happening, which takes their tickers."""
    from tracker.query import EventFilter, search_events

    load_curated_events(database)
    selloff = _event(database, "Nvidia falls about 17% in record one-day value loss")
    vistra = _event(database, "Vistra drops nearly 30%")
    nyt = _event(database, "NYT: 'Nvidia Reels After DeepSeek's A.I. Breakthrough'")
    assert vistra.parent_id == selloff.id
    assert nyt.parent_id == selloff.id
    assert selloff.parent_id is None
    with database.session() as session:
        tickers = {row["ticker"]: str(row["reason"]) for row in event_tickers(session, selloff.id)}
        listed = {e.id for e in search_events(session, EventFilter(limit=500))}
    assert {"NVDA", "VST", "CEG", "TLN", "GEV", "AVGO"} <= set(tickers)
    assert tickers["VST"].startswith("part of this happening: Vistra drops nearly 30%")
    assert selloff.id in listed
    assert not {vistra.id, nyt.id} & listed
    assert load_curated_events(database) == 0  # reloading keeps the same shape
    assert _event(database, "Vistra drops nearly 30%").parent_id == selloff.id


def test_part_of_must_name_a_happening_row(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "timeline.csv"
    path.write_text("date,title,part_of\n2025-01-27,A report,No such row\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="A report"):
        load_curated_events(database, path)


def test_a_curated_event_is_about_its_first_named_entity() -> None:
    from tracker.link.curated import curated_subject, shipped_timeline
    from tracker.link.entities import Matcher, load_dictionary

    matcher = Matcher(load_dictionary(None))
    subject = {row.title: curated_subject(row, matcher) for row in shipped_timeline()}
    # "DeepSeek; Apple; OpenAI": the App Store event is DeepSeek's
    assert subject["DeepSeek app becomes No. 1 free app on the US App Store"] == "deepseek"
    assert subject["Nvidia rebounds about 9%"] == "nvidia"


def test_only_reports_about_the_subject_and_its_move_join_a_curated_event() -> None:
    from tracker.link.curated import about_happening

    app_store = ("product", {"deepseek"})
    # "TikTok still isn't in the App Store" names Apple's App Store, not DeepSeek
    assert not about_happening(*app_store, {"apple"}, ["TikTok still isn’t in the App Store"])
    assert about_happening(*app_store, {"deepseek", "apple"}, ["DeepSeek tops the App Store"])
    rebound = ("market_move", {"nvidia"})
    stock = ["Nvidia’s RTX 5090 is out of stock because it was barely in stock"]
    assert not about_happening(*rebound, {"nvidia"}, stock)
    assert about_happening(
        *rebound, {"nvidia"}, ["Nvidia shares rebound after record loss", *stock]
    )
