"""Every dashboard page rendered by Streamlit's AppTest, on the demo database and an empty one."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard._ui import significance_mark
from tracker.db import Database
from tracker.query import EventFilter, search_events

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGES = {
    "timeline": ("views/timeline.py", "Timeline"),
    "event_detail": ("views/event_detail.py", "Event detail"),
    "events": ("views/events.py", "Events"),
    "live": ("views/live.py", "Live"),
    "health": ("views/health.py", "Pipeline health"),
}
SELLOFF_DAY = date(2025, 1, 27)


@pytest.fixture
def open_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    """Run the app on a database: the page chosen, query parameters set, caches emptied."""

    def run(url: str, page: str = "timeline", **query: str) -> AppTest:
        monkeypatch.setenv("TRACKER_DATABASE_URL", url)
        st.cache_data.clear()
        st.cache_resource.clear()
        app = AppTest.from_file(str(APP), default_timeout=120)
        app.run()
        if page != "timeline" or query:
            app.switch_page(PAGES[page][0])
            for key, value in query.items():
                app.query_params[key] = value
            app.run()
        return app

    yield run
    st.cache_resource.clear()
    st.cache_data.clear()


def frames(app: AppTest) -> list[pd.DataFrame]:
    return [element.value for element in app.dataframe]


def frame_with(app: AppTest, column: str) -> pd.DataFrame:
    found = [frame for frame in frames(app) if column in frame.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def plotly_specs(app: AppTest) -> list[dict]:
    return [json.loads(element.proto.spec) for element in app.get("plotly_chart")]


def assert_rendered(app: AppTest, title: str) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert title in [element.value for element in app.title]


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_on_the_demo_database(open_app, demo_database_url, page):
    app = open_app(demo_database_url, page)
    assert_rendered(app, PAGES[page][1])
    assert not [i.value for i in app.info if "No data yet" in i.value]


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_on_an_empty_database_names_the_command_to_run(open_app, database_url, page):
    app = open_app(database_url, page)
    assert_rendered(app, PAGES[page][1])
    hints = [i.value for i in app.info if "No data yet" in i.value]
    assert hints
    assert "tracker demo" in hints[0]


def test_timeline_shows_the_chosen_tickers_and_curated_event_markers(open_app, demo_database_url):
    app = open_app(demo_database_url)
    names = {trace.get("name") for trace in plotly_specs(app)[0]["data"]}
    assert {"NVDA", "VST", "SPY"} <= names
    assert any(name.startswith("event: ") for name in names)

    app.multiselect[0].set_value(["AMD", "MSFT"]).run()
    assert not app.exception
    names = {trace.get("name") for trace in plotly_specs(app)[0]["data"]}
    assert {"AMD", "MSFT"} <= names
    assert "NVDA" not in names

    markers = next(s for s in app.selectbox if s.label == "Event markers")
    markers.set_value("none").run()
    names = {trace.get("name") for trace in plotly_specs(app)[0]["data"]}
    assert not any(name.startswith("event: ") for name in names)


def test_timeline_hides_weekends_and_the_holidays_of_the_period(open_app, demo_database_url):
    app = open_app(demo_database_url)
    layout = plotly_specs(app)[0]["layout"]
    breaks = layout["xaxis"]["rangebreaks"]
    assert {"bounds": ["sat", "mon"]} in breaks
    holidays = next(b["values"] for b in breaks if "values" in b)
    # the default period is the year to the newest close (2025-03-31): both are NYSE holidays
    assert "2025-01-09" in holidays
    assert "2025-01-20" in holidays


def test_event_filters_change_what_is_listed(open_app, demo_url):
    app = open_app(demo_url, "events")
    everything = frame_with(app, "title")
    assert set(everything["origin"]) == {"curated", "detected"}

    next(r for r in app.radio if r.label == "Origin").set_value("curated").run()
    curated = frame_with(app, "title")
    assert set(curated["origin"]) == {"curated"}
    assert len(curated) < len(everything)

    app.text_input[0].set_value("DeepSeek").run()
    searched = frame_with(app, "title")
    assert 0 < len(searched) < len(curated)

    assert [b for b in app.get("download_button") if "CSV" in b.proto.label]

    app.text_input[0].set_value("").run()
    next(c for c in app.checkbox if "Significant" in c.label).check().run()
    significant = frame_with(app, "title")
    assert (significant["p"] < 0.05).all()
    # the stars are read from the q-value (BH across the event's tickers), never raw p
    assert (significant["q"] >= significant["p"]).all()
    assert 0 < len(significant) < len(curated)
    marks = everything.dropna(subset=["q"])
    assert (marks["sig"] == [significance_mark(q) for q in marks["q"]]).all()


def test_the_selloff_event_shows_nvda_and_vst_falling(open_app, demo_url):
    database = Database.connect(demo_url)
    with database.session() as session:
        found = search_events(
            session,
            EventFilter(text="nvidia", start=SELLOFF_DAY, end=SELLOFF_DAY, ticker="VST"),
        )
    database.dispose()
    selloff = next(e for e in found if e.day0 == SELLOFF_DAY)

    app = open_app(demo_url, "event_detail", event=str(selloff.id))
    assert_rendered(app, "Event detail")
    # the event's tickers are split between "moves attributed to this event" and "moves in
    # this window attributed elsewhere": both tables show the CAR, q and confounds
    tables = [frame for frame in frames(app) if "CAR (%)" in frame.columns]
    assert tables
    impacts = pd.concat(tables).set_index("ticker")
    assert impacts.loc["NVDA", "CAR (%)"] < 0
    assert impacts.loc["VST", "CAR (%)"] < 0
    assert {"q", "confounds"} <= set(tables[0].columns)
    assert impacts.index.is_unique  # a ticker is in one of the two tables, not both
    tickers = frame_with(app, "why")
    assert {"NVDA", "VST"} <= set(tickers["ticker"])
    assert not frame_with(app, "source").empty  # the articles that form the event
    charts = plotly_specs(app)
    assert any("CAR" in (c["layout"].get("title", {}).get("text") or "") for c in charts)
    bands = [t for c in charts for t in c["data"] if "95% band" in (t.get("name") or "")]
    assert bands, "the CAR path has a continuous confidence band"
    baskets = frame_with(app, "effective N")
    assert (baskets["N"] >= 2).any()
    # issue 19: GRANK, skewness-corrected t, resampling p-values, BHAR and MDE are shown
    shown = baskets[baskets["N"] >= 3]
    for column in ("grank_z", "skew_t", "placebo p", "bootstrap p", "BHAR mean (%)", "MDE (%)"):
        assert shown[column].notna().all(), column
    assert ((shown["placebo p"] > 0) & (shown["placebo p"] <= 1)).all()
    assert impacts.loc["NVDA", "MDE (%)"] > 0
    assert impacts.loc["NVDA", "BHAR (%)"] < 0


def test_live_page_shows_headlines_and_freshness(open_app, demo_database_url):
    app = open_app(demo_database_url, "live")
    assert_rendered(app, "Live")
    headlines = frame_with(app, "headline")
    assert len(headlines) > 0
    assert not headlines["headline"].str.contains("<script", case=False).any()
    assert any("Data freshness" in w.value for w in app.warning)


def test_event_page_opens_from_a_slug_as_digest_links_do(open_app, demo_url):
    database = Database.connect(demo_url)
    with database.session() as session:
        (event,) = search_events(session, EventFilter(text="Stargate Project", origin="curated"))
    database.dispose()
    app = open_app(demo_url, "event_detail", event=event.slug)
    assert_rendered(app, "Event detail")
    assert any("Stargate" in h.value for h in app.header)
    tickers = frame_with(app, "why")
    assert "ORCL" in set(tickers["ticker"])


def test_a_hostile_event_parameter_is_shown_as_text(open_app, demo_database_url):
    hostile = "[Click to re-login](https://evil.example/phish) ![x](https://evil.example/t.png)"
    app = open_app(demo_database_url, "event_detail", event=hostile)
    assert not app.exception
    warnings = [w.value for w in app.warning]
    assert warnings, "an unknown event is explained"
    for text in warnings:
        assert "](https://evil.example" not in text  # markdown link syntax escaped
        assert "\\[Click" in text


def test_r1_event_shows_its_attention_day0_both_anchors_and_the_strip(open_app, demo_database_url):
    app = open_app(demo_database_url, "event_detail", event="2025-01-20-deepseek-r1-released")
    assert_rendered(app, "Event detail")
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Day 0 (publication)"] == "2025-01-21"
    assert metrics["Attention day 0"] == "2025-01-27"
    assert metrics["Lag (sessions)"] == "4"
    side = frame_with(app, "CAR [+0,+1] at attention (%)").set_index("ticker")
    # [0,+1] from the sell-off includes the 01-28 rebound; at publication it is a small move
    assert side.loc["NVDA", "CAR [+0,+1] at attention (%)"] < -5
    assert abs(side.loc["NVDA", "CAR [+0,+1] at publication (%)"]) < 5
    assert side.loc["NVDA", "value change at attention ($bn)"] == pytest.approx(
        24.49 * (128.99 - 142.62), rel=1e-3
    )
    app.multiselect(key="strip").set_value(["NVDA", "basket:ai_semis"]).run()
    charts = plotly_specs(app)
    strips = [c for c in charts if c["layout"].get("xaxis", {}).get("title", {}).get("text")
              == "day 0 shifted by (sessions)"]  # fmt: skip
    assert strips
    nvda = next(t for t in strips[0]["data"] if t["name"] == "NVDA")
    assert nvda["x"][nvda["y"].index(min(nvda["y"]))] == "+4"  # the price moved on 01-27
    attention = [c for c in charts if "articles" in [t.get("name") for t in c["data"]]]
    assert attention, "the attention series is plotted"


def test_selloff_value_change_is_shown_in_dollars(open_app, demo_database_url):
    app = open_app(
        demo_database_url, "event_detail",
        event="2025-01-27-nvidia-falls-about-17-in-record-one-day-value-loss",
    )  # fmt: skip
    assert_rendered(app, "Event detail")
    impacts = frame_with(app, "value change ($bn)").set_index("ticker")
    # window [0,+1] by default: 142.62 -> 128.99 over two sessions, 24.49 bn shares
    assert impacts.loc["NVDA", "value change ($bn)"] == pytest.approx(
        24.49 * (128.99 - 142.62), rel=1e-3
    )
