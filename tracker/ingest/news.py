"""Polling feeds into the articles table: due feeds, one feed, recorded feeds, backfill.

Each feed is one unit: fetch (no database transaction open while waiting on the network),
parse, normalise, then one transaction that stores the new articles *and* the feed's
health, so a batch is stored whole or not at all. A failing feed is recorded on its row
(status, error count, failing-since, backed-off next check) and the others carry on.
Requests are serialised per host (one at a time, to be polite) while different hosts are
polled concurrently by a small thread pool.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.db import Database
from tracker.db.models import Article, Feed
from tracker.errors import UserInputError
from tracker.news.normalize import NormalizedArticle, normalize_entry
from tracker.news.parse import FeedParseError, ParsedFeed, parse_feed
from tracker.news.registry import KNOWN_NAMES, get_feed
from tracker.news.schedule import CheckOutcome, next_check_at, parse_max_age, parse_retry_after
from tracker.sources.feeds import FetchResult, fetch_feed, make_client
from tracker.sources.recorded_feeds import load_recorded_documents

log = logging.getLogger(__name__)

POLLED_KINDS = ("rss", "atom")
MAX_HOST_WORKERS = 4
KEY_CHUNK = 500
GOOGLE_NEWS_SEARCH = "https://news.google.com/rss/search"


@dataclass(frozen=True)
class FeedPollRow:
    """The outcome of polling one feed."""

    feed: str
    status: str  # ok | not_modified | malformed | error
    new: int = 0
    duplicate: int = 0
    error: str | None = None
    http_status: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "status": self.status,
            "http": self.http_status,
            "new": self.new,
            "duplicate": self.duplicate,
            "error": self.error or "",
        }


@dataclass
class PollReport:
    rows: list[FeedPollRow] = field(default_factory=list)

    def as_counts(self) -> dict[str, int]:
        return {
            "feeds": len(self.rows),
            "new": sum(row.new for row in self.rows),
            "duplicate": sum(row.duplicate for row in self.rows),
            "not_modified": sum(row.status == "not_modified" for row in self.rows),
            "errors": sum(row.status == "error" for row in self.rows),
        }


# ----------------------------------------------------------------------------- storing


@dataclass(frozen=True)
class _StoreCounts:
    new: int
    duplicate: int


def normalize_entries(
    parsed: ParsedFeed, first_seen: datetime, until: datetime | None = None
) -> list[NormalizedArticle]:
    """The feed's entries as articles; entries claiming a time after ``until`` are left out
    (recorded replay), entries with no title, link or text at all are not articles."""
    articles = []
    for entry in parsed.entries:
        if until is not None and entry.published is not None and entry.published > until:
            continue
        if not (entry.title or entry.link or entry.summary):
            continue
        articles.append(
            normalize_entry(
                guid=entry.guid,
                link=entry.link,
                title=entry.title,
                summary=entry.summary,
                published=entry.published,
                first_seen=first_seen,
            )
        )
    return articles


def store_articles(
    session: Session, feed_id: int, articles: Sequence[NormalizedArticle], first_seen: datetime
) -> _StoreCounts:
    """Insert the articles this feed has not stored yet (by dedupe key); count the rest."""
    unique: dict[str, NormalizedArticle] = {}
    for article in articles:
        unique.setdefault(article.dedupe_key, article)
    keys = list(unique)
    existing: set[str] = set()
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start : start + KEY_CHUNK]
        existing.update(
            session.scalars(
                select(Article.dedupe_key).where(
                    Article.feed_id == feed_id, Article.dedupe_key.in_(chunk)
                )
            )
        )
    rows = [
        {
            "feed_id": feed_id,
            "guid": article.guid,
            "dedupe_key": article.dedupe_key,
            "canonical_url": article.canonical_url,
            "title": article.title,
            "summary_html": article.summary_html,
            "summary_text": article.summary_text,
            "published_at": article.published_at,
            "published_estimated": article.published_estimated,
            "future_dated": article.future_dated,
            "first_seen_at": first_seen,
            "content_hash": article.content_hash,
        }
        for key, article in unique.items()
        if key not in existing
    ]
    if rows:
        session.execute(insert(Article), rows)
    return _StoreCounts(new=len(rows), duplicate=len(articles) - len(rows))


# ---------------------------------------------------------------------------- health


def _record_success(
    feed: Feed,
    fetched: FetchResult,
    parsed: ParsedFeed | None,
    settings: Settings,
    now: datetime,
) -> None:
    feed.last_checked_at = now
    feed.last_success_at = now
    feed.last_status = (
        "not_modified" if parsed is None else ("malformed" if parsed.warning else "ok")
    )
    feed.error_count = 0
    feed.failing_since = None
    feed.last_error = parsed.warning if parsed else None
    if fetched.etag or fetched.last_modified or parsed is not None:
        feed.etag = (fetched.etag or None) and fetched.etag[:500]
        feed.last_modified = (fetched.last_modified or None) and fetched.last_modified[:100]
    ttl = timedelta(minutes=parsed.ttl_minutes) if parsed and parsed.ttl_minutes else None
    outcome = CheckOutcome(
        ok=True,
        ttl=ttl,
        max_age=parse_max_age(fetched.headers.get("cache-control")),
        retry_after=parse_retry_after(fetched.headers.get("retry-after"), now),
    )
    feed.next_check_at = next_check_at(
        now, outcome, timedelta(minutes=settings.feed_interval_minutes)
    )


def _record_error(
    feed: Feed, error: str, headers: dict[str, str], settings: Settings, now: datetime
) -> None:
    feed.last_checked_at = now
    feed.last_status = "error"
    feed.error_count = (feed.error_count or 0) + 1
    feed.failing_since = feed.failing_since or now
    feed.last_error = error[:2000]
    outcome = CheckOutcome(
        ok=False,
        consecutive_errors=feed.error_count,
        retry_after=parse_retry_after(headers.get("retry-after"), now),
    )
    feed.next_check_at = next_check_at(
        now, outcome, timedelta(minutes=settings.feed_interval_minutes)
    )


# ---------------------------------------------------------------------------- polling


@dataclass(frozen=True)
class _FeedRef:
    id: int
    url: str
    etag: str | None
    last_modified: str | None


def _poll(
    db: Database,
    settings: Settings,
    client: httpx.Client,
    ref: _FeedRef,
    now: datetime,
    *,
    conditional: bool = True,
) -> FeedPollRow:
    fetched = fetch_feed(
        client,
        ref.url,
        etag=ref.etag if conditional else None,
        last_modified=ref.last_modified if conditional else None,
        max_bytes=settings.feed_max_bytes,
        deadline_seconds=settings.feed_timeout_seconds * 2,
    )
    parsed: ParsedFeed | None = None
    error = fetched.error
    if fetched.status == "ok":
        try:
            parsed = parse_feed(fetched.body, fetched.headers)
        except FeedParseError as exc:
            error = str(exc)
    if error is not None:
        return _store_error(db, settings, ref, error, fetched, now)
    try:
        with db.session() as session:
            feed = session.get_one(Feed, ref.id)
            counts = _StoreCounts(0, 0)
            if parsed is not None:
                articles = normalize_entries(parsed, now)
                counts = store_articles(session, feed.id, articles, now)
            _record_success(feed, fetched, parsed, settings, now)
            status = feed.last_status or "ok"
    except Exception as exc:  # one feed's storage failure must not stop the others
        log.exception("storing feed %s failed", ref.url)
        return _store_error(db, settings, ref, f"storage failed: {exc}", fetched, now)
    return FeedPollRow(
        ref.url,
        status,
        counts.new,
        counts.duplicate,
        error=parsed.warning if parsed else None,
        http_status=fetched.http_status,
    )


def _store_error(
    db: Database,
    settings: Settings,
    ref: _FeedRef,
    error: str,
    fetched: FetchResult,
    now: datetime,
) -> FeedPollRow:
    log.debug("feed %s: %s", ref.url, error)  # summarised once per poll by poll_feeds
    with db.session() as session:
        _record_error(session.get_one(Feed, ref.id), error, fetched.headers, settings, now)
    return FeedPollRow(ref.url, "error", error=error, http_status=fetched.http_status)


def _poll_guarded(
    db: Database,
    settings: Settings,
    client: httpx.Client,
    ref: _FeedRef,
    now: datetime,
    *,
    conditional: bool = True,
) -> FeedPollRow:
    """``_poll`` that cannot raise: whatever one feed does, the feeds queued behind it on
    its host (and the other hosts) are still polled, and its row still records the failure
    so the next poll is scheduled instead of failing the same way forever."""
    try:
        return _poll(db, settings, client, ref, now, conditional=conditional)
    except Exception as exc:
        log.exception("polling feed %s failed", ref.url)
        error = f"poll failed: {type(exc).__name__}: {exc}"
        try:
            with db.session() as session:
                _record_error(session.get_one(Feed, ref.id), error, {}, settings, now)
        except Exception:
            log.exception("recording the failure of feed %s failed", ref.url)
        return FeedPollRow(ref.url, "error", error=error)


def _refs(feeds: Iterable[Feed]) -> list[_FeedRef]:
    return [_FeedRef(feed.id, feed.url, feed.etag, feed.last_modified) for feed in feeds]


def _host(url: str) -> str:
    try:
        parts = urlsplit(url)
        return f"{parts.hostname}:{parts.port}"
    except ValueError:
        return url


def poll_feeds(
    db: Database,
    settings: Settings,
    refs: Sequence[_FeedRef],
    now: datetime,
    client: httpx.Client | None = None,
) -> PollReport:
    """Poll ``refs``: hosts concurrently, each host's feeds one after the other."""
    by_host: dict[str, list[_FeedRef]] = defaultdict(list)
    for ref in refs:
        by_host[_host(ref.url)].append(ref)
    own_client = client is None
    http = client or make_client(settings)

    def poll_host(host_refs: list[_FeedRef]) -> list[FeedPollRow]:
        return [_poll_guarded(db, settings, http, ref, now) for ref in host_refs]

    try:
        workers = max(1, min(MAX_HOST_WORKERS, len(by_host)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="feeds") as pool:
            results = list(pool.map(poll_host, by_host.values()))
    finally:
        if own_client:
            http.close()
    order = {ref.url: index for index, ref in enumerate(refs)}
    rows = sorted((row for host_rows in results for row in host_rows), key=lambda r: order[r.feed])
    report = PollReport(rows)
    log_poll_summary(report)
    return report


def log_poll_summary(report: PollReport) -> None:
    """One line per poll, not one per feed: without network every feed fails the same way,
    and the log should say that once. Each feed's own error stays in its row (feeds list)."""
    failed = [row for row in report.rows if row.status == "error"]
    counts = report.as_counts()
    if not failed:
        log.info("poll: %d feeds, %d new articles", counts["feeds"], counts["new"])
        return
    reasons = Counter((row.error or "?").split(":")[0] for row in failed)
    common = ", ".join(f"{reason} x{count}" for reason, count in reasons.most_common(3))
    log.warning(
        "poll: %d of %d feeds failed (%s); %d new articles; first: %s: %s",
        len(failed),
        counts["feeds"],
        common,
        counts["new"],
        failed[0].feed,
        failed[0].error,
    )


def poll_due_feeds(
    db: Database,
    settings: Settings,
    now: datetime | None = None,
    *,
    client: httpx.Client | None = None,
    all_feeds: bool = False,
) -> PollReport:
    """Poll the enabled live feeds whose next check is due (all of them if ``all_feeds``)."""
    now = now or datetime.now(UTC)
    with db.session() as session:
        query = select(Feed).where(Feed.enabled.is_(True), Feed.kind.in_(POLLED_KINDS))
        if not all_feeds:
            query = query.where(or_(Feed.next_check_at.is_(None), Feed.next_check_at <= now))
        refs = _refs(session.scalars(query.order_by(Feed.id)))
    return poll_feeds(db, settings, refs, now, client)


def poll_feed(
    db: Database,
    settings: Settings,
    feed_url: str,
    now: datetime | None = None,
    *,
    client: httpx.Client | None = None,
) -> FeedPollRow:
    """Poll one registered feed now, whatever its schedule says."""
    now = now or datetime.now(UTC)
    with db.session() as session:
        refs = _refs([get_feed(session, feed_url)])
    return poll_feeds(db, settings, refs, now, client).rows[0]


# --------------------------------------------------------------------------- backfill


def google_news_search_url(
    query: str, start: date, end: date, endpoint: str = GOOGLE_NEWS_SEARCH
) -> str:
    """Google News RSS search for ``query`` published from ``start`` to ``end`` inclusive
    (its ``before:`` operator is exclusive, hence the day added)."""
    if not query.strip():
        raise UserInputError("--query must not be empty")
    if end < start:
        raise UserInputError(f"--to {end} is before --from {start}")
    q = f"{query.strip()} after:{start.isoformat()} before:{(end + timedelta(days=1)).isoformat()}"
    return f"{endpoint}?{urlencode({'q': q, 'hl': 'en-US', 'gl': 'US', 'ceid': 'US:en'})}"


def backfill_search(
    db: Database,
    settings: Settings,
    query: str,
    start: date,
    end: date,
    *,
    client: httpx.Client | None = None,
    endpoint: str = GOOGLE_NEWS_SEARCH,
    now: datetime | None = None,
) -> FeedPollRow:
    """Bring the headlines of a past window in through the same fetch/parse/store path.

    The search is registered as a feed of kind ``search`` (so its articles have a feed and
    its health is visible) that the regular poller leaves alone.
    """
    url = google_news_search_url(query, start, end, endpoint)
    now = now or datetime.now(UTC)
    with db.session() as session:
        feed = session.scalar(select(Feed).where(Feed.url == url))
        if feed is None:
            feed = Feed(url=url, name=f"Google News search: {query.strip()}"[:200], kind="search")
            session.add(feed)
            session.flush()
        ref = _refs([feed])[0]
    own_client = client is None
    http = client or make_client(settings)
    try:
        return _poll_guarded(db, settings, http, ref, now, conditional=False)
    finally:
        if own_client:
            http.close()


# --------------------------------------------------------------------------- recorded


def _recorded_feed(session: Session, url: str, name: str) -> Feed:
    feed = session.scalar(select(Feed).where(Feed.url == url))
    if feed is None:
        feed = Feed(url=url, name=KNOWN_NAMES.get(url, name)[:200], kind="recorded")
        session.add(feed)
        session.flush()
    return feed


def poll_recorded(
    db: Database,
    data_dir: Path,
    *,
    until: datetime | None = None,
    now: datetime | None = None,
) -> PollReport:
    """Ingest the recorded feeds through the live parse/normalise/store path.

    Each outlet becomes (or reuses) the Feed row of its real URL. With ``until`` only
    entries published at or before it are ingested, so a replay makes them appear at
    their original times; entries with no date count as first seen at ``until``.
    """
    first_seen = until or now or datetime.now(UTC)
    report = PollReport()
    for document in load_recorded_documents(data_dir, until=until, names=KNOWN_NAMES):
        label = document.url or document.origin
        try:
            parsed = parse_feed(document.body)
        except FeedParseError as exc:
            report.rows.append(FeedPollRow(label, "error", error=f"{document.origin}: {exc}"))
            continue
        url = document.url or parsed.self_link or parsed.link or f"recorded:{document.origin}"
        name = parsed.title or document.name
        with db.session() as session:
            feed = _recorded_feed(session, url, name)
            articles = normalize_entries(parsed, first_seen, until)
            counts = store_articles(session, feed.id, articles, first_seen)
            if feed.kind == "recorded":  # a live feed's health is about the live feed
                feed.last_checked_at = feed.last_success_at = first_seen
                feed.last_status = "malformed" if parsed.warning else "ok"
        status = "malformed" if parsed.warning else "ok"
        report.rows.append(
            FeedPollRow(url, status, counts.new, counts.duplicate, error=parsed.warning)
        )
    return report
