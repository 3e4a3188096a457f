"""Dashboard page render times on a database (normally the demo one), through Streamlit's AppTest.

    TRACKER_DATA_DIR=... python bench/bench_dashboard.py --db sqlite:///demo.db [--runs 5]

For each page: the first render with empty caches (what the first visitor after a restart or
after the 60 s TTL waits for; Python imports are excluded, a running server has them loaded)
and a rerun with warm caches (every click). Then the timeline with 10 tickers over 3 years.
Times are server-side script times; the browser adds Plotly drawing (see browser_check).
Each is the median and range of ``--runs`` renders, printed with the machine's load.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit import config as streamlit_config  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from bench.runs import DEFAULT_RUNS, Spread, load_average  # noqa: E402

# AppTest runs no server: say it listens on loopback, as `tracker dashboard` does, so the login
# gate is off (on any other address it asks for sign-in and no page would render).
streamlit_config.set_option("server.address", "127.0.0.1")

APP = str(ROOT / "dashboard" / "app.py")
PAGES = {
    "timeline": "views/timeline.py",
    "event_detail": "views/event_detail.py",
    "events": "views/events.py",
    "live": "views/live.py",
    "health": "views/health.py",
}
TEN_TICKERS = ["NVDA", "AMD", "AVGO", "TSM", "MSFT", "GOOGL", "META", "VST", "CEG", "SPY"]


def render(page: str, query: dict[str, str]) -> tuple[AppTest, float]:
    app = AppTest.from_file(APP, default_timeout=300)
    app.switch_page(PAGES[page])
    for key, value in query.items():
        app.query_params[key] = value
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise SystemExit(f"{page}: {app.exception[0].value}")
    return app, elapsed


def pick_event(url: str) -> str:
    from tracker.db import Database
    from tracker.query import EventFilter, search_events

    database = Database.connect(url)
    with database.session() as session:
        found = search_events(session, EventFilter(sort="impact", limit=1))
    database.dispose()
    return str(found[0].id) if found else ""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    args = parser.parse_args()
    os.environ["TRACKER_DATABASE_URL"] = args.db
    event = pick_event(args.db)
    for page in PAGES:  # warm-up: imports and the exchange calendar, as a running server has
        render(page, {"event": event} if page == "event_detail" else {})
    print(f"database: {args.db.split('://')[0]}, median (range) of {args.runs} runs")
    print(f"before: {load_average()}")
    print(f"{'page':14} {'cold cache':>30} {'warm cache':>30}")
    for page in PAGES:
        query = {"event": event} if page == "event_detail" else {}
        cold, warm = [], []
        for _ in range(args.runs):
            st.cache_data.clear()
            cold.append(render(page, query)[1])
            warm.append(render(page, query)[1])
        print(f"{page:14} {Spread.of(cold).seconds():>30} {Spread.of(warm).seconds():>30}")

    times = []
    for _ in range(args.runs):
        st.cache_data.clear()
        app, _ = render("timeline", {})
        period = next(d for d in app.date_input if d.label == "Period").value
        assert isinstance(period, tuple), period
        assert len(period) == 2, period
        last = period[1]
        app.multiselect[0].set_value(TEN_TICKERS)
        next(d for d in app.date_input if d.label == "Period").set_value(
            (last - timedelta(days=3 * 365), last)
        )
        started = time.perf_counter()
        app.run()
        times.append(time.perf_counter() - started)
        if app.exception:
            raise SystemExit(f"timeline: {app.exception[0].value}")
        spec = app.get("plotly_chart")[0].proto.spec
        points = spec.count('"x":')
    print(
        f"timeline, 10 tickers x 3 years, cold cache: {Spread.of(times).seconds()}, {points} traces"
    )
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
