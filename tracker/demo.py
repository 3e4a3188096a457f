"""The DeepSeek case study, built through the real pipeline (``tracker demo``).

Offline it reads the recorded real data (``TRACKER_DATA_DIR``): recorded feeds through the
same parse/normalise/store path as live feeds, recorded prices through the same ingestion,
then linking and the event study. With ``live=True`` the same window is backfilled from
yfinance and Google News search instead. Every step is idempotent, so running the demo
twice leaves the same database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tracker.bootstrap import bootstrap
from tracker.config import Settings
from tracker.db import Database, migrate
from tracker.ingest.news import backfill_search, poll_recorded
from tracker.ingest.prices import ingest_prices
from tracker.link.events import link_new_articles
from tracker.markets.universe import INSTRUMENTS
from tracker.measure.attribution import refresh_attribution
from tracker.measure.service import compute_impacts
from tracker.sources.prices import PriceSource

#: the case-study window: the estimation window of a late-January 2025 event needs about
#: 250 sessions before it, so live prices start in 2023 like the recorded files.
LIVE_PRICE_START = date(2023, 1, 1)
LIVE_PRICE_END = date(2025, 12, 31)
LIVE_NEWS_START = date(2025, 1, 6)
LIVE_NEWS_END = date(2025, 2, 7)
LIVE_NEWS_QUERIES = (
    "DeepSeek",
    "DeepSeek Nvidia",
    "Stargate OpenAI",
    "AI chip export controls",
    "Vistra Constellation AI power",
)


@dataclass
class DemoStep:
    name: str
    seconds: float
    counts: Mapping[str, int]


@dataclass
class DemoReport:
    steps: list[DemoStep] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


def _step(report: DemoReport, name: str, work: Callable[[], Mapping[str, Any]]) -> None:
    started = time.perf_counter()
    counts = work()
    report.steps.append(DemoStep(name, time.perf_counter() - started, dict(counts)))


def _recorded_prices(db: Database, settings: Settings) -> dict[str, int]:
    from tracker.sources.prices_recorded import RecordedPriceSource

    source = RecordedPriceSource(settings.require_data_dir())
    return _prices(db, settings, source, None, None)


def _live_prices(db: Database, settings: Settings) -> dict[str, int]:
    from tracker.sources.prices_yfinance import YFinancePriceSource

    return _prices(
        db,
        settings,
        YFinancePriceSource(calendar=settings.calendar),
        LIVE_PRICE_START,
        LIVE_PRICE_END,
    )


def _prices(
    db: Database, settings: Settings, source: PriceSource, start: date | None, end: date | None
) -> dict[str, int]:
    tickers = source.available_tickers() or [spec.ticker for spec in INSTRUMENTS]
    report = ingest_prices(db, source, tickers, start, end, calendar=settings.calendar)
    return report.as_counts()


def _recorded_shares(db: Database, settings: Settings) -> dict[str, int]:
    from tracker.ingest.shares import ingest_shares
    from tracker.sources.shares import RecordedSharesSource

    source = RecordedSharesSource(settings.require_data_dir())
    return ingest_shares(db, source, source.available_tickers()).as_counts()


def _live_shares(db: Database, settings: Settings) -> dict[str, int]:
    from tracker.ingest.shares import ingest_shares
    from tracker.sources.shares_yfinance import YFinanceSharesSource

    tickers = [spec.ticker for spec in INSTRUMENTS if spec.kind == "equity"]
    report = ingest_shares(db, YFinanceSharesSource(), tickers, LIVE_PRICE_START, None)
    return report.as_counts()


def _attention(db: Database, settings: Settings) -> dict[str, int]:
    from tracker.link.attention import update_attention_day0

    return update_attention_day0(db, calendar=settings.calendar).as_counts()


def _anchored(db: Database, settings: Settings) -> dict[str, int]:
    from tracker.measure.anchored import compute_anchored

    return compute_anchored(db, settings).as_counts()


def _recorded_news(db: Database, settings: Settings) -> dict[str, int]:
    return poll_recorded(db, settings.require_data_dir()).as_counts()


def _live_news(db: Database, settings: Settings) -> dict[str, int]:
    totals = {"queries": 0, "new": 0, "duplicate": 0, "errors": 0}
    for query in LIVE_NEWS_QUERIES:
        row = backfill_search(db, settings, query, LIVE_NEWS_START, LIVE_NEWS_END)
        totals["queries"] += 1
        totals["new"] += row.new
        totals["duplicate"] += row.duplicate
        totals["errors"] += int(bool(row.error))
    return totals


def build_demo(db: Database, settings: Settings, *, live: bool = False) -> DemoReport:
    """Build (or bring up to date) the case-study database; returns what each step did."""
    if not live:
        settings.require_data_dir()  # fail before touching the database
    report = DemoReport()
    _step(report, "migrate", lambda: _migrate(settings))
    _step(report, "seed", lambda: bootstrap(db))
    prices = _live_prices if live else _recorded_prices
    news = _live_news if live else _recorded_news
    shares = _live_shares if live else _recorded_shares
    _step(report, "prices", lambda: prices(db, settings))
    _step(report, "shares", lambda: shares(db, settings))
    _step(report, "news", lambda: news(db, settings))
    _step(report, "link", lambda: link_new_articles(db).as_counts())
    _step(report, "impacts", lambda: compute_impacts(db, settings).as_counts())
    _step(report, "attribution", lambda: refresh_attribution(db, settings))
    # attention needs each event's stored day 0, which the impact step writes
    _step(report, "attention", lambda: _attention(db, settings))
    _step(report, "anchored", lambda: _anchored(db, settings))
    return report


def _migrate(settings: Settings) -> dict[str, int]:
    migrate.upgrade(settings.database_url)
    return {}
