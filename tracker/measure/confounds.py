"""The confound ledger: what else touched an (event, ticker) around the event's day 0.

A CAR over [0,+1] credits the event with everything that moved the stock in those two
sessions. The ledger lists, for every linked (event, ticker), each of these within the
widest stored window (by default [-5,+5] sessions of day 0):

- ``event``: another event linked to the same ticker whose day 0 falls in the window,
  with its story (``earnings`` when that event is an earnings event, e.g. the curated
  "Nvidia Q4 FY2025 results");
- ``macro``: a scheduled FOMC rate decision or CPI release (``data/macro_releases.csv``:
  dates are facts, shipped with their source; both land inside US trading hours, so the
  release session is the release date);
- ``dividend`` / ``split``: the ticker's stored ex-dividend days and splits.

Live earnings calendars (yfinance's ``earnings_dates``) are not read: they need one
scraping request per ticker and break often; curated and detected earnings events are.

A row's ``relative_day`` is its session offset from day 0, so window [t1, t2] is confounded
by the rows with t1 <= relative_day <= t2 (``confounds_in_window``). Computed for all links
at once (vectorised), written only for the (event, ticker) pairs whose rows changed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from tracker.db import Database
from tracker.db.models import Confound, CorporateAction, Instrument
from tracker.impact.study import Window
from tracker.measure.links import load_links, session_index, session_positions

KINDS = ("event", "earnings", "macro", "dividend", "split")
LEDGER_COLUMNS = (
    "event_id",
    "instrument_id",
    "kind",
    "session_date",
    "relative_day",
    "title",
    "other_event_id",
    "story_id",
    "source",
)


@dataclass(frozen=True)
class MacroRelease:
    day: date
    kind: str  # fomc | cpi
    title: str
    source: str


@lru_cache(maxsize=1)
def macro_releases() -> tuple[MacroRelease, ...]:
    """The shipped FOMC decision and CPI release dates (2023-2025), with their sources."""
    text = resources.files("tracker.measure").joinpath("data/macro_releases.csv").read_text()
    return tuple(
        MacroRelease(date.fromisoformat(row["date"]), row["kind"], row["title"], row["source"])
        for row in csv.DictReader(io.StringIO(text))
    )


def load_actions(session: Session, tickers: Sequence[str] | None = None) -> pd.DataFrame:
    """Stored dividends and splits: instrument_id, ticker, kind, ex_date, value."""
    query = select(
        CorporateAction.instrument_id,
        Instrument.ticker,
        CorporateAction.kind,
        CorporateAction.ex_date,
        CorporateAction.value,
    ).join(Instrument, Instrument.id == CorporateAction.instrument_id)
    if tickers is not None:
        query = query.where(Instrument.ticker.in_(sorted(set(tickers))))
    rows = session.execute(query).all()
    return pd.DataFrame(rows, columns=["instrument_id", "ticker", "kind", "ex_date", "value"])


def _action_title(kind: str, value: float) -> str:
    if kind == "split":
        return f"split {value:g}-for-1"
    return f"ex-dividend {value:g} per share"


def build_ledger(
    links: pd.DataFrame,
    actions: pd.DataFrame,
    macro: Sequence[MacroRelease],
    index: pd.DatetimeIndex,
    span: Window,
) -> pd.DataFrame:
    """Every confound of every link within ``span`` sessions of its day 0 (pure).

    ``links``: tracker.measure.links.LINK_COLUMNS; ``actions``: load_actions' columns.
    Returns LEDGER_COLUMNS, sorted by event, instrument, relative day, kind and title.
    """
    lo, hi = span
    if links.empty:
        return pd.DataFrame({name: [] for name in LEDGER_COLUMNS})
    dates = index.to_numpy(dtype="datetime64[D]")
    base = links[["event_id", "instrument_id"]].copy()
    base["pos"] = session_positions(links["day0"], index)
    parts = []
    # other events of the same ticker: join on (instrument, session) over the span's offsets
    others = links[["event_id", "instrument_id", "title", "story_id", "kind"]].rename(
        columns={"event_id": "other_event_id"}
    )
    others["other_pos"] = base["pos"].to_numpy()
    offsets = np.arange(lo, hi + 1)
    expanded = base.loc[base.index.repeat(len(offsets))].copy()
    expanded["relative_day"] = np.tile(offsets, len(base))
    expanded["other_pos"] = expanded["pos"] + expanded["relative_day"]
    hits = expanded.merge(others, on=["instrument_id", "other_pos"])
    hits = hits[hits["other_event_id"] != hits["event_id"]]
    if len(hits):
        hits = hits.assign(
            kind=np.where(hits["kind"] == "earnings", "earnings", "event"),
            source="",
        )
        parts.append(hits.rename(columns={"other_pos": "row"}))
    # the ticker's ex-dividend days and splits
    if len(actions):
        acts = actions[["instrument_id", "kind", "ex_date", "value"]].copy()
        acts["row"] = session_positions(acts["ex_date"], index)
        acts["title"] = [
            _action_title(k, float(v)) for k, v in zip(acts["kind"], acts["value"], strict=False)
        ]
        got = expanded.rename(columns={"other_pos": "row"}).merge(
            acts[["instrument_id", "row", "kind", "title"]], on=["instrument_id", "row"]
        )
        if len(got):
            parts.append(got.assign(other_event_id=None, story_id=None, source="stored"))
    # scheduled macro releases: the same for every ticker
    if macro:
        rel = pd.DataFrame(
            {
                "row": session_positions([m.day for m in macro], index),
                "kind": "macro",
                "title": [m.title for m in macro],
                "source": [m.source for m in macro],
            }
        )
        got = expanded.rename(columns={"other_pos": "row"}).merge(rel, on="row")
        if len(got):
            parts.append(got.assign(other_event_id=None, story_id=None))
    if not parts:
        return pd.DataFrame({name: [] for name in LEDGER_COLUMNS})
    ledger = pd.concat(parts, ignore_index=True)
    ledger = ledger[(ledger["row"] >= 0) & (ledger["row"] < len(dates))]
    ledger["session_date"] = dates[ledger["row"].to_numpy()].astype(object)  # datetime.date
    ledger["other_event_id"] = ledger["other_event_id"].astype("Int64")
    ledger["story_id"] = ledger["story_id"].astype("Int64")
    ledger = ledger.sort_values(
        ["event_id", "instrument_id", "relative_day", "kind", "title"], kind="stable"
    )
    return ledger[list(LEDGER_COLUMNS)].reset_index(drop=True)


def _none(value: object) -> int | None:
    return None if value is None or value is pd.NA or pd.isna(value) else int(value)  # type: ignore[call-overload]


def _fingerprint(rows: Iterable[tuple[object, ...]]) -> str:
    return hashlib.sha256(json.dumps(list(rows), default=str).encode()).hexdigest()


@dataclass
class LedgerReport:
    pairs: int = 0
    rows: int = 0
    written_pairs: int = 0
    removed_pairs: int = 0

    def as_counts(self) -> dict[str, int]:
        return {
            "confound_pairs": self.pairs,
            "confounds": self.rows,
            "confound_pairs_written": self.written_pairs,
            "confound_pairs_removed": self.removed_pairs,
        }


def compute_confounds(db: Database, calendar: str, span: Window) -> LedgerReport:
    """Rebuild the ledger in memory and write the (event, ticker) pairs that changed."""
    report = LedgerReport()
    with db.session() as session:
        links = load_links(session, calendar)
        actions = load_actions(session)
        days = list(links["day0"]) if len(links) else []
        index = session_index(days, calendar, pad=2 * max(abs(span[0]), abs(span[1])) + 10)
        ledger = build_ledger(links, actions, macro_releases(), index, span)
        stored: dict[tuple[int, int], str] = {
            (e, i): fp
            for e, i, fp in session.execute(
                select(Confound.event_id, Confound.instrument_id, Confound.input_fingerprint)
            )
        }
    grouped: dict[tuple[int, int], list[tuple[object, ...]]] = defaultdict(list)
    columns = [ledger[name].tolist() for name in LEDGER_COLUMNS]
    for event_id, instrument_id, kind, day, rel, title, other, story, source in zip(
        *columns, strict=True
    ):
        grouped[(int(event_id), int(instrument_id))].append(
            (str(kind), day, int(rel), str(title), _none(other), _none(story), str(source))
        )
    report.pairs, report.rows = len(grouped), len(ledger)
    changed = {}
    for key, rows in grouped.items():
        fp = _fingerprint(rows)
        if stored.get(key) != fp:
            changed[key] = (fp, rows)
    removed = [key for key in stored if key not in grouped]
    if not changed and not removed:
        return report
    with db.session() as session:
        for event_id, instrument_id in [key for key in [*changed, *removed] if key in stored]:
            session.execute(
                delete(Confound).where(
                    Confound.event_id == event_id, Confound.instrument_id == instrument_id
                )
            )
        values = [
            {
                "event_id": event_id,
                "instrument_id": instrument_id,
                "kind": kind,
                "session_date": day,
                "relative_day": rel,
                "title": title,
                "other_event_id": other,
                "story_id": story,
                "source": source,
                "input_fingerprint": fp,
            }
            for (event_id, instrument_id), (fp, rows) in changed.items()
            for kind, day, rel, title, other, story, source in rows
        ]
        if values:
            session.execute(insert(Confound), values)
    report.written_pairs, report.removed_pairs = len(changed), len(removed)
    return report


def confounds_in_window(rows: Iterable[Confound], window: Window) -> list[Confound]:
    """The ledger rows that fall inside ``window`` (relative days t1..t2)."""
    return [row for row in rows if window[0] <= row.relative_day <= window[1]]
