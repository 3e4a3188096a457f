"""HTTP retrieval of feeds: the one place that talks to feed servers.

feedparser can fetch URLs itself but has no timeout, no size limit and no way to say
"stop after five redirects", so bytes come from httpx and feedparser only parses them.
Retrieval never raises for a network or server problem: it returns a ``FetchResult``
whose ``error`` says what went wrong, so one broken feed never stops the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx

from tracker.config import Settings
from tracker.sources.bounded_decode import SUPPORTED, BodyTooLarge, BoundedDecoder, DecodingFailed
from tracker.sources.feed_network import GuardedTransport, fetch_deadline

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
MAX_REDIRECTS = 5
CONNECT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class FetchResult:
    """What one conditional GET produced.

    ``status`` is ``ok`` (a body to parse), ``not_modified`` (304: nothing to parse) or
    ``error`` (``error`` says why; ``http_status`` is set when the server answered).
    """

    url: str
    status: str
    http_status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


def make_client(settings: Settings) -> httpx.Client:
    """An HTTP client with the feed reader's manners: timeouts, redirect limit, honest UA,
    and only public addresses (plus ``TRACKER_FEED_ALLOWED_NETWORKS``) on every hop."""
    timeout = httpx.Timeout(
        settings.feed_timeout_seconds,
        connect=min(CONNECT_TIMEOUT_SECONDS, settings.feed_timeout_seconds),
    )
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={
            "User-Agent": settings.user_agent,
            "Accept": ACCEPT,
            "Accept-Encoding": ", ".join(SUPPORTED),
        },
        transport=GuardedTransport(settings.feed_networks, limits=limits),
        trust_env=False,
    )


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def fetch_feed(
    client: httpx.Client,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int,
    deadline_seconds: float,
) -> FetchResult:
    """GET ``url`` conditionally; the body is capped at ``max_bytes`` (decoded, and decoded
    with that bound, so a gzip bomb never inflates past it) and the whole exchange (connect,
    redirects, headers, body) at ``deadline_seconds`` of wall-clock time: a server dripping
    a byte a second defeats a read timeout, not a deadline."""
    too_slow = f"too slow: no complete response within {deadline_seconds:g} s"
    started = time.monotonic()
    headers: dict[str, str] = {}
    final_url = url
    try:
        with (
            fetch_deadline(deadline_seconds),
            client.stream("GET", url, headers=conditional_headers(etag, last_modified)) as resp,
        ):
            headers = {key.lower(): value for key, value in resp.headers.items()}
            final_url = str(resp.url)
            if resp.status_code == 304:
                return FetchResult(final_url, "not_modified", 304, headers=headers)
            if resp.status_code != 200:
                return FetchResult(
                    final_url,
                    "error",
                    resp.status_code,
                    headers=headers,
                    error=f"HTTP {resp.status_code} {resp.reason_phrase}".strip(),
                )
            declared = headers.get("content-length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
                return _too_big(final_url, headers, max_bytes)
            decoder = BoundedDecoder(headers.get("content-encoding"), max_bytes)
            chunks = [decoder.feed(chunk) for chunk in resp.iter_raw()]
            return FetchResult(final_url, "ok", 200, body=b"".join(chunks), headers=headers)
    except BodyTooLarge:
        return _too_big(final_url, headers, max_bytes)
    except DecodingFailed as exc:
        return FetchResult(final_url, "error", 200, headers=headers, error=f"bad body: {exc}")
    except httpx.TooManyRedirects:
        return FetchResult(url, "error", error=f"redirect loop (more than {MAX_REDIRECTS})")
    except httpx.TimeoutException as exc:
        if "deadline" in str(exc) or time.monotonic() - started >= deadline_seconds:
            return FetchResult(final_url, "error", headers=headers, error=too_slow)
        return FetchResult(url, "error", error=f"timeout: {type(exc).__name__}")
    except httpx.ConnectError as exc:
        return FetchResult(url, "error", error=f"cannot connect: {exc}")
    except httpx.DecodingError as exc:
        return FetchResult(url, "error", error=f"bad content encoding: {exc}")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return FetchResult(url, "error", error=f"{type(exc).__name__}: {exc}")


def _too_big(url: str, headers: dict[str, str], max_bytes: int) -> FetchResult:
    return FetchResult(
        url, "error", 200, headers=headers, error=f"body larger than {max_bytes} bytes"
    )
