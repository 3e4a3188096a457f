"""Time each historical query on the synthetic bench databases, SQLite and PostgreSQL side by side.

Each query runs ``--runs`` times (at least 5) with varied parameters (random events,
tickers, words, date ranges), each in a fresh session, after one warm-up call; prints the
median (p50), p95 and the slowest run in ms, with the 1-minute load average while it ran
(figures from a busy machine are inflated). Build the databases first with
``python -m bench.gen_query_db``.

    python -m bench.bench_queries --runs 50 [--only postgresql] [--query "prefix + phrase"]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.gen_query_db import COMMON, DEFAULT_POSTGRES, DEFAULT_SQLITE, KINDS
from bench.runs import DEFAULT_RUNS, Spread, load_average
from tracker.db import Database
from tracker.db.models import Event, Instrument
from tracker.link.curated import EVENT_KINDS
from tracker.query import (
    EventFilter,
    data_freshness,
    failing_feeds,
    find_analogs,
    get_event_detail,
    job_runs_summary,
    latest_headlines,
    price_history,
    search_events,
    ticker_moves,
)

Query = Callable[[Session, random.Random], Any]


# the generated kinds the tracker still knows (the others are refused as input)
SEARCHED_KINDS = [kind for kind in KINDS if kind in EVENT_KINDS]


def _day(rng: random.Random) -> date:
    return date(2016, 1, 1) + timedelta(days=rng.randrange(3200))


class Params:
    """What the varied parameters are drawn from, read once from the database."""

    def __init__(self, session: Session) -> None:
        self.max_event = session.scalar(select(func.max(Event.id))) or 1
        self.tickers = list(
            session.scalars(select(Instrument.ticker).where(Instrument.ticker != "SPY"))
        )
        self.rare = [f"zq{index:05d}" for index in range(0, 2000, 7)]


def queries(params: Params) -> dict[str, Query]:
    def event_id(rng: random.Random) -> int:
        return rng.randint(1, params.max_event)

    def ticker(rng: random.Random) -> str:
        return rng.choice(params.tickers)

    return {
        "events: newest 50": lambda s, r: search_events(s, EventFilter(limit=50)),
        "events: text, common word": lambda s, r: search_events(
            s, EventFilter(text=r.choice(COMMON[:30]))
        ),
        "events: text, 2 words": lambda s, r: search_events(
            s, EventFilter(text=f"{r.choice(COMMON)} {r.choice(COMMON)}")
        ),
        "events: text, rare word": lambda s, r: search_events(
            s, EventFilter(text=r.choice(params.rare))
        ),
        "events: text, prefix + phrase": lambda s, r: search_events(
            s, EventFilter(text=f'{r.choice(COMMON)[:3]}* "{r.choice(COMMON)} {r.choice(COMMON)}"')
        ),
        "events: date range + kind": lambda s, r: search_events(
            s,
            EventFilter(
                start=(d := _day(r)), end=d + timedelta(days=90), kind=r.choice(SEARCHED_KINDS)
            ),
        ),
        "events: entity alias": lambda s, r: search_events(
            s, EventFilter(entity=f"synalias{r.randrange(300)}")
        ),
        "events: ticker": lambda s, r: search_events(s, EventFilter(ticker=ticker(r))),
        "events: basket": lambda s, r: search_events(
            s, EventFilter(basket=f"syn_basket_{r.randrange(10)}")
        ),
        "events: min |CAR| + significant": lambda s, r: search_events(
            s, EventFilter(min_abs_car=r.choice((0.05, 0.1, 0.2)), significant=True, window=(0, 1))
        ),
        "events: sort impact": lambda s, r: search_events(s, EventFilter(sort="impact", limit=50)),
        "events: sort impact, kind + year": lambda s, r: search_events(
            s,
            EventFilter(
                sort="impact",
                kind=r.choice(SEARCHED_KINDS),
                start=(d := _day(r)),
                end=d + timedelta(days=365),
            ),
        ),
        "events: ticker, min |CAR|, impact": lambda s, r: search_events(
            s, EventFilter(ticker=ticker(r), min_abs_car=0.03, sort="impact")
        ),
        "event detail": lambda s, r: get_event_detail(s, event_id(r)),
        "ticker moves (top 10)": lambda s, r: ticker_moves(s, ticker(r), top=10),
        "analogs: ticker": lambda s, r: find_analogs(s, event_id(r), window=(0, 5)),
        "analogs: basket": lambda s, r: find_analogs(
            s, event_id(r), basket=f"syn_basket_{r.randrange(10)}"
        ),
        "price history: basket, 1y, rebased": lambda s, r: price_history(
            s,
            basket=f"syn_basket_{r.randrange(10)}",
            start=(d := _day(r)),
            end=d + timedelta(days=365),
            rebase_at=d,
        ),
        "latest headlines (50)": lambda s, r: latest_headlines(s, limit=50),
        "headlines: text": lambda s, r: latest_headlines(s, limit=50, text=r.choice(COMMON)),
        "freshness + jobs + failing feeds": lambda s, r: (
            data_freshness(s),
            job_runs_summary(s),
            failing_feeds(s),
        ),
    }


@dataclass(frozen=True)
class Timing:
    """One query's runs in ms: median, p95 and range, and the 1-minute load meanwhile."""

    p95: float
    spread: Spread
    load: float

    @property
    def p50(self) -> float:
        return self.spread.median


def measure(url: str, runs: int, seed: int, only: str | None = None) -> dict[str, Timing]:
    database = Database.connect(url)
    try:
        with database.session() as session:
            params = Params(session)
        results: dict[str, Timing] = {}
        for name, query in queries(params).items():
            if only and only not in name:
                continue
            rng = random.Random(seed)
            with database.session() as session:
                query(session, rng)  # warm-up: plan caches, pool
            timings = []
            loads = []
            for _ in range(runs):
                with database.session() as session:
                    started = time.perf_counter()
                    query(session, rng)
                    timings.append((time.perf_counter() - started) * 1000)
                loads.append(os.getloadavg()[0])
            timings.sort()
            p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
            result = results[name] = Timing(p95, Spread.of(timings), max(loads))
            print(
                f"  {name:<38} p50 {result.p50:8.1f} ms  p95 {p95:8.1f} ms  "
                f"max {result.spread.high:8.1f} ms  load {result.load:5.2f}",
                flush=True,
            )
        return results
    finally:
        database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-url", default=DEFAULT_SQLITE)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--query", help="only the queries whose name contains this")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.runs < DEFAULT_RUNS:
        parser.error(f"--runs must be at least {DEFAULT_RUNS}: a median of fewer says little")
    backends = {"sqlite": args.sqlite_url, "postgresql": args.postgres_url}
    if args.only:
        backends = {args.only: backends[args.only]}
    results = {}
    for backend, url in backends.items():
        print(f"{backend}: {url}  ({load_average()})", flush=True)
        results[backend] = measure(url, args.runs, args.seed, args.query)
        print(f"  done ({load_average()})", flush=True)
    names = list(next(iter(results.values())))
    if not names:
        raise SystemExit(f"no query name contains {args.query!r}")
    header = f"{'query':<38}" + "".join(
        f"{b + ' p50':>16}{b + ' p95':>16}{'load':>6}" for b in results
    )
    print()
    print(
        f"{args.runs} runs per query, milliseconds; load = highest 1-minute load average meanwhile"
    )
    print(header)
    for name in names:
        cells = "".join(
            f"{results[b][name].p50:16.1f}{results[b][name].p95:16.1f}{results[b][name].load:6.1f}"
            for b in results
        )
        print(f"{name:<38}{cells}")
    worst = {b: max(r[name].p95 for name in names) for b, r in results.items()}
    print("worst p95: " + ", ".join(f"{b} {value:.1f} ms" for b, value in worst.items()))
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
