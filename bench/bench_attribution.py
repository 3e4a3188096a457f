"""Benchmark: attribution of every move for 50,000 events x 500 tickers (SYNTHETIC inputs).

Run from the repository root:
    .venv/bin/python bench/bench_attribution.py [--events 50000] [--tickers 500] [--runs 5]

Fixed-seed synthetic links (each event names 3-15 of the tickers with a random link
strength, over three years of sessions) and a stored day-0 move for every (ticker, day 0),
so the candidate join and the ranking face the load of a long-running tracker. It times the
in-memory part of ``compute_attributions`` (candidates, ranking, per-move rows and
fingerprints) and, separately, the confound ledger; the database round trip is not
included. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.runs import DEFAULT_RUNS, Spread, load_average, timed
from tracker.impact.calendar import sessions_between
from tracker.measure.attribution import attribute
from tracker.measure.confounds import build_ledger, macro_releases
from tracker.measure.links import LINK_COLUMNS, LINK_TIERS


def synthetic_links(n_events: int, n_tickers: int, seed: int = 15) -> pd.DataFrame:
    """LINK_COLUMNS for ``n_events`` events over 2023-2025 sessions (made-up titles)."""
    rng = np.random.default_rng(seed)
    sessions = np.array(sessions_between("2023-01-03", "2025-12-31", "XNYS"))
    per_event = rng.integers(3, 16, n_events)
    event_ids = np.repeat(np.arange(1, n_events + 1), per_event)
    n_links = len(event_ids)
    day0 = sessions[rng.integers(0, len(sessions), n_events)]
    stories = np.where(
        rng.uniform(size=n_events) < 0.6, rng.integers(1, n_events // 5, n_events), -1
    )
    frame = pd.DataFrame(
        {
            "event_id": event_ids,
            "instrument_id": rng.integers(1, n_tickers + 1, n_links),
            "day0": np.repeat(day0, per_event),
            "kind": np.where(rng.uniform(size=n_links) < 0.05, "market_move", "news"),
            "story_id": pd.array(np.repeat(stories, per_event), dtype="Int64"),
            "source_count": np.repeat(rng.integers(0, 30, n_events), per_event),
            "article_count": np.repeat(rng.integers(0, 60, n_events), per_event),
            "is_novel": np.repeat(rng.uniform(size=n_events) < 0.7, per_event),
            "importance": np.repeat(rng.exponential(1.0, n_events), per_event),
            "link": np.array(LINK_TIERS)[rng.integers(0, len(LINK_TIERS), n_links)],
        }
    )
    frame["story_id"] = frame["story_id"].where(frame["story_id"] >= 0)
    frame = frame.drop_duplicates(["event_id", "instrument_id"])
    frame["ticker"] = "T" + frame["instrument_id"].astype(str)
    frame["title"] = "synthetic event " + frame["event_id"].astype(str)
    frame["slug"] = "synthetic-" + frame["event_id"].astype(str)
    return frame[list(LINK_COLUMNS)].reset_index(drop=True)


def synthetic_moves(links: pd.DataFrame, seed: int = 16) -> pd.DataFrame:
    """One usable [0,0] result per (event, ticker): the moves are the (ticker, day 0) pairs."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "instrument_id": links["instrument_id"],
            "session_date": links["day0"],
            "event_id": links["event_id"],
            "ar": rng.normal(0, 0.03, len(links)),
            "p": rng.uniform(0, 1, len(links)),
            "q": rng.uniform(0, 1, len(links)),
        }
    )


def attribution_once(links: pd.DataFrame, moves: pd.DataFrame, index: pd.DatetimeIndex) -> int:
    ranked, _fingerprints = attribute(links, moves, index)
    return len(ranked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--tickers", type=int, default=500)
    parser.add_argument("--runs", "--repeat", type=int, default=DEFAULT_RUNS, dest="runs")
    args = parser.parse_args()
    links = synthetic_links(args.events, args.tickers)
    moves = synthetic_moves(links)
    index = pd.DatetimeIndex(pd.to_datetime(sessions_between("2022-12-01", "2026-01-31", "XNYS")))
    candidates = attribution_once(links, moves, index)
    n_moves = len(moves[["instrument_id", "session_date"]].drop_duplicates())
    print(
        f"SYNTHETIC: {args.events:,} events x {args.tickers} tickers, {len(links):,} links, "
        f"{n_moves:,} moves, {candidates:,} candidates; {load_average()}"
    )
    for name, work in (
        ("attribution (candidates, ranking, rows, fingerprints)",
         lambda: attribution_once(links, moves, index)),
        ("confound ledger (events, macro; span [-5,+5])",
         lambda: build_ledger(links, pd.DataFrame(columns=["instrument_id", "ticker", "kind",
                              "ex_date", "value"]), macro_releases(), index, (-5, 5))),
    ):  # fmt: skip
        spread = Spread.of([timed(work) for _ in range(args.runs)])
        print(f"{name}: {spread.seconds()}")
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
