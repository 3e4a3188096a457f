"""Live: the newest headlines, today's abnormal movers and fresh events, refreshed in place."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard import _data, _ui
from dashboard.charts import movers_figure
from tracker.errors import TrackerError
from tracker.news.normalize import plain_text, safe_http_url
from tracker.query import EventFilter

REFRESH_SECONDS = 60
FRESH_EVENTS = 15
HEADLINES = 30


def _headlines() -> None:
    st.subheader("Latest headlines")
    items = _data.headlines(HEADLINES)
    if not items:
        _ui.empty_state("No articles yet.")
        return
    frame = pd.DataFrame(
        {
            "time (ET)": [_ui.eastern(h.published_at) for h in items],
            "source": [h.source for h in items],
            "headline": [h.title for h in items],
            "summary": [plain_text(h.summary_html)[:240] for h in items],
            "link": [safe_http_url(h.url) for h in items],
            "event": [h.event_id for h in items],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            "link": st.column_config.LinkColumn("link", display_text="open"),
            "headline": st.column_config.TextColumn(width="large"),
        },
    )


def _movers(fresh_day: date | None) -> None:
    st.subheader("Movers vs benchmark")
    if fresh_day is None:
        _ui.empty_state("No prices yet.")
        return
    try:
        movers = _data.movers(fresh_day)
    except TrackerError as exc:
        st.caption(_ui.md_escape(str(exc)))
        return
    usable = movers[movers["status"] == "ok"].dropna(subset=["ar"])
    if usable.empty:
        st.caption("No abnormal returns for this session.")
        return
    st.caption(
        f"Session {fresh_day} (the newest stored close): abnormal return = return minus the "
        "market-model prediction from the benchmark."
    )
    frame = usable.reset_index()[["ticker", "ar", "raw_return", "benchmark_return", "p"]]
    st.plotly_chart(movers_figure(frame), width="stretch")


def _fresh_events() -> None:
    st.subheader("Fresh events")
    found = _data.events(EventFilter(limit=FRESH_EVENTS))
    if not found:
        st.caption("No events yet.")
        return
    frame = pd.DataFrame(
        {
            "first reported (ET)": [_ui.reported(e.first_reported_at, e.origin) for e in found],
            "kind": [e.kind for e in found],
            "title": [e.title for e in found],
            "sources": [e.source_count for e in found],
            "top ticker": [e.top_ticker for e in found],
            "CAR[0,+1] (%)": [None if e.top_car is None else e.top_car * 100 for e in found],
            "sig": [_ui.significance_mark(e.top_car_q) for e in found],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            "title": st.column_config.TextColumn(width="large"),
            "CAR[0,+1] (%)": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    st.caption(_ui.SIGNIFICANCE_NOTE)


@st.fragment(run_every=REFRESH_SECONDS)
def live_panel() -> None:
    """Re-runs on its own every minute; the cached reads expire within 20-60 s."""
    fresh = _data.current_freshness()
    if _data.is_empty(fresh):
        _ui.empty_state()
        return
    _ui.freshness_badge(fresh)
    st.caption(f"Refreshed {_ui.eastern(_data.now_utc())}; refreshes every {REFRESH_SECONDS} s.")
    _headlines()
    left, right = st.columns([2, 3])
    with left:
        _movers(fresh.latest_bar_date)
    with right:
        _fresh_events()


st.title("Live")
live_panel()
