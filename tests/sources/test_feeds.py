"""HTTP retrieval against a real loopback server: status codes, validators, limits."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.feed_server import FeedServer, Reply, item, rss
from tracker.config import Settings
from tracker.sources.feeds import fetch_feed, make_client

FEED = rss([item("g1", "Synthetic headline", link="http://example.test/a")])


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(Settings(feed_timeout_seconds=0.5, user_agent="tracker-test/1")) as http:
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
