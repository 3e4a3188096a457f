"""Parsing: real feeds parse, HTML and garbage are errors, malformed feeds are warnings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.feed_server import item, rss
from tracker.news.parse import FeedParseError, parse_feed


def test_real_atom_document_without_time_zone_is_read_as_utc(data_dir) -> None:
    body = (data_dir / "feeds/recorded/github_trending_python_20250127.atom").read_bytes()
    parsed = parse_feed(body)
    assert parsed.version == "atom10"
    assert parsed.warning is None
    assert (
        parsed.self_link == "https://aazw.github.io/github-trending-feeds/feeds/python/daily.atom"
    )
    assert len(parsed.entries) == body.count(b"<entry>")
    assert parsed.entries[0].published == datetime(2025, 1, 27, tzinfo=UTC)


def test_real_rss_document(data_dir) -> None:
    body = (data_dir / "feeds/recorded/anthropic_news_scraped_20250127.xml").read_bytes()
    parsed = parse_feed(body)
    assert parsed.version == "rss20"
    assert len(parsed.entries) == body.count(b"<item>")
    titles = [entry.title for entry in parsed.entries]
    assert "Introducing Citations on the Anthropic API" in titles


def test_html_error_page_with_status_200_is_an_error() -> None:
    page = b"<!DOCTYPE html><html><head><title>Oops</title></head><body>Error</body></html>"
    with pytest.raises(FeedParseError, match="not an RSS/Atom feed"):
        parse_feed(page, {"Content-Type": "text/html; charset=utf-8"})


@pytest.mark.parametrize("body", [b"", b"   ", b'{"json": true}', b"\x00\xff\xfe garbage"])
def test_non_feeds_are_errors(body: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_feed(body)


def test_truncated_feed_keeps_recovered_entries_with_a_warning() -> None:
    body = rss([item("g1", "First"), item("g2", "Second")])
    parsed = parse_feed(body[: body.index(b"Second") + 3])
    assert parsed.warning is not None
    assert "malformed" in parsed.warning
    assert parsed.entries[0].title == "First"


def test_wrong_declared_charset_is_tolerated() -> None:
    body = rss([item("g1", "Café ünïcode")])  # utf-8 bytes
    parsed = parse_feed(body, {"Content-Type": "application/rss+xml; charset=us-ascii"})
    assert parsed.warning is None
    assert parsed.entries[0].title == "Café ünïcode"


def test_latin1_without_declared_charset_is_not_fatal() -> None:
    body = (
        rss([item("g1", "Café")])
        .replace(b'encoding="utf-8"', b"")
        .replace("Café".encode(), "Café".encode("latin-1"))
    )
    parsed = parse_feed(body)
    assert len(parsed.entries) == 1
    assert parsed.entries[0].title is not None


def test_ttl_and_dates() -> None:
    body = rss(
        [item("g1", "Dated", date="Mon, 27 Jan 2025 02:49:01 -0500"), item("g2", "Undated")],
        extra="<ttl>60</ttl>",
    )
    parsed = parse_feed(body)
    assert parsed.ttl_minutes == 60
    assert parsed.entries[0].published == datetime(2025, 1, 27, 7, 49, 1, tzinfo=UTC)
    assert parsed.entries[1].published is None


LAUGHS = '<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{n} "{("&lol%s;" % (n - 1 if n > 1 else "")) * 10}">' for n in range(1, 10)
)
HOSTILE_DOCTYPES = {
    "billion laughs": f"<!DOCTYPE rss [{LAUGHS}]>",
    "quadratic blowup": '<!DOCTYPE rss [<!ENTITY a "' + "x" * 50_000 + '">]>',
    "external entity": '<!DOCTYPE rss [<!ENTITY lol9 SYSTEM "file:///etc/passwd">]>',
    "parameter entity": '<!DOCTYPE rss [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>',
}


def hostile_feed(doctype: str, reference: str = "&lol9;") -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{doctype}<rss version="2.0"><channel>'
        f"<title>Synthetic {reference}</title><item><title>Synthetic item {reference}</title>"
        '<guid isPermaLink="false">h1</guid></item></channel></rss>'
    )


@pytest.mark.parametrize("name", sorted(HOSTILE_DOCTYPES))
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_feeds_declaring_entities_are_refused_before_any_expansion(name, encoding) -> None:
    """Before: expat expanded the billion laughs until its amplification limit (seconds of
    CPU, tens of MB), then feedparser's lenient parser stored the entries with the
    entity references as titles. Now such a document is refused, whatever its encoding."""
    body = hostile_feed(HOSTILE_DOCTYPES[name]).encode(encoding)
    with pytest.raises(FeedParseError, match=r"declares XML entities"):
        parse_feed(body)


def test_a_doctype_without_entity_declarations_still_parses() -> None:
    """RSS 0.91's public DOCTYPE is harmless; text that merely mentions <!ENTITY is fine."""
    doctype = (
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'
    )
    body = hostile_feed(doctype, reference="&lt;!ENTITY x&gt;").encode()
    parsed = parse_feed(body)
    assert [entry.title for entry in parsed.entries] == ["Synthetic item <!ENTITY x>"]
