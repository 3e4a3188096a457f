"""Recorded feeds: the real entries of the recorded-data directory, as feed documents.

Two kinds of file (see the data's ``feeds/SOURCES.md``):

* JSON entries (``feeds/corpus/*.jsonl`` and ``feeds/recorded/*_entries_*.json``): real
  entries an RSS crawler stored, not the outlet's XML. They are rendered to RSS 2.0, one
  document per outlet (the entry's ``source_url``), so they travel the same parse ->
  normalise -> store path as a live feed and keep their original ``date_published``.
* Original RSS/Atom documents (``feeds/recorded/*.xml``, ``*.atom``): passed on as-is.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from tracker.errors import DataUnavailableError

FEEDS_SUBDIR = "feeds"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class RecordedDocument:
    """One feed document to ingest. ``url`` is the real feed URL when the files say it
    (JSON ``source_url``); for XML documents ``None``: the document's own self link is used."""

    url: str | None
    name: str
    body: bytes
    origin: str  # file name(s), for messages


def feeds_root(data_dir: Path) -> Path:
    root = data_dir / FEEDS_SUBDIR
    if not root.is_dir():
        raise DataUnavailableError(f"no recorded feeds at {root} (check TRACKER_DATA_DIR)")
    return root


def _json_files(root: Path) -> list[Path]:
    return sorted((root / "corpus").glob("*.jsonl")) + sorted(
        (root / "recorded").glob("*_entries_*.json")
    )


def _xml_files(root: Path) -> list[Path]:
    recorded = root / "recorded"
    return sorted([*recorded.glob("*.xml"), *recorded.glob("*.atom")])


def read_entries(path: Path) -> Iterator[dict[str, Any]]:
    """The entry objects of one JSON Lines or JSON array file."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            items: Iterable[Any] = (json.loads(line) for line in text.splitlines() if line.strip())
        else:
            items = json.loads(text)
        for item in items:
            if isinstance(item, dict) and item.get("source_url"):
                yield item
    except (OSError, ValueError) as exc:
        raise DataUnavailableError(f"cannot read recorded entries {path}: {exc}") from exc


def entry_time(entry: dict[str, Any]) -> datetime | None:
    value = entry.get("date_published")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _element(tag: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        return ""
    return f"<{tag}>{escape(_XML_INVALID.sub('', value))}</{tag}>"


def render_rss(url: str, name: str, entries: Iterable[dict[str, Any]]) -> bytes:
    """RSS 2.0 bytes carrying ``entries`` verbatim (titles/descriptions escaped as text)."""
    items = []
    for entry in entries:
        published = entry_time(entry)
        link = entry.get("link") if isinstance(entry.get("link"), str) else None
        guid = f"<guid isPermaLink={quoteattr('true')}>{escape(link)}</guid>" if link else ""
        pub = f"<pubDate>{format_datetime(published)}</pubDate>" if published else ""
        items.append(
            "<item>"
            + _element("title", entry.get("title"))
            + _element("link", link)
            + guid
            + _element("description", entry.get("description"))
            + pub
            + "</item>"
        )
    document = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        + _element("title", name)
        + _element("link", url)
        + "<description>Recorded entries of this feed</description>"
        + "".join(items)
        + "</channel></rss>\n"
    )
    return document.encode("utf-8")


def load_recorded_documents(
    data_dir: Path, *, until: datetime | None = None, names: dict[str, str] | None = None
) -> list[RecordedDocument]:
    """Every recorded feed as a document; JSON entries published after ``until`` left out.

    ``names`` maps feed URLs to display names (else the outlet's file name is used).
    """
    root = feeds_root(data_dir)
    by_feed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    origins: dict[str, list[str]] = defaultdict(list)
    stems: dict[str, str] = {}
    for path in _json_files(root):
        for entry in read_entries(path):
            published = entry_time(entry)
            if until is not None and published is not None and published > until:
                continue
            url = str(entry["source_url"])
            by_feed[url].append(entry)
            if path.name not in origins[url]:
                origins[url].append(path.name)
            if path.suffix == ".jsonl":
                stems.setdefault(url, path.stem)
    documents = []
    for url, entries in by_feed.items():
        name = (names or {}).get(url) or stems.get(url) or url
        body = render_rss(url, name, entries)
        documents.append(RecordedDocument(url, name, body, ", ".join(origins[url])))
    for path in _xml_files(root):
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise DataUnavailableError(f"cannot read recorded feed {path}: {exc}") from exc
        documents.append(RecordedDocument(None, path.stem, body, path.name))
    return documents
