"""A copy of the demo database with hostile feed content added: the dashboard's worst input.

Feed text is untrusted: each string below is an attack a feed could carry (a markdown link to
``javascript:``, an image that calls home, raw HTML, Streamlit's own colour/icon directives,
LaTeX). The pages must show them as inert text, never render them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path

from sqlalchemy import func, select

from tracker.db import Database
from tracker.db.models import (
    Article,
    DailyBar,
    Event,
    EventArticle,
    EventTicker,
    Feed,
    Instrument,
    JobRun,
)

BEACON = "http://127.0.0.1:9/beacon.png"
HOSTILE_TITLES = (
    "[Click to read](javascript:alert(document.cookie))",
    f"![tracking pixel]({BEACON}) headline",
    "<img src=x onerror=alert(1)> <script>alert(2)</script> <b>bold</b>",
    "**loud** _slanted_ `code` :red[alarm] :material/warning: $x^2$ # heading",
    '=HYPERLINK("http://evil.example/","open")',
)
HOSTILE_URL = "javascript:alert(3)"
# What must never appear as rendered markup (checked in the markdown the page sends and in the
# browser's DOM): a markdown link or image, raw tags, a javascript: target.
RENDERED_MARKERS = ("](javascript", "![tracking", "<img", "<script", "<b>")


@dataclass(frozen=True)
class HostileDatabase:
    url: str
    event_id: int  # a curated hostile event with a day 0 inside the stored prices


def build_hostile_database(demo_url: str, directory: Path) -> HostileDatabase:
    """Copy the demo SQLite file and add hostile articles, events, a feed and a job run."""
    source = Path(demo_url.removeprefix("sqlite:///"))
    target = directory / "hostile.db"
    shutil.copy(source, target)
    url = f"sqlite:///{target}"
    database = Database.connect(url)
    try:
        with database.session() as session:
            newest = session.scalar(select(func.max(Article.published_at)))
            assert newest is not None
            newest = newest.replace(tzinfo=UTC) if newest.tzinfo is None else newest
            nvda = session.scalars(select(Instrument).where(Instrument.ticker == "NVDA")).one()
            bar_day = session.scalar(
                select(func.max(DailyBar.date)).where(DailyBar.instrument_id == nvda.id)
            )
            feed = Feed(
                url="https://hostile.example/feed.xml",
                name="<b>Evil</b> [feed](javascript:alert(4))",
                error_count=3,
                last_error=HOSTILE_TITLES[0],
                last_status="<script>",
                failing_since=newest,
            )
            session.add(feed)
            session.flush()
            first_event: int | None = None
            for index, title in enumerate(HOSTILE_TITLES):
                at = newest + timedelta(minutes=10 * (index + 1))
                article = Article(
                    feed_id=feed.id,
                    dedupe_key=f"hostile-{index}",
                    canonical_url=HOSTILE_URL,
                    title=title,
                    summary_html=title,
                    summary_text=title,
                    published_at=at,
                    content_hash=f"hostile-{index}",
                )
                event = Event(
                    slug=f"hostile-{index}",
                    title=title,
                    kind="news",
                    origin="curated",
                    occurred_at=at,
                    first_reported_at=at,
                    day0=bar_day,
                    description=HOSTILE_TITLES[(index + 1) % len(HOSTILE_TITLES)],
                    reference_url=HOSTILE_URL,
                    article_count=1,
                    source_count=1,
                    # at the top of the default (importance) order, where a reader meets it
                    importance=100.0,
                )
                session.add_all([article, event])
                session.flush()
                session.add(EventArticle(event_id=event.id, article_id=article.id))
                session.add(EventTicker(event_id=event.id, instrument_id=nvda.id, reason=title))
                first_event = first_event or event.id
            session.add(
                JobRun(
                    job="poll_feeds",
                    scheduled_for=newest,
                    status="failed",
                    error=HOSTILE_TITLES[1],
                    worker="w:1",
                )
            )
            assert first_event is not None
            return HostileDatabase(url, first_event)
    finally:
        database.dispose()
