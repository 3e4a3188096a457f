"""Story: one thread of events (the DeepSeek story, Stargate) on a timeline with its impacts.

An event is one happening; a story ties the happenings that follow from each other. The
page lists the stories by importance, and for the chosen one shows its events in time with
each event's measured headline impact (largest |CAR[0,+1]| among its tickers, market model,
stored by the impact engine), and opens any event.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import _data, _ui
from dashboard.charts import StoryPoint, story_timeline_figure
from tracker.errors import TrackerError
from tracker.query.stories import StoryDetail, StorySummary


def _pick(stories: list[StorySummary]) -> str | None:
    """The story in the URL (?story=ID), else one chosen from the list (most important first)."""
    ref = st.query_params.get("story")
    labels = {f"{s.title[:100]} · {s.event_count} events (#{s.id})": str(s.id) for s in stories}
    ids = list(labels.values())
    index = ids.index(ref) if ref in ids else (0 if ids else None)
    chosen = st.selectbox("Story", list(labels), index=index)
    if chosen is not None and labels[chosen] != ref:
        st.query_params["story"] = labels[chosen]
        return labels[chosen]
    return ref


def _events_frame(detail: StoryDetail) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [e.id for e in detail.events],
            "first reported (ET)": [
                _ui.reported(e.first_reported_at, e.origin) for e in detail.events
            ],
            "day 0": [e.day0 for e in detail.events],
            "kind": [e.kind for e in detail.events],
            "origin": [e.origin for e in detail.events],
            "title": [e.title for e in detail.events],
            "importance": [e.importance for e in detail.events],
            "sources": [e.source_count for e in detail.events],
            "top ticker": [e.top_ticker for e in detail.events],
            "CAR (%)": [None if e.top_car is None else e.top_car * 100.0 for e in detail.events],
            "p": [e.top_car_p for e in detail.events],
            "q": [e.top_car_q for e in detail.events],
            "sig": [_ui.significance_mark(e.top_car_q) for e in detail.events],
        }
    )


def _show(detail: StoryDetail) -> None:
    story = detail.story
    st.header(_ui.md_escape(story.title))
    facts = st.columns(4)
    facts[0].metric("Events", story.event_count)
    facts[1].metric("Articles", story.article_count)
    facts[2].metric("Sources", story.source_count)
    facts[3].metric("Importance", f"{story.importance:.0f}")
    st.caption(
        f"{story.origin} story · first reported {_ui.eastern(story.first_reported_at)}, "
        f"latest {_ui.eastern(story.last_reported_at)} (US Eastern)"
    )
    if detail.description:
        st.text(detail.description)
    if not detail.events:
        st.info("This story has no events yet.")
        return
    points = [
        StoryPoint(
            e.id, e.title, e.kind, e.first_reported_at, e.importance, e.top_ticker, e.top_car
        )
        for e in detail.events
    ]
    st.plotly_chart(story_timeline_figure(points), width="stretch")
    frame = _events_frame(detail)
    state = st.dataframe(
        frame,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="story_events",
        column_config={
            "title": st.column_config.TextColumn(width="large"),
            "importance": st.column_config.NumberColumn(format="%.0f"),
            "CAR (%)": st.column_config.NumberColumn(format="%.2f"),
            "p": st.column_config.NumberColumn(format="%.4f"),
            "q": st.column_config.NumberColumn(format="%.4f"),
        },
    )
    st.caption(
        "Each event's headline impact is its largest |CAR[0,+1]| among its tickers (market "
        "model, stored event-study results); select a row to open the event. "
        + _ui.SIGNIFICANCE_NOTE
    )
    rows = state.selection.rows if state else []
    if rows:
        event = detail.events[rows[0]]
        if st.button(f"Open event: {event.title[:100]}", type="primary"):
            _ui.open_event(event.id)


def render() -> None:
    st.title("Stories")
    if _ui.require_data() is None:
        return
    st.caption(
        "An event is one happening (a model released, a sell-off, a ban); a story is the "
        "thread that ties such happenings (the DeepSeek story, Stargate, US chip export "
        "controls). Stories are listed most important first (docs/stories.md)."
    )
    stories = _data.stories()
    if not stories:
        st.info("No stories yet: they are built when articles are linked (`tracker events link`).")
        return
    ref = _pick(stories)
    if ref is None:
        return
    try:
        detail = _data.story(ref)
    except TrackerError as exc:
        st.warning(_ui.md_escape(str(exc)))
        return
    _show(detail)


render()
