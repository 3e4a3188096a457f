"""Benchmark: poll 200 feeds x 50 items served on loopback, cold and unchanged (304).

The feeds are SYNTHETIC (generated text, example.test links): a scale test, not news.
They are served by ``python -m http.server`` in a separate process (the outside world is
not our cost), which answers ``If-Modified-Since`` with 304 as real feed servers do.
Side by side, the same bytes parsed by feedparser alone (its defaults, and with the options
the tracker uses), so the cost of HTTP + sanitising + storing is visible as a ratio. Each of
``--runs`` runs times all four on a fresh database; the median and range of the runs are
printed with the machine's load, and the ratios are taken run by run (a load that changes
between runs then shifts both sides alike).

    python bench/bench_feed_poll.py [--feeds 200] [--items 50] [--runs 5] [--postgres URL]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
from sqlalchemy import create_engine, make_url, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.runs import DEFAULT_RUNS, Spread, load_average, timed  # noqa: E402
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


def fresh_databases(postgres: str | None, runs: int, tmp: Path) -> Iterator[str]:
    """One empty database URL per run: SQLite files in ``tmp``, or throw-away PostgreSQL ones."""
    if not postgres:
        for run in range(runs):
            yield f"sqlite:///{tmp}/bench{run}.db"
        return
    admin = make_url(postgres).set(drivername="postgresql+psycopg")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        for _ in range(runs):
            name = f"tracker_bench_{uuid.uuid4().hex[:8]}"
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                yield admin.set(database=name).render_as_string(False)
            finally:
                with engine.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Run:
    """Seconds of one run: feedparser alone (two ways) and the tracker's cold and re-poll."""

    feedparser_default: float
    feedparser_tracker: float
    cold: float
    warm: float
    counts: str


def run_once(url: str, base: str, bodies: list[bytes]) -> Run:
    """feedparser over every body, then a cold poll and an unchanged re-poll into ``url``."""
    fp_default = timed(lambda: [feedparser.parse(body) for body in bodies])
    fp_tracker = timed(
        lambda: [
            feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
            for body in bodies
        ]
    )
    migrate.upgrade(url)
    database = Database.connect(url)
    settings = Settings(database_url=url, feed_allowed_networks="127.0.0.0/8")
    try:
        with database.session() as session:
            for n in range(len(bodies)):
                add_feed(session, f"{base}/feed{n}.xml")
        with make_client(settings) as client:
            started = time.perf_counter()
            report = poll_due_feeds(database, settings, client=client, all_feeds=True)
            cold = time.perf_counter() - started
            warm = timed(lambda: poll_due_feeds(database, settings, client=client, all_feeds=True))
    finally:
        database.dispose()
    return Run(fp_default, fp_tracker, cold, warm, str(report.as_counts()))


def ratio(spread: Spread) -> str:
    return f"{spread.median:.2f}x ({spread.low:.2f}-{spread.high:.2f}, {spread.n} runs)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument(
        "--postgres", help="PostgreSQL server URL: a throw-away database per run (default SQLite)"
    )
    args = parser.parse_args()

    bodies = [synthetic_feed(n, args.items) for n in range(args.feeds)]
    total_mb = sum(map(len, bodies)) / 1e6
    print(f"{args.feeds} feeds x {args.items} items, {total_mb:.1f} MB of RSS, {load_average()}")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        for n, body in enumerate(bodies):
            (site / f"feed{n}.xml").write_bytes(body)
        server, base = serve(site)
        try:
            for url in fresh_databases(args.postgres, args.runs, Path(tmp)):
                runs.append(run_once(url, base, bodies))
                print(f"  run {len(runs)}: {runs[-1].counts}, {load_average()}", flush=True)
        finally:
            server.terminate()
            server.wait()

    def spread(field: str) -> Spread:
        return Spread.of([getattr(run, field) for run in runs])

    backend = "postgresql" if args.postgres else "sqlite"
    print(f"median (range) of {len(runs)} runs on {backend}, each on a fresh database:")
    print(f"  {'feedparser alone, defaults':<52} {spread('feedparser_default').seconds()}")
    print(
        f"  {'feedparser alone, tracker options (no sanitise)':<52} "
        f"{spread('feedparser_tracker').seconds()}"
    )
    print(f"  {'cold poll (HTTP + parse + sanitise + store)':<52} {spread('cold').seconds()}")
    print(f"  {'re-poll unchanged (conditional GET -> 304)':<52} {spread('warm').seconds()}")
    defaults = Spread.of([run.cold / run.feedparser_default for run in runs])
    same = Spread.of([run.cold / run.feedparser_tracker for run in runs])
    print(f"cold / feedparser defaults      = {ratio(defaults)}  (goal <= 1.5x)")
    print(f"cold / feedparser same options  = {ratio(same)}")
    print(f"re-poll {args.feeds} unchanged feeds   = {spread('warm').seconds()}  (goal < 2 s)")
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
