"""Test helper: the recorded news corpus as Feed/Article rows (the ingestion stage's shape).

Feed ingestion is another stage's job; these tests only need its output, so entries are
inserted directly with plain-text titles and summaries (tags stripped simply).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from tracker.db.models import Article, Feed

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def strip_tags(markup: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup or ""))).strip()


@dataclass(frozen=True)
class CorpusEntry:
    outlet: str
    feed_url: str
    title: str
    link: str
    summary_html: str
    summary_text: str
    published_at: datetime


def read_corpus(data_dir: Path) -> list[CorpusEntry]:
    """Every entry of feeds/corpus/*.jsonl, in (published, link) order."""
    entries = []
    for path in sorted((data_dir / "feeds" / "corpus").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            raw = json.loads(line)
            published = datetime.fromisoformat(raw["date_published"]).astimezone(UTC)
            entries.append(
                CorpusEntry(
                    outlet=path.stem,
                    feed_url=raw["source_url"],
                    title=strip_tags(raw.get("title") or ""),
                    link=raw["link"],
                    summary_html=raw.get("description") or "",
                    summary_text=strip_tags(raw.get("description") or ""),
                    published_at=published,
                )
            )
    return sorted(entries, key=lambda e: (e.published_at, e.link))


def insert_corpus(
    session: Session,
    entries: list[CorpusEntry],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, int]:
    """Insert entries (optionally within [start, end)) as articles; returns link -> article id."""
    feeds: dict[str, Feed] = {}
    ids: dict[str, int] = {}
    for entry in entries:
        if start is not None and entry.published_at < start:
            continue
        if end is not None and entry.published_at >= end:
            continue
        feed = feeds.get(entry.feed_url)
        if feed is None:
            feed = Feed(url=entry.feed_url, name=entry.outlet, kind="recorded")
            session.add(feed)
            session.flush()
            feeds[entry.feed_url] = feed
        key = hashlib.sha256(entry.link.encode()).hexdigest()
        article = Article(
            feed_id=feed.id,
            guid=entry.link,
            dedupe_key=key,
            canonical_url=entry.link,
            title=entry.title,
            summary_html=entry.summary_html,
            summary_text=entry.summary_text,
            published_at=entry.published_at,
            first_seen_at=entry.published_at,
            content_hash=hashlib.sha256((entry.title + entry.summary_text).encode()).hexdigest(),
        )
        session.add(article)
        session.flush()
        ids[entry.link] = article.id
    return ids
