"""Figure builders: the session axis, event markers in market time, the CAR band."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd

from dashboard.charts import EventMarker, car_path_figure, market_time, timeline_figure


def test_event_time_is_shown_in_us_eastern():
    # 21:00 UTC in January is 16:00 EST, the NYSE close
    assert market_time(datetime(2025, 1, 27, 21, 0, tzinfo=UTC)) == "2025-01-27 16:00 EST"
    assert market_time(datetime(2025, 7, 14, 20, 0, tzinfo=UTC)) == "2025-07-14 16:00 EDT"


def test_timeline_places_markers_on_day0_and_hides_closed_days():
    closes = pd.DataFrame(
        {"NVDA": [142.62, 118.42]}, index=pd.to_datetime(["2025-01-24", "2025-01-27"])
    )
    marker = EventMarker(
        7,
        "DeepSeek app tops the App Store",
        "product",
        "curated",
        date(2025, 1, 27),
        datetime(2025, 1, 26, tzinfo=UTC),
        3,
    )
    figure = timeline_figure(closes, [marker], [date(2025, 1, 20)], rebased=False)
    events = next(t for t in figure.data if t.name == "event: product")
    assert pd.Timestamp(events.x[0]) == pd.Timestamp("2025-01-27")
    assert events.customdata[0][0] == 7
    assert "2025-01-25 19:00 EST" in events.customdata[0][2]
    breaks = figure.layout.xaxis.rangebreaks
    assert breaks[0].bounds == ("sat", "mon")
    assert breaks[1].values == ("2025-01-20",)


def test_marker_hover_text_is_escaped():
    closes = pd.DataFrame({"NVDA": [142.62]}, index=pd.to_datetime(["2025-01-27"]))
    hostile = '<a href="https://evil.example">click</a> <b>bold</b>'
    marker = EventMarker(
        8, hostile, "news", "detected", date(2025, 1, 27), datetime(2025, 1, 27, tzinfo=UTC), 1
    )
    figure = timeline_figure(closes, [marker], [], rebased=False)
    events = next(t for t in figure.data if t.name == "event: news")
    assert "<a " not in events.customdata[0][1]
    assert "&lt;a href=" in events.customdata[0][1]


def test_car_path_draws_a_band_only_when_every_day_has_a_standard_error():
    path = pd.Series([-0.13, -0.07, -0.10], index=[0, 1, 2])
    complete = car_path_figure(
        {"NVDA": path}, {"NVDA": pd.Series([0.03, 0.04, 0.05], index=[0, 1, 2])}
    )
    assert any(t.fill == "toself" for t in complete.data)

    partial = car_path_figure({"NVDA": path}, {"NVDA": pd.Series([0.03, 0.05], index=[0, 2])})
    assert not any(t.fill == "toself" for t in partial.data)
    line = next(t for t in partial.data if t.name == "NVDA")
    bars = list(line.error_y.array)
    assert bars[1] != bars[1]  # NaN: no interval invented for day +1
    assert abs(bars[0] - 1.959963984540054 * 3.0) < 1e-9


def test_attention_figure_marks_both_day0s_and_escapes_its_title():
    from dashboard.charts import attention_figure

    counts = pd.DataFrame(
        {
            "session": [date(2025, 1, 21), date(2025, 1, 24), date(2025, 1, 27)],
            "articles": [6.0, 0.0, 18.0],
            "sources": [1.0, 0.0, 10.0],
        }
    )
    figure = attention_figure(counts, date(2025, 1, 21), date(2025, 1, 27), title="<b>deepseek</b>")
    assert [trace.name for trace in figure.data] == ["articles", "sources"]
    assert list(figure.data[0].y) == [6.0, 0.0, 18.0]
    texts = [a.text for a in figure.layout.annotations]
    assert texts == ["day 0 (publication)", "attention day 0"]
    assert figure.layout.title.text == "&lt;b&gt;deepseek&lt;/b&gt;"
    lines = [shape.x0 for shape in figure.layout.shapes]
    assert lines == [0, 2]  # category positions of 01-21 and 01-27


def test_sensitivity_figure_has_one_bar_per_shift_in_percent():
    from dashboard.charts import sensitivity_figure

    strip = [(-1, date(2025, 1, 17), 0.0027), (0, date(2025, 1, 21), -0.0033),
             (4, date(2025, 1, 27), -0.1333)]  # fmt: skip
    figure = sensitivity_figure({"NVDA": strip, "basket:<x>": strip[:1]})
    nvda = figure.data[0]
    assert list(nvda.x) == ["-1", "+0", "+4"]
    assert list(nvda.y) == [0.27, -0.33, -13.33]
    assert list(nvda.customdata) == ["2025-01-17", "2025-01-21", "2025-01-27"]
    assert figure.data[1].name == "basket:&lt;x&gt;"
