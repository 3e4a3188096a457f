"""Feed bytes (+ the HTTP headers they came with) -> a parsed feed, or a clear parse error.

feedparser does the parsing; this module decides what its answer means. A document with
no recognised feed version (an HTML error page served with status 200, a JSON blob) is an
error, not an empty feed. A charset override (the declared encoding was wrong or missing
and feedparser found a better one) is tolerated; other "bozo" problems (malformed XML,
truncation) are kept as a warning for the feed's health record while the entries the
lenient parser recovered are still used.

feedparser's own HTML sanitiser and relative-URI resolver are switched off: every
summary goes through nh3 in ``normalize``, so doing the work twice would only cost time.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

TOLERATED_BOZO = (
    feedparser.CharacterEncodingOverride,
    feedparser.NonXMLContentType,
)


class FeedParseError(Exception):
    """The bytes are not a feed (or nothing could be recovered from them)."""


@dataclass(frozen=True)
class ParsedEntry:
    """The fields of one entry we use, still raw (unsanitised)."""

    guid: str | None
    link: str | None
    title: str | None
    summary: str | None
    published: datetime | None


@dataclass(frozen=True)
class ParsedFeed:
    version: str
    title: str | None
    ttl_minutes: int | None
    updated: datetime | None
    self_link: str | None
    link: str | None
    entries: list[ParsedEntry] = field(default_factory=list)
    warning: str | None = None  # a bozo problem we worked around


def _utc(struct: Any) -> datetime | None:
    """feedparser's UTC struct_time -> aware datetime (``None`` when absent or absurd)."""
    if not struct:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _summary(entry: Any) -> str | None:
    """The richest description: ``content`` if the feed has it, else ``summary``."""
    summary = _text(entry.get("summary"))
    contents = entry.get("content") or []
    for content in contents:
        value = _text(content.get("value")) if isinstance(content, Mapping) else None
        if value and (summary is None or len(value) > len(summary)):
            return value
    return summary


def _ttl(feed: Any) -> int | None:
    try:
        ttl = int(str(feed.get("ttl", "")).strip())
    except ValueError:
        return None
    return ttl if ttl > 0 else None


def _self_link(feed: Any) -> str | None:
    for link in feed.get("links") or []:
        if isinstance(link, Mapping) and link.get("rel") == "self" and link.get("href"):
            return str(link["href"])
    return None


_DOCTYPE = re.compile(r"<!DOCTYPE\s")
_ENTITY = re.compile(r"<!ENTITY\s")
_ELEMENT = re.compile(r"<[A-Za-z_:]")
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
PROLOG_SCAN_BYTES = 1 << 20


def _prolog_text(body: bytes) -> str:
    """The start of the document as text, good enough to read its DOCTYPE in any of the
    encodings XML allows (UTF-16/32 documents would hide a DOCTYPE from a byte search)."""
    head = body[:PROLOG_SCAN_BYTES]
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")) or head[:4] in (
        b"<\x00\x00\x00",
        b"\x00\x00\x00<",
    ):
        return head.decode("utf-32", errors="ignore")
    if head.startswith(_WIDE_BOMS) or head[:2] in (b"<\x00", b"\x00<"):
        return head.decode("utf-16", errors="ignore")
    return head.decode("latin-1")


def declares_entities(body: bytes) -> bool:
    """Does the document declare its own entities (``<!ENTITY`` in its DOCTYPE)?

    Feeds have no use for them and they are how "billion laughs" and external-entity
    attacks work, so such a document is refused before any XML parser expands anything.
    A DOCTYPE without declarations (RSS 0.91's) is harmless and allowed.
    """
    text = _prolog_text(body)
    doctype = _DOCTYPE.search(text)
    if doctype is None:
        return False
    entity = _ENTITY.search(text, doctype.end())
    if entity is None:
        return False
    root = _ELEMENT.search(text, doctype.end())
    return root is None or entity.start() < root.start()


def parse_feed(body: bytes, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse ``body``; raise ``FeedParseError`` naming the problem if it is not a feed."""
    if not body.strip():
        raise FeedParseError("empty response body")
    if declares_entities(body):
        raise FeedParseError(
            "feed declares XML entities in its DOCTYPE (<!ENTITY>): refused, entity "
            "expansion is how billion-laughs and external-entity attacks work"
        )
    response_headers = {key.lower(): value for key, value in (headers or {}).items()}
    result = feedparser.parse(
        body,
        response_headers=response_headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    problem = result.get("bozo_exception") if result.get("bozo") else None
    version = result.get("version") or ""
    if not version:
        content_type = response_headers.get("content-type", "unknown content type")
        reason = f": {_one_line(problem)}" if problem else ""
        raise FeedParseError(f"not an RSS/Atom feed ({content_type}){reason}")
    warning = None
    if problem is not None and not isinstance(problem, TOLERATED_BOZO):
        warning = f"malformed feed, entries recovered leniently: {_one_line(problem)}"
    feed = result.get("feed", {})
    entries = [
        ParsedEntry(
            guid=_text(entry.get("id")),
            link=_text(entry.get("link")),
            title=_text(entry.get("title")),
            summary=_summary(entry),
            published=_utc(entry.get("published_parsed") or entry.get("updated_parsed")),
        )
        for entry in result.get("entries", [])
    ]
    if warning and not entries:
        raise FeedParseError(warning.replace(", entries recovered leniently", ""))
    return ParsedFeed(
        version=version,
        title=_text(feed.get("title")),
        ttl_minutes=_ttl(feed),
        updated=_utc(feed.get("updated_parsed")),
        self_link=_self_link(feed),
        link=_text(feed.get("link")),
        entries=entries,
        warning=warning,
    )


def _one_line(problem: object) -> str:
    text = " ".join(str(problem).split())
    return text[:300] or type(problem).__name__
