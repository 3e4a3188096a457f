"""Share-count ingestion: source answers -> one row per (instrument, as_of), idempotent.

One ticker is one unit of work (its own transaction): an unknown ticker or a failing answer
is reported and the others go on. The source's unreadable rows are reported too. A count
that changed for the same date is updated in place (a revised figure) and counted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from tracker.db import Database, utcnow
from tracker.db.models import Instrument, SharesOutstanding
from tracker.sources.shares import SharesSource

log = logging.getLogger(__name__)


@dataclass
class SharesResult:
    ticker: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    error: str | None = None

    def as_row(self) -> dict[str, Any]:
        return {
            "ticker": self.ticker,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "status": "failed" if self.error else "ok",
            "detail": self.error or "",
        }


@dataclass
class SharesReport:
    source: str
    tickers: list[SharesResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[SharesResult]:
        return [result for result in self.tickers if result.error]

    def as_counts(self) -> dict[str, int]:
        return {
            "tickers": len(self.tickers),
            "inserted": sum(r.inserted for r in self.tickers),
            "updated": sum(r.updated for r in self.tickers),
            "failed": len(self.failed),
            "bad_rows": len(self.problems),
        }


def ingest_shares(
    db: Database,
    source: SharesSource,
    tickers: Sequence[str],
    start: date | None = None,
    end: date | None = None,
) -> SharesReport:
    """Fetch and store the share counts of ``tickers``; see the module docstring."""
    report = SharesReport(source.name, problems=source.problems())
    for problem in report.problems:
        log.warning("shares: %s", problem)
    wanted = list(dict.fromkeys(t.strip().upper() for t in tickers if t.strip()))
    with db.session() as session:
        known: dict[str, int] = dict(
            session.execute(
                select(Instrument.ticker, Instrument.id).where(Instrument.ticker.in_(wanted))
            ).all()
        )
    answers = source.shares_outstanding([t for t in wanted if t in known], start, end)
    for ticker in wanted:
        result = SharesResult(ticker)
        report.tickers.append(result)
        if ticker not in known:
            result.error = "unknown ticker: no such instrument"
            continue
        answer = answers[ticker]
        if answer.error:
            result.error = answer.error
            continue
        try:
            with db.session() as session:
                stored = {
                    row.as_of: row
                    for row in session.scalars(
                        select(SharesOutstanding).where(
                            SharesOutstanding.instrument_id == known[ticker]
                        )
                    )
                }
                for count in answer.counts:
                    row = stored.get(count.as_of)
                    values = (count.shares, count.share_class, source.name, count.note)
                    if row is None:
                        session.add(
                            SharesOutstanding(
                                instrument_id=known[ticker],
                                as_of=count.as_of,
                                shares=count.shares,
                                share_class=count.share_class,
                                source=source.name,
                                note=count.note,
                                updated_at=utcnow(),
                            )
                        )
                        result.inserted += 1
                    elif (row.shares, row.share_class, row.source, row.note) != values:
                        row.shares, row.share_class, row.source, row.note = values
                        row.updated_at = utcnow()
                        result.updated += 1
                    else:
                        result.unchanged += 1
        except Exception as exc:
            result.inserted = result.updated = result.unchanged = 0
            result.error = f"storing: {type(exc).__name__}: {exc}"
            log.exception("shares: storing %s failed", ticker)
    return report
