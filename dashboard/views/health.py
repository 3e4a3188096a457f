"""Health: scheduled job runs, failing feeds and how fresh each ticker's prices are."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard import _auth, _data, _ui


def _jobs() -> None:
    st.subheader("Job runs")
    jobs = _data.jobs()
    if not jobs:
        st.info(
            "No job has run yet — `tracker run` starts the scheduler "
            "(`tracker demo` fills the database without it)."
        )
        return
    frame = pd.DataFrame(
        {
            "job": [j.job for j in jobs],
            "last status": [j.last_status for j in jobs],
            "last started (ET)": [_ui.eastern(j.last_started_at) for j in jobs],
            "last finished (ET)": [_ui.eastern(j.last_finished_at) for j in jobs],
            "runs": [j.runs for j in jobs],
            "failures": [j.failures for j in jobs],
            "last error": [j.last_error or "" for j in jobs],
        }
    )
    st.dataframe(frame, hide_index=True)


def _feeds() -> None:
    st.subheader("Failing feeds")
    feeds = _data.failing()
    if not feeds:
        st.success("No enabled feed is failing.", icon=":material/check_circle:")
        return
    frame = pd.DataFrame(
        {
            "feed": [f.name for f in feeds],
            "url": [f.url for f in feeds],
            "failing since (ET)": [_ui.eastern(f.failing_since) for f in feeds],
            "errors": [f.error_count for f in feeds],
            "last status": [f.last_status or "" for f in feeds],
            "last error": [f.last_error or "" for f in feeds],
            "last success (ET)": [_ui.eastern(f.last_success_at) for f in feeds],
        }
    )
    st.dataframe(frame, hide_index=True)


def _tickers(latest: date | None) -> None:
    st.subheader("Price freshness per ticker")
    bars = _data.instruments()
    frame = pd.DataFrame(
        {
            "ticker": [b.ticker for b in bars],
            "newest close": [b.latest_date for b in bars],
            "days behind newest": [
                None if b.latest_date is None or latest is None else (latest - b.latest_date).days
                for b in bars
            ],
        }
    )
    missing = int(frame["newest close"].isna().sum())
    if missing:
        st.warning(f"{missing} active instrument(s) have no stored prices.")
    st.dataframe(frame, hide_index=True)
    st.caption("Days are calendar days behind the newest stored close of any ticker.")


def _who() -> None:
    signed = _auth.signed_in()
    if signed is None or signed.mode == "off":
        st.caption("Login is off: the dashboard listens on loopback only.")
        return
    how = "OpenID Connect" if signed.mode == "oidc" else "the trusted sign-in proxy"
    st.text(f"Signed in as {signed.email} (via {how})")


def render() -> None:
    st.title("Pipeline health")
    _who()
    fresh = _ui.require_data()
    if fresh is None:
        _jobs()
        return
    _ui.freshness_badge(fresh)
    cols = st.columns(3)
    cols[0].metric("Articles stored", f"{fresh.article_count:,}")
    cols[1].metric(
        "Newest close", fresh.latest_bar_date.isoformat() if fresh.latest_bar_date else "—"
    )
    cols[2].metric("Instruments without prices", fresh.instruments_without_bars)
    _jobs()
    _feeds()
    _tickers(fresh.latest_bar_date)


render()
