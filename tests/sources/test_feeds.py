"""HTTP retrieval against a real loopback server: status codes, validators, limits, the
addresses a feed may reach, one deadline per fetch and bounded decompression."""

from __future__ import annotations

import struct
import threading
import tracemalloc
import zlib
from collections.abc import Iterator

import httpx
import pytest

from tests.feed_server import LOOPBACK, FeedServer, Reply, item, rss
from tracker.config import Settings
from tracker.sources.feed_network import GuardedTransport
from tracker.sources.feeds import fetch_feed, make_client

FEED = rss([item("g1", "Synthetic headline", link="http://example.test/a")])


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    settings = Settings(
        feed_timeout_seconds=0.5, user_agent="tracker-test/1", feed_allowed_networks=LOOPBACK
    )
    with make_client(settings) as http:
        yield http


def fetch(client: httpx.Client, url: str, **kwargs):
    kwargs.setdefault("max_bytes", 100_000)
    kwargs.setdefault("deadline_seconds", 1.0)
    return fetch_feed(client, url, **kwargs)


def test_ok_returns_body_headers_and_sends_an_honest_user_agent(server, client) -> None:
    server.routes["/f"] = Reply(body=FEED, etag='"v1"', headers={"Last-Modified": "x-date"})
    result = fetch(client, server.url("/f"))
    assert result.status == "ok"
    assert result.http_status == 200
    assert result.body == FEED
    assert result.etag == '"v1"'
    assert result.last_modified == "x-date"
    _, headers = server.requests[-1]
    assert headers["User-Agent"] == "tracker-test/1"
    assert "gzip" in headers["Accept-Encoding"]


def test_conditional_get_gets_304_and_no_body(server, client) -> None:
    server.routes["/f"] = Reply(body=FEED, etag='"v1"')
    result = fetch(client, server.url("/f"), etag='"v1"', last_modified="Mon, 27 Jan 2025")
    assert result.status == "not_modified"
    assert result.body == b""
    _, headers = server.requests[-1]
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Mon, 27 Jan 2025"


def test_gzip_body_is_decoded(server, client) -> None:
    server.routes["/f"] = Reply(body=FEED, gzip=True)
    assert fetch(client, server.url("/f")).body == FEED


@pytest.mark.parametrize(("status", "extra"), [(429, {"Retry-After": "120"}), (500, {})])
def test_server_errors_are_results_not_exceptions(server, client, status, extra) -> None:
    server.routes["/f"] = Reply(status=status, body=b"busy", headers=extra)
    result = fetch(client, server.url("/f"))
    assert result.status == "error"
    assert result.http_status == status
    assert str(status) in (result.error or "")
    assert result.headers.get("retry-after") == extra.get("Retry-After")


def test_timeout_is_an_error(server, client) -> None:
    server.routes["/slow"] = Reply(body=FEED, delay=1.5)
    result = fetch(client, server.url("/slow"))
    assert result.status == "error"
    assert "timeout" in (result.error or "")


def test_dripping_server_hits_the_deadline(server, client) -> None:
    server.routes["/drip"] = Reply(body=FEED, drip=0.05)
    result = fetch(client, server.url("/drip"), deadline_seconds=0.3)
    assert result.status == "error"
    assert "too slow" in (result.error or "")


def test_redirect_loop_is_an_error(server, client) -> None:
    server.routes["/a"] = Reply(status=302, headers={"Location": "/b"})
    server.routes["/b"] = Reply(status=302, headers={"Location": "/a"})
    result = fetch(client, server.url("/a"))
    assert result.status == "error"
    assert "redirect loop" in (result.error or "")


def test_single_redirect_is_followed(server, client) -> None:
    server.routes["/old"] = Reply(status=301, headers={"Location": "/new"})
    server.routes["/new"] = Reply(body=FEED)
    result = fetch(client, server.url("/old"))
    assert result.status == "ok"
    assert result.url.endswith("/new")


@pytest.mark.parametrize("chunked", [False, True])
def test_body_over_the_cap_is_refused(server, client, chunked) -> None:
    server.routes["/big"] = Reply(body=b"x" * 300_000, chunked=chunked)
    result = fetch(client, server.url("/big"), max_bytes=100_000)
    assert result.status == "error"
    assert "larger than 100000 bytes" in (result.error or "")


def test_gzip_bomb_is_capped_after_decoding(server, client) -> None:
    server.routes["/bomb"] = Reply(body=b"\0" * 2_000_000, gzip=True)
    result = fetch(client, server.url("/bomb"), max_bytes=100_000)
    assert result.status == "error"
    assert "larger than" in (result.error or "")


def test_connection_refused_is_an_error(client) -> None:
    srv = FeedServer()
    url = srv.url("/f")
    srv.httpd.server_close()
    result = fetch(client, url)
    assert result.status == "error"
    assert result.http_status is None


# ------------------------------------------------------------------ hostile servers


def test_headers_dripped_a_byte_at_a_time_hit_the_deadline(server, client) -> None:
    """The read timeout (0.5 s) resets per byte; the deadline does not: the client gives up
    while the server is still sending its headers."""
    server.routes["/drip-headers"] = Reply(body=FEED, drip_headers=0.05)
    result = fetch(client, server.url("/drip-headers"), deadline_seconds=0.5)
    assert result.status == "error"
    assert "too slow" in (result.error or "")
    assert server.wait_idle()  # the handler stops at its first writes after the client left
    assert server.aborted == ["/drip-headers"]


def zeros_gzipped(megabytes: int) -> bytes:
    """``megabytes`` MB of zeros as one gzip stream, built without compressing them all:
    after a full flush the compressor forgets its history, so every further megabyte of
    zeros compresses to the same bytes; the trailer carries the CRC and size of the whole."""
    block = bytes(1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    repeat = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    final_block = packer.flush()[:-8]  # without the trailer of the two blocks seen
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    trailer = struct.pack("<II", crc, (megabytes << 20) & 0xFFFFFFFF)
    return first + repeat * (megabytes - 1) + final_block + trailer


def test_gzip_bomb_never_inflates_past_the_cap(server, client) -> None:
    """200 MB of zeros arrive as ~200 KB; decoding stops at the cap (1 MB) instead of
    inflating whole network chunks (64 MB each) first."""
    bomb = zeros_gzipped(200)
    server.routes["/bomb"] = Reply(body=bomb, headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        result = fetch(client, server.url("/bomb"), max_bytes=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.status == "error"
    assert "larger than 1000000 bytes" in (result.error or "")
    assert peak < 16_000_000


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS])
def test_deflate_zlib_or_raw_is_decoded(server, client, wbits) -> None:
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    body = packer.compress(FEED) + packer.flush()
    server.routes["/d"] = Reply(body=body, headers={"Content-Encoding": "deflate"})
    assert fetch(client, server.url("/d")).body == FEED


def test_unknown_or_corrupt_encoding_is_a_clear_error(server, client) -> None:
    server.routes["/br"] = Reply(body=FEED, headers={"Content-Encoding": "br"})
    server.routes["/bad"] = Reply(body=b"not gzip at all", headers={"Content-Encoding": "gzip"})
    assert "unsupported content encoding 'br'" in (fetch(client, server.url("/br")).error or "")
    assert "invalid gzip data" in (fetch(client, server.url("/bad")).error or "")


# ------------------------------------------------------------ addresses a feed may reach


def test_loopback_is_refused_unless_allowed(server) -> None:
    server.routes["/f"] = Reply(body=FEED)
    with make_client(Settings(feed_timeout_seconds=0.5)) as default_client:
        result = fetch(default_client, server.url("/f"))
    assert result.status == "error"
    assert "refused: 127.0.0.1 is 127.0.0.1, a loopback address" in (result.error or "")
    assert "TRACKER_FEED_ALLOWED_NETWORKS" in (result.error or "")
    assert server.requests == []  # never connected


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://10.0.0.1/feed", "private"),
        ("http://192.168.1.1/feed", "private"),
        ("http://100.100.100.200/latest/meta-data/", "not a public address"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
    ],
)
def test_redirect_to_a_non_public_address_is_refused(server, client, location, reason) -> None:
    server.routes["/hop"] = Reply(status=302, headers={"Location": location})
    result = fetch(client, server.url("/hop"))
    assert result.status == "error"
    assert "refused" in (result.error or "")
    assert reason in (result.error or "")


def test_every_redirect_hop_is_checked(server) -> None:
    """Allowed: 127.0.0.1 only. A redirect to another loopback address (127.0.0.2, served)
    is refused before any connection; allowing 127.0.0.0/8 lets the same hop through."""
    inner = FeedServer(host="127.0.0.2").start()
    try:
        inner.routes["/secret"] = Reply(body=FEED)
        server.routes["/hop"] = Reply(status=302, headers={"Location": inner.url("/secret")})
        narrow = Settings(feed_timeout_seconds=0.5, feed_allowed_networks="127.0.0.1/32")
        with make_client(narrow) as http:
            refused = fetch(http, server.url("/hop"))
        assert refused.status == "error"
        assert "127.0.0.2, a loopback address" in (refused.error or "")
        assert inner.requests == []
        wide = Settings(feed_timeout_seconds=0.5, feed_allowed_networks=LOOPBACK)
        with make_client(wide) as http:
            followed = fetch(http, server.url("/hop"))
        assert followed.status == "ok"
        assert [path for path, _ in inner.requests] == ["/secret"]
    finally:
        inner.stop()


def test_host_names_are_resolved_and_the_checked_address_is_used(server) -> None:
    """A name is judged by the addresses it resolves to, and the connection goes to the
    address that was checked (a second, different DNS answer is never asked for)."""
    answers: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        answers.append(host)
        return ["127.0.0.1"] if len(answers) == 1 else ["203.0.113.9"]

    server.routes["/f"] = Reply(body=FEED)
    url = server.url("/f").replace("127.0.0.1", "feed.test")
    limits = httpx.Limits(max_connections=1)
    transport = GuardedTransport((), limits=limits, resolver=resolver)
    with httpx.Client(transport=transport) as http:
        refused = fetch(http, url)
    assert "refused: feed.test is 127.0.0.1, a loopback address" in (refused.error or "")
    answers.clear()
    allowed = GuardedTransport(
        Settings(feed_allowed_networks=LOOPBACK).feed_networks, limits=limits, resolver=resolver
    )
    with httpx.Client(transport=allowed) as http:
        result = fetch(http, url)
    assert result.status == "ok"
    assert answers == ["feed.test"]
    _, headers = server.requests[-1]
    assert headers["Host"].startswith("feed.test:")


def test_a_hanging_dns_lookup_is_bounded_by_the_deadline(server) -> None:
    release = threading.Event()

    def hanging_resolver(host: str, port: int) -> list[str]:
        release.wait(30)
        return ["127.0.0.1"]

    transport = GuardedTransport(
        Settings(feed_allowed_networks=LOOPBACK).feed_networks,
        limits=httpx.Limits(max_connections=1),
        resolver=hanging_resolver,
    )
    try:
        with httpx.Client(transport=transport, timeout=5.0) as http:
            result = fetch(http, "http://feed.test/f", deadline_seconds=0.3)
    finally:
        release.set()
    assert result.status == "error"
    assert "too slow" in (result.error or "")
    assert server.requests == []
