"""Plotly figure builders: pure functions from query results to figures (no Streamlit, no DB).

Kept apart from the pages so they can be tested and benchmarked without a browser, and so
each chart has one place that decides how it looks.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

MARKET_TZ = ZoneInfo("America/New_York")
Z95 = 1.959963984540054  # two-sided 95% normal quantile, for the confidence band
NEGATIVE = "#d62728"
POSITIVE = "#2ca02c"
KIND_COLOURS = {
    "model_release": "#1f77b4",
    "product": "#9467bd",
    "market_move": "#d62728",
    "earnings": "#ff7f0e",
    "policy": "#8c564b",
    "news": "#7f7f7f",
    "corporate": "#17becf",
    "security": "#e377c2",
}


@dataclass(frozen=True)
class EventMarker:
    """One event on the timeline: placed on its first affected session (day 0)."""

    event_id: int
    title: str
    kind: str
    origin: str
    day0: date
    first_reported_at: datetime  # aware UTC, shown in US Eastern
    source_count: int


def market_time(moment: datetime) -> str:
    """A UTC instant as US Eastern wall time, the market's own clock."""
    return moment.astimezone(MARKET_TZ).strftime("%Y-%m-%d %H:%M %Z")


def rangebreaks(closed_weekdays: Sequence[date]) -> list[dict[str, object]]:
    """Hide weekends and exchange holidays so sessions sit side by side."""
    breaks: list[dict[str, object]] = [{"bounds": ["sat", "mon"]}]
    if closed_weekdays:
        breaks.append({"values": [day.isoformat() for day in closed_weekdays]})
    return breaks


def timeline_figure(
    closes: pd.DataFrame,
    markers: Sequence[EventMarker],
    closed_weekdays: Sequence[date],
    *,
    rebased: bool,
) -> go.Figure:
    """Price lines (one per ticker) over a strip of event markers sharing the session axis."""
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.76, 0.24],
        vertical_spacing=0.03,
    )
    for ticker in closes.columns:
        series = closes[ticker].dropna()
        figure.add_trace(
            go.Scatter(
                x=series.index,
                y=series.to_numpy(),
                mode="lines",
                name=str(ticker),
                hovertemplate=f"{ticker} %{{x|%Y-%m-%d}}: %{{y:.2f}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    if markers:
        kinds = sorted({marker.kind for marker in markers})
        for kind in kinds:
            chosen = [marker for marker in markers if marker.kind == kind]
            figure.add_trace(
                go.Scatter(
                    x=[pd.Timestamp(marker.day0) for marker in chosen],
                    y=[kind for _ in chosen],
                    mode="markers",
                    name=f"event: {kind}",
                    showlegend=False,
                    marker={
                        "symbol": "diamond",
                        "size": 11,
                        "color": KIND_COLOURS.get(kind, "#bcbd22"),
                        "line": {"width": 1, "color": "white"},
                    },
                    customdata=[
                        [
                            marker.event_id,
                            html.escape(marker.title),  # Plotly renders tags in hover text
                            market_time(marker.first_reported_at),
                            marker.source_count,
                            marker.origin,
                        ]
                        for marker in chosen
                    ],
                    hovertemplate=(
                        "<b>%{customdata[1]}</b><br>first reported %{customdata[2]}"
                        "<br>sources: %{customdata[3]} (%{customdata[4]})<extra></extra>"
                    ),
                ),
                row=2,
                col=1,
            )
    figure.update_xaxes(rangebreaks=rangebreaks(closed_weekdays))
    figure.update_yaxes(title_text="index (100 at base date)" if rebased else "close", row=1, col=1)
    figure.update_yaxes(type="category", tickfont={"size": 10}, row=2, col=1)
    figure.update_layout(
        height=680,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        hovermode="closest",
        legend={"orientation": "h", "y": 1.06, "x": 0},
        clickmode="event+select",
    )
    return figure


def car_bar_figure(cars: pd.DataFrame, window_label: str) -> go.Figure:
    """CAR per ticker (``ticker``, ``car``, ``car_p``), sorted, red for losses."""
    ordered = cars.sort_values("car")
    colours = [NEGATIVE if value < 0 else POSITIVE for value in ordered["car"]]
    figure = go.Figure(
        go.Bar(
            x=ordered["ticker"],
            y=ordered["car"] * 100.0,
            marker_color=colours,
            customdata=ordered[["car_p"]].to_numpy(),
            hovertemplate="%{x}: CAR %{y:.2f}% (p=%{customdata[0]:.3f})<extra></extra>",
        )
    )
    figure.update_layout(
        height=360,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        title=f"CAR {window_label} by ticker (%)",
        yaxis_title="CAR (%)",
    )
    return figure


def car_path_figure(paths: Mapping[str, pd.Series], errors: Mapping[str, pd.Series]) -> go.Figure:
    """Cumulative abnormal return by event day, one line per ticker, with a 95% band.

    ``paths[ticker]`` is CAR by relative day; ``errors[ticker]`` the standard error of the
    cumulative return at the days where the engine gives one. A complete error series draws a
    shaded band; a partial one draws error bars only where it is known (never interpolated).
    """
    figure = go.Figure()
    for ticker, path in paths.items():
        se = errors.get(ticker, pd.Series(dtype=float)).reindex(path.index)
        known = se.notna()
        if known.all() and len(se) > 1:
            upper = (path + Z95 * se) * 100.0
            lower = (path - Z95 * se) * 100.0
            figure.add_trace(
                go.Scatter(
                    x=list(path.index) + list(path.index[::-1]),
                    y=list(upper) + list(lower[::-1]),
                    fill="toself",
                    opacity=0.2,
                    line={"width": 0},
                    name=f"{ticker} 95% band",
                    hoverinfo="skip",
                )
            )
        error_y = None
        if known.any() and not known.all():
            error_y = {"type": "data", "array": (Z95 * se * 100.0).tolist(), "visible": True}
        figure.add_trace(
            go.Scatter(
                x=list(path.index),
                y=(path * 100.0).tolist(),
                mode="lines+markers",
                name=ticker,
                error_y=error_y,
                hovertemplate=f"{ticker} day %{{x:+d}}: CAR %{{y:.2f}}%<extra></extra>",
            )
        )
    figure.add_hline(y=0, line={"color": "grey", "width": 1})
    figure.update_layout(
        height=380,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        title="CAR path over the event window (%), 95% interval",
        xaxis_title="trading day relative to day 0",
        yaxis_title="CAR (%)",
    )
    figure.update_xaxes(dtick=1)
    return figure


def movers_figure(movers: pd.DataFrame) -> go.Figure:
    """Abnormal return per ticker on one session (``ticker``, ``ar``), biggest first."""
    ordered = movers.sort_values("ar")
    figure = go.Figure(
        go.Bar(
            x=ordered["ar"] * 100.0,
            y=ordered["ticker"],
            orientation="h",
            marker_color=[NEGATIVE if v < 0 else POSITIVE for v in ordered["ar"]],
            hovertemplate="%{y}: AR %{x:.2f}%<extra></extra>",
        )
    )
    figure.update_layout(
        height=max(260, 22 * len(ordered)),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title="abnormal return vs benchmark (%)",
    )
    return figure


def attention_figure(
    counts: pd.DataFrame,
    day0: date | None = None,
    attention_day0: date | None = None,
    *,
    title: str = "Attention",
) -> go.Figure:
    """Articles (bars) and distinct sources (line) per session or hour, with both day 0s.

    ``counts`` has a ``session`` or ``hour`` column, ``articles`` and ``sources`` (the
    query layer's ``event_attention_series``/``entity_attention_series``); a story page can
    call this with a story's series. Sessions with no collected coverage (NaN) are gaps.
    """
    axis = "session" if "session" in counts.columns else "hour"
    x = [str(v) for v in counts[axis]] if axis == "session" else list(counts[axis])
    figure = go.Figure()
    figure.add_bar(x=x, y=counts["articles"], name="articles", marker_color="#1f77b4")
    figure.add_scatter(
        x=x, y=counts["sources"], name="sources", mode="lines+markers", line={"color": "#ff7f0e"}
    )
    for day, label, colour in (
        (day0, "day 0 (publication)", "#7f7f7f"),
        (attention_day0, "attention day 0", NEGATIVE),
    ):
        if day is not None and axis == "session" and str(day) in x:
            figure.add_vline(x=x.index(str(day)), line_dash="dash", line_color=colour)
            figure.add_annotation(
                x=str(day), y=1, yref="paper", text=label, showarrow=False, font={"color": colour}
            )
    figure.update_layout(
        title=html.escape(title),
        xaxis={"type": "category"} if axis == "session" else {},
        yaxis_title="count",
        height=320,
        margin={"t": 50, "b": 40},
        legend={"orientation": "h"},
    )
    return figure


def sensitivity_figure(strips: Mapping[str, Sequence[tuple[int, date, float | None]]]) -> go.Figure:
    """CAR[0,0] with day 0 shifted by -2..+5 sessions, one bar group per ticker or basket.

    ``strips`` maps a subject to (shift, shifted day 0, CAR) triples: the bar that stands out
    is the session the price moved.
    """
    figure = go.Figure()
    for subject, strip in strips.items():
        figure.add_bar(
            x=[f"{shift:+d}" for shift, _, _ in strip],
            y=[None if car is None else car * 100.0 for _, _, car in strip],
            name=html.escape(subject),
            customdata=[day.isoformat() for _, day, _ in strip],
            hovertemplate="shift %{x} (%{customdata}): CAR[0,0] %{y:.2f}%<extra>"
            + html.escape(subject)
            + "</extra>",
        )
    figure.update_layout(
        barmode="group",
        xaxis_title="day 0 shifted by (sessions)",
        yaxis_title="CAR[0,0] (%)",
        height=320,
        margin={"t": 30, "b": 40},
        legend={"orientation": "h"},
    )
    return figure


@dataclass(frozen=True)
class StoryPoint:
    """One event of a story on its timeline, with its headline impact if measured."""

    event_id: int
    title: str
    kind: str
    first_reported_at: datetime  # aware UTC, shown in US Eastern
    importance: float
    top_ticker: str | None
    top_car: float | None  # fraction


def story_timeline_figure(points: Sequence[StoryPoint]) -> go.Figure:
    """A story's events in time: height is the headline CAR (%), size the importance.

    Events not measured yet sit on the zero line in grey, so the thread reads whole.
    """
    figure = go.Figure()
    for measured in (True, False):
        chosen = [p for p in points if (p.top_car is not None) == measured]
        if not chosen:
            continue
        figure.add_trace(
            go.Scatter(
                x=[p.first_reported_at.astimezone(MARKET_TZ) for p in chosen],
                y=[(p.top_car or 0.0) * 100.0 for p in chosen],
                mode="markers",
                name="measured" if measured else "not measured",
                marker={
                    "size": [8 + p.importance / 5 for p in chosen],
                    "color": [KIND_COLOURS.get(p.kind, "#7f7f7f") for p in chosen]
                    if measured
                    else "#c7c7c7",
                    "line": {"width": 1, "color": "#333333"},
                },
                # Plotly renders tags in hover text: feed titles are escaped
                customdata=[
                    [
                        html.escape(p.title[:120]),
                        html.escape(p.top_ticker or "—"),
                        f"{p.importance:.0f}",
                    ]
                    for p in chosen
                ],
                hovertemplate=(
                    "%{customdata[0]}<br>%{x|%Y-%m-%d %H:%M} ET<br>"
                    "headline CAR %{y:.2f}% (%{customdata[1]}) · importance %{customdata[2]}"
                    "<extra></extra>"
                ),
            )
        )
    figure.add_hline(y=0, line_width=1, line_color="#999999")
    figure.update_layout(
        height=380,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis_title="headline CAR [0,+1] (%)",
        hovermode="closest",
        legend={"orientation": "h"},
    )
    return figure
