"""Shares outstanding over time: the protocol, and the recorded filings file.

The market-value change of an event is shares outstanding x the raw price change, with the
count in force before day 0; so counts are a time series (``as_of`` dates), not one number.
A source answers per ticker, so one failing ticker never hides the others' counts.

Rows are ``as_of`` (date), ``shares`` (a positive integer), ``share_class`` (which security
the count is for, as the data states it: a filing's cover page may add several classes, an
ADR count may be in ADRs or in ordinary shares) and ``note`` (where the figure comes from).

Recorded: ``TRACKER_DATA_DIR/prices/shares.csv`` with the header
``ticker,as_of,shares_outstanding,source`` (an optional ``share_class`` column is honoured).
A bad row (unknown date, non-positive or non-integer count, empty ticker) is reported with
its line number and skipped; the other rows are kept.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

from tracker.errors import DataUnavailableError

REQUIRED_COLUMNS = ("ticker", "as_of", "shares_outstanding", "source")
_TICKER = re.compile(r"^[A-Z][A-Z0-9.\-]{0,19}$")
_CLASSES = re.compile(r"\bClass\s+([A-Z])\b")


@dataclass(frozen=True)
class ShareCount:
    as_of: date
    shares: int
    share_class: str
    note: str


@dataclass
class TickerShares:
    """One ticker's answer: its counts over time, or why there are none."""

    ticker: str
    counts: list[ShareCount] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class SharesSource(Protocol):
    """Where share counts come from (filings on file, Yahoo ...)."""

    name: str

    def shares_outstanding(
        self, tickers: Sequence[str], start: date | None, end: date | None
    ) -> dict[str, TickerShares]:
        """Counts with ``as_of`` from start to end (both included, None = unbounded)."""
        ...

    def problems(self) -> list[str]:
        """Rows the source could not read (skipped), each naming what is wrong."""
        ...


def stated_class(note: str) -> str:
    """The share class a filing's text states: "Class A + Class B" when several are summed."""
    classes = list(dict.fromkeys(_CLASSES.findall(note)))
    if len(classes) > 1:
        return " + ".join(f"Class {c}" for c in classes)
    if classes:
        return f"Class {classes[0]}"
    return "common"


def parse_count(text: str) -> int:
    """A share count: a positive integer (thousands separators refused: they are ambiguous)."""
    value = text.strip()
    if not value.isdigit():
        raise ValueError(f"shares_outstanding {text!r} is not a positive whole number")
    count = int(value)
    if count <= 0:
        raise ValueError(f"shares_outstanding {text!r} is not positive")
    return count


class RecordedSharesSource:
    """Serves ``prices/shares.csv`` through ``SharesSource``."""

    name = "recorded"

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / "prices" / "shares.csv"
        if not self.path.is_file():
            raise DataUnavailableError(f"no recorded share counts at {self.path}")
        self._counts, self._problems = self._read()

    def _read(self) -> tuple[dict[str, list[ShareCount]], list[str]]:
        counts: dict[str, list[ShareCount]] = {}
        problems: list[str] = []
        with self.path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise DataUnavailableError(
                    f"{self.path}: header lacks {', '.join(missing)} "
                    f"(expected {','.join(REQUIRED_COLUMNS)})"
                )
            seen: set[tuple[str, date]] = set()
            for line, row in enumerate(reader, start=2):
                try:
                    ticker, count = self._row(row)
                except ValueError as exc:
                    problems.append(f"{self.path.name} line {line}: {exc}; row skipped")
                    continue
                if (ticker, count.as_of) in seen:
                    problems.append(
                        f"{self.path.name} line {line}: duplicate {ticker} {count.as_of}; "
                        "row skipped"
                    )
                    continue
                seen.add((ticker, count.as_of))
                counts.setdefault(ticker, []).append(count)
        return counts, problems

    @staticmethod
    def _row(row: dict[str, str | None]) -> tuple[str, ShareCount]:
        ticker = (row.get("ticker") or "").strip().upper()
        if not _TICKER.match(ticker):
            raise ValueError(f"ticker {row.get('ticker')!r} is not a ticker")
        as_of_text = (row.get("as_of") or "").strip()
        try:
            as_of = date.fromisoformat(as_of_text)
        except ValueError:
            raise ValueError(f"as_of {as_of_text!r} is not a date (YYYY-MM-DD)") from None
        count = parse_count(row.get("shares_outstanding") or "")
        note = (row.get("source") or "").strip()
        if not note:
            raise ValueError("source is empty: every count must say where it comes from")
        share_class = (row.get("share_class") or "").strip() or stated_class(note)
        return ticker, ShareCount(as_of, count, share_class, note)

    def problems(self) -> list[str]:
        return list(self._problems)

    def available_tickers(self) -> list[str]:
        return sorted(self._counts)

    def shares_outstanding(
        self, tickers: Sequence[str], start: date | None, end: date | None
    ) -> dict[str, TickerShares]:
        out = {}
        for ticker in tickers:
            counts = self._counts.get(ticker.upper())
            if counts is None:
                out[ticker] = TickerShares(ticker, error="no recorded share count")
                continue
            chosen = [
                c
                for c in counts
                if (start is None or c.as_of >= start) and (end is None or c.as_of <= end)
            ]
            out[ticker] = TickerShares(ticker, sorted(chosen, key=lambda c: c.as_of))
        return out
