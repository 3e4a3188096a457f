"""Timeline: prices of chosen tickers or a basket with the events that hit them."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from dashboard import _data, _ui
from dashboard.charts import EventMarker, timeline_figure
from tracker.errors import TrackerError
from tracker.query import EventFilter

DEFAULT_TICKERS = ("NVDA", "VST", "SPY")
DEFAULT_ENTITIES = ("deepseek",)
MAX_MARKERS = 400

st.title("Timeline")
st.caption(
    "Closes by session (US Eastern market days; weekends and exchange holidays removed). "
    "Diamonds are events on their first affected session; hover for the headline, "
    "click one to open it."
)


def _attention_panel(start: date, end: date) -> None:
    """Articles and sources per session about the chosen entities, over the same period."""
    from dashboard.charts import attention_figure

    slugs = _data.entities()
    if not slugs:
        return
    st.subheader("Attention")
    default = [s for s in DEFAULT_ENTITIES if s in slugs] or slugs[:1]
    chosen = st.multiselect("Entities", slugs, default=default)
    for slug in chosen:
        try:
            counts = _data.entity_attention([slug], start, end)
        except TrackerError as exc:
            st.warning(_ui.md_escape(str(exc)))
            continue
        st.plotly_chart(
            attention_figure(counts.drop(columns="entity"), title=f"Attention: {slug}"),
            width="stretch",
        )


fresh = _ui.require_data()
if fresh is not None:
    known = [bar.ticker for bar in _data.instruments() if bar.latest_date is not None]
    baskets = _data.baskets()
    last = fresh.latest_bar_date
    if not known or last is None:
        _ui.empty_state("No prices stored yet.")
        st.stop()
    controls = st.columns([3, 2, 2, 2])
    tickers = controls[0].multiselect(
        "Tickers", known, default=[t for t in DEFAULT_TICKERS if t in known][:3] or known[:3]
    )
    basket_choice = controls[1].selectbox("or a basket", ["(none)", *sorted(baskets)])
    period = controls[2].date_input(
        "Period", value=(last - timedelta(days=365), last), max_value=last
    )
    mode = controls[3].radio("Scale", ["normalised (=100)", "raw"], horizontal=True)
    more = st.columns([2, 2, 2, 2])
    origin = more[0].selectbox("Event markers", ["curated", "detected", "all", "none"])
    min_car_pct = more[1].number_input(
        "min |CAR[0,+1]| of markers (%)", min_value=0.0, max_value=100.0, value=0.0, step=1.0
    )
    chosen_dates = tuple(period) if isinstance(period, tuple | list) else (period,)
    start = chosen_dates[0] if chosen_dates and chosen_dates[0] else last - timedelta(days=365)
    end = chosen_dates[1] if len(chosen_dates) == 2 and chosen_dates[1] else last
    rebase_at = more[2].date_input("Base date", value=start) if mode.startswith("norm") else None
    basket = None if basket_choice == "(none)" else basket_choice
    if not tickers and basket is None:
        st.info("Choose at least one ticker or a basket.")
        st.stop()
    try:
        closes = _data.prices(tickers, basket, start, end, rebase_at)
    except TrackerError as exc:
        st.warning(_ui.md_escape(str(exc)))
        st.stop()
    markers: list[EventMarker] = []
    if origin != "none":
        flt = EventFilter(
            start=start,
            end=end,
            origin=None if origin == "all" else origin,
            ticker=tickers[0] if basket is None and len(tickers) == 1 else None,
            basket=basket,
            min_abs_car=min_car_pct / 100.0 if min_car_pct > 0 else None,
            limit=MAX_MARKERS,
        )
        try:
            found = _data.events(flt)
        except TrackerError as exc:
            st.warning(_ui.md_escape(str(exc)))
            found = []
        markers = [
            EventMarker(
                e.id,
                e.title,
                e.kind,
                e.origin,
                e.day0,
                e.first_reported_at,
                e.source_count,
            )
            for e in found
            if e.day0 is not None
        ]
    if closes.empty:
        _ui.empty_state("No prices in this period for this choice.")
        st.stop()
    holidays = _data.closed_weekdays(start, end, _data.calendar_name())
    figure = timeline_figure(closes, markers, holidays, rebased=rebase_at is not None)
    state = st.plotly_chart(
        figure, key="timeline", on_select="rerun", selection_mode="points", width="stretch"
    )
    picked = [
        point for point in (state.selection.points if state else []) if point.get("customdata")
    ]
    if picked:
        event_id = int(picked[0]["customdata"][0])
        # customdata carries the HTML-escaped title for Plotly; a button label is markdown, so
        # feed text never goes into one (it is shown with st.text, which parses nothing).
        chosen_marker = next((m for m in markers if m.event_id == event_id), None)
        if chosen_marker is not None:
            st.text(chosen_marker.title)
        if st.button(f"Open event #{event_id}", type="primary"):
            _ui.open_event(event_id)
    if markers:
        with st.expander(f"{len(markers)} events in this period", expanded=False):
            labels = {
                f"{m.day0.isoformat()} · {m.title[:90]}": m.event_id
                for m in sorted(markers, key=lambda m: m.day0, reverse=True)
            }
            chosen = st.selectbox("Event", list(labels))
            if st.button("Open event detail") and chosen is not None:
                _ui.open_event(labels[chosen])
    for ticker in tickers[:3]:
        try:
            moves = _data.ticker_moves_frame(ticker)
        except TrackerError as exc:
            st.caption(_ui.md_escape(str(exc)))
            continue
        if moves.empty:
            continue
        with st.expander(f"{ticker}: largest event-day moves and their primary catalyst"):
            shown = moves[["day0", "abnormal_return", "p_value", "primary", "events"]].copy()
            shown["abnormal_return"] = shown["abnormal_return"] * 100.0
            st.dataframe(
                shown.rename(columns={"abnormal_return": "AR (%)", "events": "all events"}),
                hide_index=True,
                column_config={"AR (%)": st.column_config.NumberColumn(format="%.2f")},
            )
            st.caption(
                "primary: the move's most likely catalyst (tracker.measure.attribution); "
                "the other events of the day are candidates or confounds."
            )
    _attention_panel(start, end)
