"""Entry point of the Streamlit dashboard (`tracker dashboard` or `streamlit run` on this file).

Streamlit puts only this file's folder on ``sys.path``; the repository root is added so the
pages import ``dashboard`` and ``tracker`` from the same tree the command was started from.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard._auth import require_user  # noqa: E402

st.set_page_config(
    page_title="AI market-impact tracker", page_icon=":chart_with_downwards_trend:", layout="wide"
)
require_user()  # before navigation: no page runs for a visitor the gate has not admitted

PAGES = [
    st.Page("views/timeline.py", title="Timeline", icon=":material/show_chart:", default=True),
    st.Page(
        "views/event_detail.py",
        title="Event detail",
        icon=":material/query_stats:",
        url_path="event",
    ),
    st.Page("views/events.py", title="Events", icon=":material/table_rows:"),
    st.Page("views/story.py", title="Stories", icon=":material/timeline:", url_path="story"),
    st.Page("views/live.py", title="Live", icon=":material/bolt:"),
    st.Page("views/health.py", title="Health", icon=":material/monitor_heart:"),
]

st.navigation(PAGES).run()
