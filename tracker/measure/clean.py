"""Clean estimation windows: which sessions each ticker's market model must not learn from.

A market model fitted on days when the firm had its own news (another event's window, an
earnings release, an ex-dividend day or a split) or when a scheduled macro release moved
everything (FOMC decisions, CPI) learns those shocks as "normal" noise: sigma grows, and the
next event's t statistic shrinks. Careful event studies drop such days from the estimation
window (MacKinlay 1997, s. 4); the tracker does so by default
(``TRACKER_CLEAN_ESTIMATION_WINDOWS=false`` turns it off).

The mask is per ticker, not per (event, ticker): an event's own window never overlaps its
estimation window (the spec's [-250,-11] against windows inside [-5,+5]), so "other events'
windows" and "every linked event's window" exclude the same estimation days. It only
depends on stored facts, so an (event, ticker) pair gets the same numbers computed alone
or in a batch; and the pair fingerprints hash it, so a new event near a ticker's past
recomputes the results whose estimation windows it touches.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.impact.study import StudyParameters, Window
from tracker.measure.confounds import load_actions, macro_releases
from tracker.measure.links import load_links, session_positions


def event_span(params: StudyParameters) -> Window:
    """The widest event window of the study: what "an event's window" means here."""
    return (min(w[0] for w in params.event_windows), max(w[1] for w in params.event_windows))


def excluded_days(
    session: Session,
    tickers: Sequence[str],
    index: pd.DatetimeIndex,
    calendar: str,
    span: Window,
) -> pd.DataFrame:
    """Sessions x tickers booleans: True where the ticker's estimation must skip the day."""
    names = sorted(set(tickers))
    mask = np.zeros((len(index), len(names)), dtype=bool)
    if not len(index) or not names:
        return pd.DataFrame(mask, index=index, columns=names)
    col = {t: i for i, t in enumerate(names)}
    links = load_links(session, calendar, names)
    if len(links):
        rows = session_positions(links["day0"], index)
        cols = links["ticker"].map(col).to_numpy(dtype=np.int64)
        for offset in range(span[0], span[1] + 1):
            _mark(mask, rows + offset, cols)
    actions = load_actions(session, names)
    if len(actions):
        _mark(
            mask,
            session_positions(actions["ex_date"], index),
            actions["ticker"].map(col).to_numpy(dtype=np.int64),
        )
    macro_rows = session_positions([m.day for m in macro_releases()], index)
    macro_rows = macro_rows[macro_rows < len(index)]
    exact = (
        index.to_numpy(dtype="datetime64[D]")[macro_rows]
        == np.array([np.datetime64(m.day, "D") for m in macro_releases()], dtype="datetime64[D]")[
            : len(macro_rows)
        ]
    )
    mask[macro_rows[exact], :] = True
    return pd.DataFrame(mask, index=index, columns=names)


def _mark(mask: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> None:
    inside = (rows >= 0) & (rows < mask.shape[0])
    mask[rows[inside], cols[inside]] = True


#: the days around another event's day 0 that are left out: the short window where news is
#: priced. The widest stored window [-5,+5] would leave a ticker in the news every few
#: weeks (GOOGL, AMZN on the demo database) with too few estimation days to be measured.
EXCLUDED_EVENT_WINDOW: Window = (-1, 1)


def exclusion_span(settings: Settings) -> Window | None:
    """The span every reader passes to load_market_inputs (None: clean windows are off).

    The same whatever window a query asks for, so a number computed on the fly equals the
    stored one.
    """
    if not settings.clean_estimation_windows:
        return None
    return EXCLUDED_EVENT_WINDOW
