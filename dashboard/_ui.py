"""Small presentation helpers shared by the pages: escaping, links, marks, empty states.

Feed text is untrusted: it reaches the page only through ``st.text``, ``st.dataframe`` or
markdown that has been escaped here (so a headline cannot inject a link, an image that
calls home, or HTML). Links are kept only when they are http(s).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import _data
from dashboard.charts import market_time
from tracker.query import EventSummary, Freshness
from tracker.text import date_only

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: str) -> str:
    """Text safe to embed in Streamlit markdown: every markdown/HTML metacharacter escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


MAX_EVENT_ID = 2**63 - 1  # the largest BIGINT either backend stores
MAX_REF_LENGTH = 200


def event_ref_problem(ref: str) -> str | None:
    """Why ``ref`` (from the URL) cannot name an event, or None when it can be looked up.

    Ids are ASCII digits within the database's integer range; anything else is looked up as a
    slug. ``str.isdigit`` accepts ``²`` and ``int()`` accepts 10**30, and either used to end
    in a traceback on the page, so the check is explicit and happens before any query.
    """
    text = ref.strip()
    if not text or len(text) > MAX_REF_LENGTH or not text.isprintable():
        return "the event in the address is empty, too long or has control characters"
    if text.isdigit():
        if not text.isascii():
            return f"{text!r} is not an event id: ids are ASCII digits 0-9"
        if int(text) > MAX_EVENT_ID:
            return f"event id {text[:30]} is out of range (ids go up to {MAX_EVENT_ID})"
    return None


#: how the event lists mark significance (the stars are read from the q-value, never raw p)
SIGNIFICANCE_NOTE = (
    "sig: the top ticker's Benjamini-Hochberg q-value across the event's tickers "
    "(*** q < 0.01, ** q < 0.05, * q < 0.10); p is the raw p-value of its CAR."
)


def significance_mark(p_value: float | None) -> str:
    """The usual stars for a p- or q-value: *** below 0.01, ** below 0.05, * below 0.10.

    The event lists pass the q-value: "significant" is after multiple-testing correction."""
    if p_value is None or p_value != p_value:
        return ""
    if p_value < 0.01:
        return "***"
    if p_value < 0.05:
        return "**"
    if p_value < 0.10:
        return "*"
    return ""


def eastern(moment: datetime | None) -> str:
    return market_time(moment) if moment is not None else "—"


def reported(moment: datetime | None, origin: str) -> str:
    """When an event was first reported, in US Eastern time; a curated timeline row that gives
    only a date (stored at 00:00 UTC) is shown as that date, not as 19:00 the evening before."""
    day = date_only(moment, origin)
    return f"{day.isoformat()} (date only)" if day is not None else eastern(moment)


def empty_state(what: str = "") -> None:
    """The message an empty database shows, naming the command that fills it."""
    st.info(f"{what + ' ' if what else ''}{_data.EMPTY_HINT}", icon=":material/inbox:")


def require_data() -> Freshness | None:
    """The database's freshness, or None after showing the empty state."""
    fresh = _data.current_freshness()
    if _data.is_empty(fresh):
        empty_state()
        return None
    return fresh


def freshness_badge(fresh: Freshness) -> None:
    """Visible data freshness: how old the newest article and the newest price are."""
    now = _data.now_utc()
    parts = []
    if fresh.latest_article_at is not None:
        age = now - fresh.latest_article_at
        parts.append(
            f"newest article {eastern(fresh.latest_article_at)} ({_age(age.total_seconds())} ago)"
        )
    else:
        parts.append("no articles yet")
    if fresh.latest_bar_date is not None:
        days = (now.date() - fresh.latest_bar_date).days
        parts.append(f"newest close {fresh.latest_bar_date.isoformat()} ({days} d ago)")
    else:
        parts.append("no prices yet")
    stale = fresh.latest_article_at is None or (
        (now - fresh.latest_article_at).total_seconds() > 24 * 3600
    )
    icon = ":material/warning:" if stale else ":material/check_circle:"
    message = "Data freshness: " + "; ".join(parts)
    if stale:
        st.warning(
            message + " — data is stale (recorded demo data, or the jobs are not running).",
            icon=icon,
        )
    else:
        st.success(message, icon=icon)


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{int(seconds // 86400)} d"


def open_event(event_id: int) -> None:
    """Go to the event-detail page for this event (its id travels in the URL)."""
    st.switch_page("views/event_detail.py", query_params={"event": str(event_id)})


def open_story(story_id: int) -> None:
    """Go to the story page for this story (its id travels in the URL)."""
    st.switch_page("views/story.py", query_params={"story": str(story_id)})


def events_frame(
    events: Sequence[EventSummary], story_titles: Mapping[int, str] | None = None
) -> pd.DataFrame:
    """The table of events every page shows: one row an event, its top move with p and q
    (stars from q), and its story's title when ``story_titles`` is given."""
    columns: dict[str, list[object]] = {
        "id": [e.id for e in events],
        "importance": [e.importance for e in events],
        "first reported (ET)": [reported(e.first_reported_at, e.origin) for e in events],
        "day 0": [e.day0 for e in events],
        "kind": [e.kind for e in events],
        "origin": [e.origin for e in events],
        "title": [e.title for e in events],
    }
    if story_titles is not None:
        columns["story"] = [story_titles.get(e.story_id or 0, "") for e in events]
    columns |= {
        "sources": [e.source_count for e in events],
        "top ticker": [e.top_ticker for e in events],
        "CAR (%)": [None if e.top_car is None else e.top_car * 100.0 for e in events],
        "p": [e.top_car_p for e in events],
        "q": [e.top_car_q for e in events],
        "sig": [significance_mark(e.top_car_q) for e in events],
    }
    return pd.DataFrame(columns)


def events_column_config() -> dict[str, Any]:
    """Widths and number formats of ``events_frame``'s columns."""
    return {
        "title": st.column_config.TextColumn(width="large"),
        "importance": st.column_config.NumberColumn(format="%.0f"),
        "CAR (%)": st.column_config.NumberColumn(format="%.2f"),
        "p": st.column_config.NumberColumn(format="%.4f"),
        "q": st.column_config.NumberColumn(format="%.4f"),
    }
