"""Benchmark: poll 200 feeds x 50 items served on loopback, cold and unchanged (304).

The feeds are SYNTHETIC (generated text, example.test links): a scale test, not news.
They are served by ``python -m http.server`` in a separate process (the outside world is
not our cost), which answers ``If-Modified-Since`` with 304 as real feed servers do.
Side by side, the same bytes parsed by feedparser alone (its defaults, and with the options
the tracker uses), so the cost of HTTP + sanitising + storing is visible as a ratio.

    python bench/bench_feed_poll.py [--feeds 200] [--items 50] [--db sqlite:///...]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tracker.config import Settings  # noqa: E402
from tracker.db import Database, migrate  # noqa: E402
from tracker.ingest.news import poll_due_feeds  # noqa: E402
from tracker.news.registry import add_feed  # noqa: E402
from tracker.sources.feeds import make_client  # noqa: E402

START = datetime(2025, 1, 6, tzinfo=UTC)


def synthetic_feed(feed: int, items: int) -> bytes:
    entries = []
    for index in range(items):
        when = START + timedelta(minutes=37 * index + feed)
        entries.append(
            "<item>"
            f"<title>Synthetic headline {feed}-{index} about chips &amp; power</title>"
            f"<link>https://example.test/{feed}/{index}?utm_source=bench</link>"
            f'<guid isPermaLink="false">bench-{feed}-{index}</guid>'
            f"<pubDate>{when.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
            "<description>&lt;p&gt;Synthetic paragraph for a scale test, "
            "with &lt;a href=&quot;https://example.test&quot;&gt;a link&lt;/a&gt; and "
            "&lt;b&gt;markup&lt;/b&gt;. "
            + "Filler words for a realistic length. " * 10
            + "&lt;/p&gt;</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Synthetic bench feed {feed}</title><link>https://example.test/</link>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, f"http://127.0.0.1:{port}"


def timed(label: str, func):
    started = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - started
    print(f"{label:<58} {elapsed:8.3f} s")
    return elapsed, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--db", default=None, help="database URL (default: a temp SQLite file)")
    args = parser.parse_args()

    bodies = [synthetic_feed(n, args.items) for n in range(args.feeds)]
    total_mb = sum(map(len, bodies)) / 1e6
    print(f"{args.feeds} feeds x {args.items} items, {total_mb:.1f} MB of RSS")

    fp_default, _ = timed(
        "feedparser alone, defaults (parse all bodies)",
        lambda: [feedparser.parse(body) for body in bodies],
    )
    fp_tracker, _ = timed(
        "feedparser alone, tracker options (no sanitise/resolve)",
        lambda: [
            feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
            for body in bodies
        ],
    )

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        for n, body in enumerate(bodies):
            (site / f"feed{n}.xml").write_bytes(body)
        server, base = serve(site)
        url = args.db or f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        database = Database.connect(url)
        settings = Settings(database_url=url, feed_allowed_networks="127.0.0.0/8")
        with database.session() as session:
            for n in range(len(bodies)):
                add_feed(session, f"{base}/feed{n}.xml")
        with make_client(settings) as client:
            cold, report = timed(
                "cold poll (HTTP + parse + sanitise + store)",
                lambda: poll_due_feeds(database, settings, client=client, all_feeds=True),
            )
            print(f"    {report.as_counts()}")
            warm, report = timed(
                "re-poll unchanged (conditional GET -> 304)",
                lambda: poll_due_feeds(database, settings, client=client, all_feeds=True),
            )
            print(f"    {report.as_counts()}")
        database.dispose()
        server.terminate()
        server.wait()
    print(f"cold / feedparser defaults      = {cold / fp_default:.2f}x  (goal <= 1.5x)")
    print(f"cold / feedparser same options  = {cold / fp_tracker:.2f}x")
    print(f"re-poll {args.feeds} unchanged feeds   = {warm:.3f} s  (goal < 2 s)")


if __name__ == "__main__":
    main()
