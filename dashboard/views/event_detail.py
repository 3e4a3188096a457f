"""Event detail: what the news was, which stocks it touches and why, and what it did to them."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import _data, _ui
from dashboard.charts import car_bar_figure, car_path_figure
from tracker.errors import TrackerError
from tracker.news.normalize import safe_http_url
from tracker.query import (
    DEFAULT_MODEL,
    DEFAULT_WINDOW,
    EventDetail,
    EventFilter,
    FirmImpactRow,
    TickerAttribution,
)

GROUP_COLUMNS = (
    ("caar", None),
    ("patell_z", "patell_p"),
    ("patell_kp_z", "patell_kp_p"),
    ("bmp_t", "bmp_p"),
    ("kp_t", "kp_p"),
    ("cda_t", "cda_p"),
    ("corrado_z", "corrado_p"),
    ("gsign_z", "gsign_p"),
    ("grank_z", "grank_p"),
    ("skew_t", "skew_p"),
)
# resampling p-values shown as they are (no statistic of their own)
GROUP_P_COLUMNS = (("perm_p", "placebo p"), ("boot_p", "bootstrap p"))


def _percent(value: Any) -> float | None:
    return None if value is None else float(value) * 100.0


PICKER_LIMIT = 300


def _label(window: tuple[int, int]) -> str:
    return f"[{window[0]:+d},{window[1]:+d}]"


def _pick_event() -> str | None:
    """The event in the URL (?event=ID), else one chosen from the latest events."""
    ref = st.query_params.get("event")
    recent = _data.events(EventFilter(limit=PICKER_LIMIT, sort="time"))
    if not recent:
        _ui.empty_state("No events yet.")
        return None
    labels = {
        f"{e.first_reported_at:%Y-%m-%d} · {e.title[:100]} (#{e.id})": str(e.id) for e in recent
    }
    ids = list(labels.values())
    index = ids.index(ref) if ref in ids else None
    chosen = st.selectbox(
        "Event",
        list(labels),
        index=index,
        placeholder="choose an event (or open one from the timeline or the events table)",
    )
    if chosen is not None and labels[chosen] != ref:
        st.query_params["event"] = labels[chosen]
        return labels[chosen]
    return ref


def _header(detail: EventDetail) -> None:
    st.header(_ui.md_escape(detail.title))
    facts = st.columns(5)
    facts[0].metric("Kind", detail.kind)
    facts[1].metric("Origin", detail.origin)
    facts[2].metric("Day 0 (first session)", detail.day0.isoformat() if detail.day0 else "—")
    facts[3].metric("Articles", detail.article_count)
    facts[4].metric("Sources", detail.source_count)
    st.caption(
        f"First reported {_ui.reported(detail.first_reported_at, detail.origin)} (US Eastern)"
    )
    if detail.description:
        st.text(detail.description)
    link = safe_http_url(detail.reference_url)
    if link:
        st.link_button("Reference", link)
    story = _data.story_of(detail.id)
    if story is not None:
        st.caption(f"Part of the story: {_ui.md_escape(story.title)} ({story.event_count} events)")
        if st.button(f"Open story: {_ui.md_escape(story.title[:100])}", key="open_story"):
            _ui.open_story(story.id)


def _articles(detail: EventDetail) -> None:
    st.subheader("Articles")
    if not detail.articles:
        st.caption("No articles attached (a curated event from the timeline).")
        return
    frame = pd.DataFrame(
        {
            "time (ET)": [_ui.eastern(a.published_at) for a in detail.articles],
            "source": [a.source for a in detail.articles],
            "title": [a.title for a in detail.articles],
            "link": [safe_http_url(a.url) for a in detail.articles],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            "title": st.column_config.TextColumn(width="large"),
            "link": st.column_config.LinkColumn("link", display_text="open"),
        },
    )


def _tickers(detail: EventDetail) -> None:
    st.subheader("Affected tickers and why")
    if not detail.tickers:
        st.caption("No tickers linked to this event.")
        return
    frame = pd.DataFrame(
        {
            "ticker": [t.ticker for t in detail.tickers],
            "name": [t.name for t in detail.tickers],
            "relevance": [t.relevance for t in detail.tickers],
            "why": [t.reason for t in detail.tickers],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        height=min(400, 38 + 35 * len(frame)),
        column_config={"why": st.column_config.TextColumn(width="large")},
    )


def _number_formats(frame: pd.DataFrame) -> dict[str, Any]:
    """Percentages and statistics to two decimals, p-values to four."""
    formats: dict[str, Any] = {}
    for column in frame.columns:
        if column in ("p", "q") or column.endswith((" p", " q")):
            formats[column] = st.column_config.NumberColumn(format="%.4f")
        elif pd.api.types.is_float_dtype(frame[column]):
            formats[column] = st.column_config.NumberColumn(format="%.2f")
    return formats


def _confound_text(attribution: TickerAttribution | None) -> str:
    if attribution is None or not attribution.confounds:
        return ""
    return "; ".join(f"{c.kind} {c.date.isoformat()}: {c.title}" for c in attribution.confounds)


def _impact_table(
    rows: list[FirmImpactRow], attribution: dict[str, TickerAttribution] | None = None
) -> pd.DataFrame:
    """AR by event day and CAR with its test, one row per ticker (all from the engine).

    ``sig`` marks q < the configured FDR level (Benjamini-Hochberg across the event's
    tickers); the raw p is still shown. ``confounds`` lists what else was in the window.
    """
    level = _data.settings().fdr_level
    records: list[dict[str, Any]] = []
    for row in rows:
        ars = row.statistics.get("ar") or {}
        found = (attribution or {}).get(row.ticker)
        record: dict[str, Any] = {"ticker": row.ticker, "status": row.status}
        if found is not None and found.attributed_to is not None:
            record["attributed to"] = found.attributed_to.title
        for day in sorted(ars, key=int):
            value = ars[day]
            record[f"AR {int(day):+d} (%)"] = None if value is None else value * 100.0
        record["CAR (%)"] = None if row.car is None else row.car * 100.0
        record["t"] = row.car_t
        record["p"] = row.car_p
        record["q"] = row.q_value
        record["sig"] = "yes" if row.q_value is not None and row.q_value < level else ""
        record["raw return (%)"] = None if row.raw_return is None else row.raw_return * 100.0
        record["BHAR (%)"] = _percent(row.statistics.get("bhar"))
        record["MDE (%)"] = _percent(row.statistics.get("mde"))
        record["confounded"] = "⚠" if found is not None and found.confounds else ""
        record["confounds"] = _confound_text(found)
        value = row.statistics.get("value_change")
        record["value change ($bn)"] = None if value is None else value / 1e9
        records.append(record)
    return pd.DataFrame(records)


def _value_changes(detail: EventDetail, rows: list[FirmImpactRow], window: tuple[int, int]) -> None:
    """Dollars per basket (summed by the measure layer's one function) and missing counts."""
    from tracker.measure.payload import basket_value_change

    by_ticker = {
        r.ticker: {"ticker": r.ticker, "value_change": r.statistics.get("value_change")}
        for r in rows
    }
    missing = sorted(t for t, f in by_ticker.items() if f["value_change"] is None)
    lines = []
    for group in detail.group_impacts:
        if (group.window_start, group.window_end) != window:
            continue
        members = [by_ticker[t] for t in group.statistics.get("members", []) if t in by_ticker]
        summed = basket_value_change(members)
        if summed["value_change"] is not None:
            lines.append(
                f"**{_ui.md_escape(group.basket)}**: {summed['value_change'] / 1e9:+,.1f} bn USD "
                f"over {len(summed['counted'])} of {len(members)} members"
            )
    if lines:
        st.markdown("Market-value change " + _label(window) + ": " + "; ".join(sorted(set(lines))))
    if missing:
        st.caption(
            "No share count stored (value change not shown): " + _ui.md_escape(", ".join(missing))
        )


def _car_path(event_id: int, model: str, tickers: list[str]) -> None:
    """CAR[0,t] for t = 0..+5 with a 95% band from the engine's per-day standard errors."""
    if not tickers:
        return
    path = _data.car_paths(event_id, tickers, model)
    usable = path.dropna(subset=["car"])
    by_ticker = {str(t): rows.set_index("day") for t, rows in usable.groupby("ticker")}
    paths = {t: rows["car"] for t, rows in by_ticker.items()}
    errors = {t: rows["car_se"] for t, rows in by_ticker.items()}
    if not paths:
        st.caption("No complete CAR path for these tickers yet (window still open or no data).")
        return
    st.plotly_chart(car_path_figure(paths, errors), width="stretch")
    st.caption(
        "The band is ±1.96 forecast-error-corrected standard errors of CAR[0,t] for each day t "
        "(the engine's window variance, not a sum of daily variances)."
    )


def _groups(detail: EventDetail, model: str, window: tuple[int, int]) -> None:
    st.subheader(f"Basket CAAR {_label(window)}")
    rows = [
        g
        for g in detail.group_impacts
        if g.model == model and (g.window_start, g.window_end) == window
    ]
    if not rows:
        st.caption("No basket results for this model and window.")
        return
    records = []
    for g in rows:
        stats = g.statistics
        record: dict[str, Any] = {"basket": g.basket, "status": g.status, "N": g.n}
        record["effective N"] = stats.get("effective_n")
        record["mean corr"] = stats.get("mean_corr")
        for name, p_name in GROUP_COLUMNS:
            value = stats.get(name)
            if name == "caar":
                record["CAAR (%)"] = None if value is None else value * 100.0
                continue
            p_value = stats.get(p_name) if p_name else None
            record[name] = value
            record[f"{name} sig"] = _ui.significance_mark(p_value)
        for p_name, label in GROUP_P_COLUMNS:
            record[label] = stats.get(p_name)
        record["BHAR mean (%)"] = _percent(stats.get("bhar_mean"))
        record["MDE (%)"] = _percent(stats.get("mde"))
        records.append(record)
    frame = pd.DataFrame(records)
    st.dataframe(frame, hide_index=True, column_config=_number_formats(frame))
    st.caption(
        "Patell Z, BMP t and their Kolari–Pynnönen adjustments for cross-correlation (kp), "
        "Brown–Warner crude dependence t (cda), Corrado rank z, generalised sign z, "
        "Kolari–Pynnönen generalised rank (grank) and skewness-corrected t (skew); placebo p "
        "from pseudo-event windows of the basket's own history, bootstrap p from a wild "
        "bootstrap of the cross-sectional t. MDE: the smallest CAAR these data would detect "
        "at 5% with 80% power (docs/impact.md). *** p<0.01, ** p<0.05, * p<0.10."
    )


def _intraday(event_id: int) -> None:
    st.subheader("Intraday reaction")
    try:
        reactions = _data.intraday(event_id)
    except TrackerError as exc:
        st.caption(_ui.md_escape(str(exc)))
        return
    usable = [r for r in reactions if r.status != "no_bars"]
    if not usable:
        st.caption(
            "No intraday bars around this event for its tickers "
            "(the recorded data holds hourly SPY and QQQ only)."
        )
        return
    records = []
    for r in usable:
        record: dict[str, Any] = {"ticker": r.ticker, "status": r.status, "vs": r.benchmark or ""}
        for horizon, value in r.returns.items():
            record[f"{horizon} (%)"] = value * 100.0
        for horizon, value in r.excess_returns.items():
            record[f"{horizon} excess (%)"] = value * 100.0
        records.append(record)
    st.dataframe(pd.DataFrame(records), hide_index=True)


def render() -> None:
    st.title("Event detail")
    if _ui.require_data() is None:
        return
    ref = _pick_event()
    if ref is None:
        return
    problem = _ui.event_ref_problem(ref)
    if problem is not None:
        st.warning(_ui.md_escape(problem))
        return
    try:
        detail = _data.event_detail(ref)
    except TrackerError as exc:
        st.warning(_ui.md_escape(str(exc)))
        return
    _header(detail)
    _articles(detail)
    _tickers(detail)
    st.divider()
    windows = sorted({(f.window_start, f.window_end) for f in detail.firm_impacts})
    models = sorted({f.model for f in detail.firm_impacts})
    if not windows:
        st.info("No impact measured for this event yet — run `tracker impact compute`.")
        _intraday(detail.id)
        return
    pick = st.columns(2)
    window = pick[0].selectbox(
        "Event window",
        windows,
        index=windows.index(DEFAULT_WINDOW) if DEFAULT_WINDOW in windows else 0,
        format_func=_label,
    )
    model = pick[1].selectbox(
        "Model", models, index=models.index(DEFAULT_MODEL) if DEFAULT_MODEL in models else 0
    )
    rows = [
        f
        for f in detail.firm_impacts
        if f.model == model and (f.window_start, f.window_end) == window
    ]
    attribution = _data.event_attribution_of(detail.id, window, model)
    here = [r for r in rows if not (r.ticker in attribution and attribution[r.ticker].elsewhere)]
    elsewhere = [r for r in rows if r.ticker in attribution and attribution[r.ticker].elsewhere]
    st.subheader(f"Moves attributed to this event: CAR {_label(window)} ({model} model)")
    table = _impact_table(here, attribution)
    if table.empty:
        st.caption("No ticker's day-0 move is attributed to this event.")
    else:
        st.dataframe(table, hide_index=True, column_config=_number_formats(table))
    st.caption(
        f"sig: Benjamini-Hochberg q < {_data.settings().fdr_level:g} across the event's "
        "tickers (raw p shown); ⚠: other news, earnings, macro releases, ex-dividend days or "
        "splits fall inside the window, listed under confounds. Value change: shares "
        "outstanding in force before day 0 x the raw close change over the window."
    )
    if elsewhere:
        st.subheader("Moves in this window attributed elsewhere")
        other = _impact_table(elsewhere, attribution)
        st.dataframe(other, hide_index=True, column_config=_number_formats(other))
        st.caption(
            "These tickers are linked to this event, but their day-0 move is credited to the "
            "event named in 'attributed to' (`tracker query attribution TICKER --date DAY`)."
        )
    table = _impact_table(rows, attribution)
    _value_changes(detail, rows, window)
    measured = table.dropna(subset=["CAR (%)"]) if not table.empty else table
    if not measured.empty:
        bars = pd.DataFrame(
            {
                "ticker": measured["ticker"],
                "car": measured["CAR (%)"] / 100.0,
                "car_p": measured["p"],
            }
        )
        st.plotly_chart(car_bar_figure(bars, _label(window)), width="stretch")
        top = measured.reindex(measured["CAR (%)"].abs().sort_values(ascending=False).index)
        chosen = st.multiselect(
            "CAR path for", list(measured["ticker"]), default=list(top["ticker"][:4])
        )
        _car_path(detail.id, model, chosen)
    _groups(detail, model, window)
    _attention(detail, model, window)
    _intraday(detail.id)


def _attention(detail: EventDetail, model: str, window: tuple[int, int]) -> None:
    """When the market noticed: attention by session, both anchors side by side, the strip."""
    from dashboard.charts import attention_figure, sensitivity_figure

    st.subheader("Attention and day 0")
    attention = _data.event_attention(detail.id, model)
    onset = attention.detail.get("onset") or {}
    facts = st.columns(4)
    facts[0].metric("Day 0 (publication)", str(attention.day0 or "—"))
    facts[1].metric("Attention day 0", str(attention.attention_day0 or "same / none"))
    facts[2].metric("Lag (sessions)", attention.lag_sessions if attention.lag_sessions else 0)
    facts[3].metric(
        "Surge", f"{onset.get('articles', 0)} articles, {onset.get('sources', 0)} sources"
    )
    subject = (attention.detail.get("subject") or {}).get("label", "")
    st.caption(
        "Attention to "
        + _ui.md_escape(subject or "no subject")
        + ": the first session whose article count is a robust-z surge over the trailing "
        "median with broad coverage (tracker.impact.onset); "
        + _ui.md_escape(str(attention.detail.get("result", "not computed yet")))
    )
    series = _data.event_attention_series(detail.id)
    if not series.empty:
        st.plotly_chart(
            attention_figure(series, attention.day0, attention.attention_day0),
            width="stretch",
        )
    anchored = attention.at_attention(window)
    publication = {
        f.ticker: f
        for f in detail.firm_impacts
        if f.model == model and (f.window_start, f.window_end) == window
    }
    if anchored:
        records = []
        for ticker, row in sorted(publication.items()):
            other = anchored.get(ticker)
            records.append(
                {
                    "ticker": ticker,
                    f"CAR {_label(window)} at publication (%)": None
                    if row.car is None
                    else row.car * 100.0,
                    "p (publication)": row.car_p,
                    f"CAR {_label(window)} at attention (%)": None
                    if other is None or other.car is None
                    else other.car * 100.0,
                    "p (attention)": None if other is None else other.car_p,
                    "value change at attention ($bn)": None
                    if other is None or other.value_change is None
                    else other.value_change / 1e9,
                }
            )
        frame = pd.DataFrame(records)
        st.dataframe(frame, hide_index=True, column_config=_number_formats(frame))
    with_strip = sorted({r.subject for r in attention.rows if r.anchor == "shift"})
    if not with_strip:
        return
    biggest = sorted(
        (s for s in with_strip if not s.startswith("basket:")),
        key=lambda s: (
            -max((abs(r.car) for r in attention.strip(s) if r.car is not None), default=0)
        ),
    )
    default = [s for s in with_strip if s.startswith("basket:")] + biggest[:3]
    subjects = st.multiselect("Sensitivity strip for", with_strip, default=default, key="strip")
    strips = {s: [(r.shift, r.day0, r.car) for r in attention.strip(s)] for s in subjects}
    strips = {s: strip for s, strip in strips.items() if strip}
    if strips:
        st.markdown("**Sensitivity: CAR[0,0] with day 0 shifted (sessions)**")
        st.plotly_chart(sensitivity_figure(strips), width="stretch")


render()
