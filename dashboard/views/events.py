"""Events: search and filter every event, download the result as CSV, open one."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from dashboard import _data, _ui
from tracker.errors import TrackerError
from tracker.export import csv_bytes
from tracker.query import DEFAULT_WINDOW, EventFilter
from tracker.query.common import KINDS as QUERY_KINDS
from tracker.query.common import STORED_WINDOWS

KINDS = ("(any)", *sorted(QUERY_KINDS))
WINDOWS = STORED_WINDOWS


RANKING_NOTE = (
    "Sorted by importance (0-100): coverage (sources and articles) 30, on the curated "
    "timeline 15, first report of the happening 10, strongest link to a tracked ticker 15, "
    "and significant moves once measured 30 (CAR[0,+1] q < 0.05, weighted by the ticker's "
    "link). Detected events merged into a curated event are listed under it. Choose "
    "'time' for newest first."
)


def _filter(last_day: date | None) -> EventFilter:
    top = st.columns([3, 2, 2, 2])
    text = top[0].text_input("Search text", placeholder='e.g. deepseek, "export rule", nvid*')
    entity = top[1].text_input("Entity", placeholder="e.g. DeepSeek")
    tickers = sorted(bar.ticker for bar in _data.instruments())
    ticker = top[2].selectbox("Ticker", ["(any)", *tickers])
    kind = top[3].selectbox("Kind", KINDS)
    second = st.columns([3, 2, 2, 2, 2])
    dates = second[0].date_input(
        "First reported between",
        value=[last_day - timedelta(days=730), last_day] if last_day else [],
    )
    origin = second[1].radio("Origin", ["all", "curated", "detected"], horizontal=True)
    min_car = second[2].number_input(
        "min |CAR| (%)", min_value=0.0, max_value=100.0, value=0.0, step=1.0
    )
    window = second[3].selectbox(
        "CAR window", WINDOWS, index=WINDOWS.index(DEFAULT_WINDOW), format_func=str
    )
    significant = second[4].checkbox(
        "Significant only",
        help="CAR q-value below 0.05 (Benjamini-Hochberg across the event's tickers)",
    )
    third = st.columns([2, 2, 6])
    sort = third[0].radio(
        "Sort", ["importance", "time", "impact"], horizontal=True, help=RANKING_NOTE
    )
    limit = int(third[1].number_input("Max rows", min_value=10, max_value=5000, value=200))
    start = dates[0] if len(dates) >= 1 else None
    end = dates[1] if len(dates) == 2 else None
    return EventFilter(
        text=text.strip() or None,
        start=start,
        end=end,
        entity=entity.strip() or None,
        ticker=None if ticker == "(any)" else ticker,
        kind=None if kind == "(any)" else kind,
        origin=None if origin == "all" else origin,
        min_abs_car=min_car / 100.0 if min_car > 0 else None,
        significant=significant,
        window=window,
        sort="impact" if sort == "impact" else "time" if sort == "time" else "importance",
        limit=limit,
    )


def render() -> None:
    st.title("Events")
    fresh = _ui.require_data()
    if fresh is None:
        return
    last = fresh.latest_article_at.date() if fresh.latest_article_at else fresh.latest_bar_date
    flt = _filter(last)
    try:
        found = _data.events(flt)
    except TrackerError as exc:
        st.warning(_ui.md_escape(str(exc)))
        return
    if not found:
        st.info("No event matches these filters.")
        return
    story_titles = {s.id: s.title for s in _data.stories()}
    frame = _ui.events_frame(found, story_titles)
    if flt.sort == "importance":
        st.caption(RANKING_NOTE)
    st.caption(
        f"{len(found)} events · CAR is the largest |CAR{list(flt.window)}| among the event's "
        "tickers (market model); select a row to open the event or its story. "
        + _ui.SIGNIFICANCE_NOTE
    )
    state = st.dataframe(
        frame,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="events_table",
        column_config=_ui.events_column_config(),
    )
    st.download_button(
        "Download CSV",
        csv_bytes(frame),
        file_name="events.csv",
        mime="text/csv",
    )
    rows = state.selection.rows if state else []
    if rows:
        event = found[rows[0]]
        # The title is feed text: shown with st.text (never parsed), not in the button label,
        # which Streamlit renders as markdown.
        st.text(event.title[:200])
        if st.button(f"Open event #{event.id}", type="primary"):
            _ui.open_event(event.id)
        if event.story_id is not None and event.story_id in story_titles:
            label = story_titles[event.story_id][:100]
            if st.button(f"Open story: {_ui.md_escape(label)}"):
                _ui.open_story(event.story_id)


render()
