"""Story: one thread of events (the DeepSeek story, Stargate) on a timeline with its impacts.

An event is one happening; a story ties the happenings that follow from each other. The
page lists the stories by importance, and for the chosen one shows its events in time with
each event's measured headline impact (largest |CAR[0,+1]| among its tickers, market model,
stored by the impact engine), and opens any event.
"""

from __future__ import annotations

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
    frame = _ui.events_frame(detail.events)
    state = st.dataframe(
        frame,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="story_events",
        column_config=_ui.events_column_config(),
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
