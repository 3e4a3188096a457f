"""Build a synthetic database at scale for the query benchmark (SQLite or PostgreSQL).

Everything here is synthetic: tickers SYN001..., random-walk prices, titles drawn from a
made-up Zipf vocabulary. At --scale 1: 50,000 events, 1,000,000 articles, 500 tickers x
2,520 sessions of daily bars, ~10 tickers per event with a FirmImpact per (event, ticker,
window) for windows [0,0], [0,+1] and [0,+5], and group impacts for one basket per event.
Rows go in through the DBAPI in big batches (executemany on SQLite, COPY on PostgreSQL),
after the real migrations, so the indexes and full-text structures are the production ones.

    python -m bench.gen_query_db --backend sqlite --scale 0.1
    python -m bench.gen_query_db --backend postgresql --scale 1
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, make_url, text

from tracker.db import migrate
from tracker.db.engine import make_engine
from tracker.impact.multitest import bh_qvalues

DEFAULT_SQLITE = "sqlite:///var/bench/query.db"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/tracker_bench"
WINDOWS = ((0, 0), (0, 1), (0, 5))
KINDS = ("news", "model_release", "funding", "policy", "earnings", "deal", "outage", "chips")
THEMES = 20
ENTITIES = 300
BASKETS = 10
FEEDS = 50
START = date(2015, 1, 2)
BATCH = 20_000
NOW = datetime(2025, 6, 1, tzinfo=UTC)

# A made-up vocabulary: a few hundred readable words plus many rare synthetic ones, drawn
# with Zipf frequencies so searches hit common, medium and rare terms as in real news.
_COMMON_TEXT = (
    "ai model chip data center power cloud launch open source release nvidia gpu training "
    "inference cost cheap efficient lab startup funding round export rule policy deal "
    "energy nuclear grid utility demand capex earnings guidance revenue outage agent "
    "reasoning benchmark compute cluster supply shortage price cut partnership acquisition "
    "regulator lawsuit safety research paper app store download users growth market stock "
    "investors sell off rally record valuation billion million contract government europe "
    "china america memory semiconductor foundry wafer factory plant gigawatt turbine gas"
)
COMMON = _COMMON_TEXT.split()
RARE = [f"zq{index:05d}" for index in range(20_000)]
VOCABULARY = np.array(COMMON + RARE)


def trading_days(count: int) -> list[date]:
    days: list[date] = []
    day = START
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


class Loader:
    """Bulk insert through the raw DBAPI connection of either backend."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.backend = self.engine.dialect.name
        self.raw = self.engine.raw_connection()
        if self.backend == "sqlite":
            self.raw.execute("PRAGMA synchronous=OFF")

    def ts(self, value: datetime) -> Any:
        if self.backend == "sqlite":  # SQLAlchemy's SQLite DateTime storage format
            return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def day(self, value: date) -> Any:
        return value.isoformat() if self.backend == "sqlite" else value

    def flag(self, value: bool) -> Any:
        return int(value) if self.backend == "sqlite" else value

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        count = 0
        cursor = self.raw.cursor()
        if self.backend == "sqlite":
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            for chunk in chunked(rows, BATCH):
                cursor.executemany(sql, chunk)
                count += len(chunk)
        else:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        self.raw.commit()
        return count

    def finish(self) -> None:
        cursor = self.raw.cursor()
        if self.backend == "postgresql":
            for table in (
                "events",
                "articles",
                "firm_impacts",
                "group_impacts",
                "instruments",
                "baskets",
                "feeds",
                "entities",
                "themes",
            ):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            self.raw.commit()
            driver = self.raw.driver_connection
            assert driver is not None
            driver.autocommit = True  # VACUUM refuses to run inside a transaction
            cursor = driver.cursor()
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA optimize")
            self.raw.commit()
        self.raw.close()
        self.engine.dispose()


def chunked(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def recreate(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database
        path = Path(parsed.database)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        name = parsed.database
        if name in (None, "", "postgres", "test"):
            raise SystemExit(f"refusing to recreate database {name!r}: use a bench database")
        admin = create_engine(
            parsed.set(drivername="postgresql+psycopg", database="postgres"),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    migrate.upgrade(url)


def sentence(rng: np.random.Generator, words: int, count: int) -> list[str]:
    ranks = np.minimum(rng.zipf(1.3, size=(count, words)) - 1, len(VOCABULARY) - 1)
    return [" ".join(row) for row in VOCABULARY[ranks]]


def generate(url: str, scale: float, seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    n_tickers = max(40, int(500 * min(scale * 2, 1.0)))
    n_days = 2520
    n_events = max(200, int(50_000 * scale))
    n_articles = max(1000, int(1_000_000 * scale))
    days = trading_days(n_days)
    loader = Loader(url)
    counts: dict[str, int] = {}
    now = loader.ts(NOW)

    tickers = ["SPY"] + [f"SYN{index:03d}" for index in range(1, n_tickers)]
    counts["instruments"] = loader.insert(
        "instruments",
        ("id", "ticker", "name", "exchange", "kind", "currency", "active"),
        (
            (i + 1, t, f"Synthetic {t}", "XNYS", "equity", "USD", loader.flag(True))
            for i, t in enumerate(tickers)
        ),
    )
    counts["baskets"] = loader.insert(
        "baskets",
        ("id", "slug", "name", "description", "is_watchlist"),
        (
            (b + 1, f"syn_basket_{b}", f"Synthetic basket {b}", "", loader.flag(True))
            for b in range(BASKETS)
        ),
    )
    members = {
        b: rng.choice(np.arange(2, n_tickers + 1), size=20, replace=False) for b in range(BASKETS)
    }
    loader.insert(
        "basket_members",
        ("basket_id", "instrument_id"),
        ((b + 1, int(i)) for b, ids in members.items() for i in ids),
    )

    # daily bars: a random walk per ticker (SPY included, the benchmark)
    returns = rng.normal(0.0004, 0.02, size=(n_tickers, n_days))
    closes = 50.0 * np.exp(np.cumsum(returns, axis=1))
    counts["daily_bars"] = loader.insert(
        "daily_bars",
        (
            "instrument_id",
            "date",
            "open",
            "high",
            "low",
            "close",
            "adj_close",
            "volume",
            "source",
            "updated_at",
        ),
        (
            (
                t + 1,
                loader.day(days[d]),
                None,
                None,
                None,
                float(closes[t, d]),
                float(closes[t, d]),
                1_000_000,
                "synthetic",
                now,
            )
            for t in range(n_tickers)
            for d in range(n_days)
        ),
    )

    counts["feeds"] = loader.insert(
        "feeds",
        (
            "id",
            "url",
            "name",
            "kind",
            "topics",
            "enabled",
            "error_count",
            "created_at",
            "failing_since",
            "last_status",
        ),
        (
            (
                f + 1,
                f"https://example.invalid/feed/{f}",
                f"Synthetic feed {f}",
                "rss",
                "",
                loader.flag(True),
                3 if f % 10 == 0 else 0,
                now,
                loader.ts(NOW - timedelta(hours=f)) if f % 10 == 0 else None,
                "error" if f % 10 == 0 else "ok",
            )
            for f in range(FEEDS)
        ),
    )
    loader.insert(
        "themes",
        ("id", "slug", "name", "description"),
        ((t + 1, f"syn_theme_{t}", f"Synthetic theme {t}", "") for t in range(THEMES)),
    )
    loader.insert(
        "entities",
        ("id", "slug", "name", "kind", "is_public", "user_defined"),
        (
            (
                e + 1,
                f"syn_entity_{e}",
                f"Synthetic Entity {e}",
                "company",
                loader.flag(True),
                loader.flag(False),
            )
            for e in range(ENTITIES)
        ),
    )
    loader.insert(
        "entity_aliases",
        ("entity_id", "alias", "case_sensitive"),
        ((e + 1, f"SynAlias{e}", loader.flag(False)) for e in range(ENTITIES)),
    )

    # events over the ten years, each on a trading day
    event_day_index = np.sort(rng.integers(260, n_days - 10, size=n_events))
    event_seconds = rng.integers(0, 86_400, size=n_events)
    event_kind = rng.choice(
        len(KINDS), size=n_events, p=[0.5, 0.1, 0.1, 0.08, 0.08, 0.06, 0.04, 0.04]
    )
    titles = sentence(rng, 8, n_events)
    descriptions = sentence(rng, 20, n_events)

    def event_time(e: int) -> datetime:
        day = days[event_day_index[e]]
        return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
            seconds=int(event_seconds[e])
        )

    counts["events"] = loader.insert(
        "events",
        (
            "id",
            "slug",
            "title",
            "kind",
            "origin",
            "occurred_at",
            "first_reported_at",
            "day0",
            "description",
            "article_count",
            "source_count",
            "is_novel",
            "created_at",
            "updated_at",
        ),
        (
            (
                e + 1,
                f"synthetic-event-{e + 1}",
                f"Synthetic {titles[e]}",
                KINDS[event_kind[e]],
                "curated" if e % 25 == 0 else "detected",
                None,
                loader.ts(event_time(e)),
                loader.day(days[event_day_index[e]]),
                descriptions[e],
                20,
                5,
                loader.flag(True),
                now,
                now,
            )
            for e in range(n_events)
        ),
    )
    loader.insert(
        "event_themes",
        ("event_id", "theme_id", "reason"),
        ((e + 1, int(t) + 1, "") for e, t in enumerate(rng.integers(0, THEMES, n_events))),
    )
    entity_pairs = rng.integers(0, ENTITIES, size=(n_events, 2))
    loader.insert(
        "event_entities",
        ("event_id", "entity_id", "relevance"),
        ((e + 1, int(x) + 1, 1.0) for e in range(n_events) for x in set(entity_pairs[e])),
    )

    # articles: each belongs to one event, published around its first report
    article_event = np.sort(rng.integers(0, n_events, size=n_articles))
    article_titles = sentence(rng, 10, n_articles)
    summaries = sentence(rng, 25, n_articles)
    offsets = rng.integers(0, 3 * 86_400, size=n_articles)
    feeds = rng.integers(1, FEEDS + 1, size=n_articles)
    counts["articles"] = loader.insert(
        "articles",
        (
            "id",
            "feed_id",
            "dedupe_key",
            "canonical_url",
            "title",
            "summary_html",
            "summary_text",
            "published_at",
            "published_estimated",
            "future_dated",
            "first_seen_at",
            "content_hash",
        ),
        (
            (
                a + 1,
                int(feeds[a]),
                f"k{a}",
                f"https://example.invalid/a/{a}",
                article_titles[a],
                "",
                summaries[a],
                loader.ts(event_time(int(article_event[a])) + timedelta(seconds=int(offsets[a]))),
                loader.flag(False),
                loader.flag(False),
                now,
                f"{a:064x}",
            )
            for a in range(n_articles)
        ),
    )
    loader.insert(
        "event_articles",
        ("event_id", "article_id", "relevance", "reason"),
        ((int(article_event[a]) + 1, a + 1, 1.0, "") for a in range(n_articles)),
    )

    # tickers and impacts: ~10 tickers per event, one row per window
    per_event = rng.integers(6, 15, size=n_events)
    pairs = [
        (e, rng.choice(np.arange(2, n_tickers + 1), size=int(k), replace=False))
        for e, k in enumerate(per_event)
    ]
    counts["event_tickers"] = loader.insert(
        "event_tickers",
        ("event_id", "instrument_id", "relevance", "reason"),
        (
            (e + 1, int(i), float(1.0 - r * 0.05), "synthetic")
            for e, ids in pairs
            for r, i in enumerate(ids)
        ),
    )
    stats = json.dumps({"synthetic": True})

    def impact_rows() -> Iterator[tuple[Any, ...]]:
        row_id = 0
        for e, ids in pairs:
            day0 = loader.day(days[event_day_index[e]])
            drawn = []
            for i in ids:
                for start, end in WINDOWS:
                    car = float(rng.standard_t(4) * 0.02 * np.sqrt(end - start + 1))
                    drawn.append((int(i), start, end, car, float(rng.uniform())))
            # q-values as the measure layer stores them: BH across the event's tickers per window
            q_of: dict[tuple[int, int, int], float] = {}
            for start, end in WINDOWS:
                family = [row for row in drawn if (row[1], row[2]) == (start, end)]
                for row, q in zip(family, bh_qvalues([row[4] for row in family]), strict=True):
                    q_of[row[:3]] = float(q)
            for i, start, end, car, p in drawn:
                row_id += 1
                yield (
                    row_id,
                    e + 1,
                    i,
                    "market",
                    start,
                    end,
                    "ok",
                    day0,
                    car,
                    car * 40,
                    p,
                    q_of[(i, start, end)],
                    car,
                    stats,
                    "{}",
                    "",
                    "synthetic",
                    now,
                )

    counts["firm_impacts"] = loader.insert(
        "firm_impacts",
        (
            "id",
            "event_id",
            "instrument_id",
            "model",
            "window_start",
            "window_end",
            "status",
            "day0",
            "car",
            "car_t",
            "car_p",
            "q_value",
            "raw_return",
            "statistics",
            "parameters",
            "calendar_rule",
            "input_fingerprint",
            "computed_at",
        ),
        impact_rows(),
    )
    group_basket = rng.integers(1, BASKETS + 1, size=n_events)
    counts["group_impacts"] = loader.insert(
        "group_impacts",
        (
            "event_id",
            "basket_id",
            "model",
            "window_start",
            "window_end",
            "status",
            "n",
            "caar",
            "statistics",
            "parameters",
            "calendar_rule",
            "input_fingerprint",
            "computed_at",
        ),
        (
            (
                e + 1,
                int(group_basket[e]),
                "market",
                s,
                w,
                "ok",
                20,
                float(rng.normal(0, 0.02)),
                json.dumps({"p_value": float(rng.uniform())}),
                "{}",
                "",
                "synthetic",
                now,
            )
            for e in range(n_events)
            for s, w in WINDOWS
        ),
    )
    loader.insert(
        "job_runs",
        ("job", "scheduled_for", "started_at", "finished_at", "status", "counts", "worker"),
        (
            (
                f"job_{j % 5}",
                loader.ts(NOW - timedelta(minutes=j * 10)),
                loader.ts(NOW - timedelta(minutes=j * 10)),
                loader.ts(NOW - timedelta(minutes=j * 10 - 1)),
                "failed" if j % 7 == 0 else "ok",
                "{}",
                "bench",
            )
            for j in range(2000)
        ),
    )
    loader.finish()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", help="database URL (default: a bench database per backend)")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 50k events, 1M articles")
    parser.add_argument("--seed", type=int, default=20250127)
    args = parser.parse_args()
    url = args.url or (DEFAULT_SQLITE if args.backend == "sqlite" else DEFAULT_POSTGRES)
    started = time.perf_counter()
    recreate(url)
    migrated = time.perf_counter()
    counts = generate(url, args.scale, args.seed)
    done = time.perf_counter()
    print(f"{args.backend} at scale {args.scale}: {url}")
    for table, count in counts.items():
        print(f"  {table:<14} {count:>10,}")
    print(f"  migrate {migrated - started:.1f} s, generate+load+analyze {done - migrated:.1f} s")


if __name__ == "__main__":
    main()
