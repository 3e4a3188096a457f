"""A real HTTP server on loopback that serves feed responses for tests and benchmarks.

Routes map a path to a ``Reply``; the server honours ``If-None-Match`` against the reply's
ETag (answering 304), can gzip, delay, drip body or header bytes slowly or redirect, and
records every request (path, headers), the highest number of requests it served at once and
the paths whose client went away while the answer was still being written.

Feed fetches refuse loopback addresses unless ``TRACKER_FEED_ALLOWED_NETWORKS`` allows them:
clients of this server use ``LOOPBACK`` for that setting.
"""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    gzip: bool = False
    delay: float = 0.0  # before the status line
    drip: float = 0.0  # between body bytes
    drip_headers: float = 0.0  # between bytes of the status line and headers
    chunked: bool = False  # no Content-Length


LOOPBACK = "127.0.0.0/8"


class FeedServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Reply] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.aborted: list[str] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append((self.path, dict(self.headers.items())))
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                try:
                    server._answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    with server._lock:
                        server.aborted.append(self.path)
                finally:
                    with server._lock:
                        server.active -= 1

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # clients that gave up (timeouts) are the point of some tests

        self.httpd = QuietServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait (at most ``timeout``) until no request is being answered."""
        waited = 0.0
        while self.active and waited < timeout:
            time.sleep(0.01)
            waited += 0.01
        return not self.active

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        reply = self.routes.get(path) or self.routes.get(handler.path) or Reply(404, b"not found")
        if reply.delay:
            time.sleep(reply.delay)
        if reply.etag and handler.headers.get("If-None-Match") == reply.etag:
            handler.send_response(304)
            handler.send_header("ETag", reply.etag)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        body = gzip.compress(reply.body) if reply.gzip else reply.body
        if reply.drip_headers:
            self._drip_headers(handler, reply, body)
            return
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        if reply.etag:
            handler.send_header("ETag", reply.etag)
        if reply.gzip:
            handler.send_header("Content-Encoding", "gzip")
        if reply.chunked or reply.drip:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        else:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if reply.drip:
            for index in range(len(body)):
                handler.wfile.write(body[index : index + 1])
                handler.wfile.flush()
                time.sleep(reply.drip)
        else:
            handler.wfile.write(body)

    @staticmethod
    def _drip_headers(handler: BaseHTTPRequestHandler, reply: Reply, body: bytes) -> None:
        """The status line and headers one byte at a time (a read timeout resets per byte)."""
        handler.close_connection = True
        lines = [f"HTTP/1.1 {reply.status} OK", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in reply.headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        for index in range(len(head)):
            handler.wfile.write(head[index : index + 1])
            handler.wfile.flush()
            time.sleep(reply.drip_headers)
        handler.wfile.write(body)


def rss(items: list[str], *, title: str = "Synthetic test feed", extra: str = "") -> bytes:
    """A small synthetic RSS 2.0 document (test data, clearly not a real outlet)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.test/</link>{extra}"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def item(
    guid: str | None,
    title: str,
    *,
    link: str | None = None,
    date: str | None = None,
    description: str | None = None,
) -> str:
    parts = [f"<title>{title}</title>"]
    if link:
        parts.append(f"<link>{link}</link>")
    if guid:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    if date:
        parts.append(f"<pubDate>{date}</pubDate>")
    if description is not None:
        parts.append(f"<description>{description}</description>")
    return "<item>" + "".join(parts) + "</item>"
