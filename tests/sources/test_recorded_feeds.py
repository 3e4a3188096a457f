"""Recorded feeds: JSON entries rendered to RSS keep every field and time; XML as-is."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime

import feedparser

from tracker.sources.recorded_feeds import load_recorded_documents, read_entries, render_rss


def test_rendered_rss_round_trips_through_feedparser() -> None:
    # synthetic entry with the awkward characters real ones have: entities, markup, <, &
    entry = {
        "title": "Q&A: 5 < 6 &#8217;quoted&#8217;",
        "link": "https://example.test/story?id=1&x=2",
        "description": '<p>Body with <a href="https://example.test">a link</a></p>',
        "date_published": "2025-01-27T07:49:01+00:00",
        "source_url": "https://example.test/feed.xml",
    }
    parsed = feedparser.parse(render_rss(entry["source_url"], "Synthetic", [entry]))
    assert not parsed.bozo
    (out,) = parsed.entries
    # feedparser hands titles back as HTML; the text is the same
    assert html.unescape(out.title) == html.unescape(entry["title"])
    assert out.link == entry["link"]
    assert out.id == entry["link"]
    assert out.summary == entry["description"]
    assert datetime(*out.published_parsed[:6], tzinfo=UTC) == datetime(
        2025, 1, 27, 7, 49, 1, tzinfo=UTC
    )


def test_control_characters_do_not_break_the_document() -> None:
    entry = {"title": "bad\x00\x0bchars", "link": "https://example.test/a", "source_url": "u"}
    parsed = feedparser.parse(render_rss("u", "n", [entry]))
    assert not parsed.bozo
    assert parsed.entries[0].title == "badchars"


def _json_entries(data_dir):
    feeds = data_dir / "feeds"
    for path in sorted((feeds / "corpus").glob("*.jsonl")):
        yield from (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    for path in sorted((feeds / "recorded").glob("*_entries_*.json")):
        yield from json.loads(path.read_text())


def test_every_outlet_becomes_one_document_with_all_its_entries(data_dir) -> None:
    expected: dict[str, int] = {}
    for entry in _json_entries(data_dir):
        expected[entry["source_url"]] = expected.get(entry["source_url"], 0) + 1
    documents = load_recorded_documents(data_dir)
    rendered = {doc.url: len(feedparser.parse(doc.body).entries) for doc in documents if doc.url}
    assert rendered == expected
    xml_docs = [doc for doc in documents if doc.url is None]
    assert len(xml_docs) == len(list((data_dir / "feeds" / "recorded").glob("*.xml"))) + len(
        list((data_dir / "feeds" / "recorded").glob("*.atom"))
    )
    assert all(doc.body.lstrip().startswith(b"<?xml") for doc in xml_docs)


def test_until_leaves_out_later_entries(data_dir) -> None:
    until = datetime(2025, 1, 27, 12, 0, tzinfo=UTC)
    expected = sum(
        1
        for entry in _json_entries(data_dir)
        if datetime.fromisoformat(entry["date_published"]) <= until
    )
    documents = load_recorded_documents(data_dir, until=until)
    got = sum(len(feedparser.parse(doc.body).entries) for doc in documents if doc.url)
    assert got == expected
    assert 0 < got < sum(1 for _ in _json_entries(data_dir))


def test_read_entries_reads_jsonl_and_json(data_dir) -> None:
    verge = list(read_entries(data_dir / "feeds" / "corpus" / "theverge.jsonl"))
    assert any(e["title"] == "China’s DeepSeek AI is hitting Nvidia where it hurts" for e in verge)
    day = list(read_entries(data_dir / "feeds" / "recorded" / "theverge_entries_20250127.json"))
    assert {e["source_url"] for e in day} == {"https://www.theverge.com/rss/index.xml"}
