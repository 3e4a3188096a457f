"""The feed client's network layer: which addresses it may reach, and one deadline per fetch.

Feed URLs come from users and redirects come from feed servers, so a feed could point the
poller at the cloud metadata service or at a database on the private network. The check
sits where the socket is opened: every connection (the first request and every redirect
hop) resolves the host, refuses it when an address is loopback, private, link-local,
reserved or otherwise not public (unless ``TRACKER_FEED_ALLOWED_NETWORKS`` allows it), and
connects to the very address it checked, so a DNS answer that changes between check and
connect (rebinding) cannot slip through. Environment proxies are not used: through a
proxy the check would see only the proxy's address.

Read timeouts reset on every byte, so a server dripping its headers a byte at a time
defeats them. Each fetch sets a wall-clock deadline (``fetch_deadline``) and every DNS
lookup, connect, read and write on its connections is bounded by the time left.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import certifi
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

_DEADLINE: ContextVar[float | None] = ContextVar("feed_fetch_deadline", default=None)


class DeadlineExceeded(httpcore.ReadTimeout):
    """The fetch's wall-clock deadline passed (raised from any socket operation)."""


@contextmanager
def fetch_deadline(seconds: float) -> Iterator[None]:
    """Bound every socket operation in this block (this thread) to ``seconds`` in total."""
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _bounded(timeout: float | None) -> float | None:
    """``timeout`` shortened to the time left before the deadline (raise when none is left)."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("deadline passed")
    return left if timeout is None else min(timeout, left)


def refusal(address: IPAddress, allowed: Iterable[IPNetwork]) -> str | None:
    """Why ``address`` must not be contacted (``None``: it may).

    Only globally routable unicast addresses are reachable by default; an IPv4 address
    mapped into IPv6 is judged as the IPv4 address it is.
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address.version == net.version and address in net for net in allowed):
        return None
    for flag, reason in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local (cloud metadata lives here)"),
        ("is_private", "private network"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
    ):
        if getattr(address, flag):
            return reason
    if not address.is_global:
        return "not a public address"
    return None


@lru_cache(maxsize=1)
def _dns_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="feed-dns")


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses, in the system resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write respects the fetch deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolves, checks and connects to the checked address; bounds all I/O by the deadline."""

    def __init__(
        self, allowed: Iterable[IPNetwork] = (), resolver: Resolver = system_resolver
    ) -> None:
        self.allowed = tuple(allowed)
        self.resolver = resolver
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            answers = self._resolve(host, port, timeout)
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in answers]
        except (OSError, UnicodeError, ValueError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        refused = [(a, why) for a in addresses if (why := refusal(a, self.allowed))]
        usable = [a for a in addresses if refusal(a, self.allowed) is None]
        if not usable:
            if refused:
                address, why = refused[0]
                raise httpcore.ConnectError(
                    f"refused: {host} is {address}, a {why} address "
                    "(TRACKER_FEED_ALLOWED_NETWORKS can allow it)"
                )
            raise httpcore.ConnectError(f"cannot resolve {host}: no address")
        last: Exception | None = None
        for address in usable:
            try:
                stream = self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=_bounded(timeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            return _DeadlineStream(stream)
        assert last is not None
        raise last

    def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        """The host's addresses; a name is resolved on a helper thread so a hanging DNS
        server costs this fetch its remaining time, not the poller its thread."""
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        future = _dns_pool().submit(self.resolver, host, port)
        try:
            return future.result(timeout=_bounded(timeout))
        except FutureTimeout:
            future.cancel()
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("feeds are fetched over TCP only")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport over a ``GuardedBackend`` (no proxies, no Unix sockets)."""

    def __init__(
        self,
        allowed: Iterable[IPNetwork] = (),
        *,
        limits: httpx.Limits,
        resolver: Resolver = system_resolver,
    ) -> None:
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allowed, resolver),
        )
