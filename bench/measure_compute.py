"""Time the measure step on the real recorded prices: a cold run, then an idempotent rerun.

Usage: TRACKER_DATA_DIR=/work/shared/data python bench/measure_compute.py [N_EVENTS] [DB_URL]

Loads the 9 sell-off tickers and SPY (the test helper's loader), creates N_EVENTS events on
consecutive sessions of 2024-2025, each linked to the 9 tickers and to ai_semis / ai_power,
and prints the wall time of compute_impacts (cold, then with nothing changed) and the counts.
The events are synthetic (dates only); every price is real.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from measure.recorded import (  # type: ignore[import-not-found]  # the tests' loader
    PRICE_TICKERS,
    SELLOFF_TICKERS,
    add_event,
    load_recorded_prices,
)

from tracker.config import load_settings
from tracker.db import Database, migrate
from tracker.impact.calendar import sessions_between
from tracker.measure.service import compute_impacts


def main() -> None:
    n_events = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    settings = load_settings(database_url=url)
    data_dir = settings.require_data_dir()
    migrate.upgrade(url)
    database = Database.connect(url)
    with database.session() as session:
        load_recorded_prices(session, data_dir, PRICE_TICKERS)
    days = sessions_between("2024-06-03", "2025-12-31")[:n_events]
    for number, day in enumerate(days):
        moment = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
        add_event(
            database, f"bench-{number}", moment, SELLOFF_TICKERS, baskets=("ai_semis", "ai_power")
        )
    pairs = len(days) * len(SELLOFF_TICKERS)
    for label in ("cold", "rerun"):
        start = time.perf_counter()
        report = compute_impacts(database, settings)
        elapsed = time.perf_counter() - start
        print(
            f"{label}: {len(days)} events, {pairs} pairs, {elapsed:.2f} s "
            f"({1000 * elapsed / pairs:.2f} ms/pair): {report.summary()}"
        )
    database.dispose()


if __name__ == "__main__":
    main()
