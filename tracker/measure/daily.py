"""Every ticker's abnormal return on one session: "today's movers" for dashboard and digest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import select

from tracker.config import Settings
from tracker.db import Database
from tracker.db.models import DailyBar, Instrument
from tracker.errors import UserInputError
from tracker.impact.calendar import is_session
from tracker.impact.multitest import bh_qvalues
from tracker.impact.study import EventRequest
from tracker.measure.events import known_tickers
from tracker.measure.study import default_parameters, run_study
from tracker.measure.study_inputs import study_inputs

DAILY_COLUMNS = (
    "status",
    "raw_return",
    "benchmark_return",
    "ar",
    "t",
    "p",
    "q",
    "abnormal_volume",
    "value_change",
)


def daily_abnormal_returns(
    db: Database, settings: Settings, day: date, tickers: Sequence[str] | None = None
) -> pd.DataFrame:
    """Each ticker's abnormal return on one session (market model, window [0,0]).

    Rows are tickers (default: every instrument with a bar that day except the benchmark);
    columns: status, raw_return, benchmark_return, ar, t, p, q, abnormal_volume, value_change
    (dollars, NaN without a share count). The same engine as the stored event studies, with
    day 0 = ``day``; the dashboard's "today's movers" and the digest's "biggest abnormal
    movers" read it. ``q`` is the Benjamini-Hochberg q-value of ``p`` across every ticker of
    the frame: the day's movers are one family of tests.
    """
    params = replace(default_parameters(settings), event_windows=((0, 0),))
    if not is_session(day, params.calendar):
        raise UserInputError(f"{day.isoformat()} is not a {params.calendar} trading session")
    with db.session() as session:
        if tickers is None:
            names = session.scalars(
                select(Instrument.ticker)
                .join(DailyBar, DailyBar.instrument_id == Instrument.id)
                .where(DailyBar.date == day, Instrument.ticker != params.benchmark)
                .order_by(Instrument.ticker)
            )
            chosen = list(names)
        else:
            chosen = known_tickers(session, tickers)
        inputs = study_inputs(session, settings, params, chosen)
    frame = pd.DataFrame(columns=list(DAILY_COLUMNS), index=pd.Index([], name="ticker"))
    if not chosen:
        return frame
    result = run_study(inputs, [EventRequest(day.isoformat(), t, day) for t in chosen], params)
    firms = result.firm_frame().set_index("ticker")
    benchmark = inputs.returns.get(params.benchmark)
    stamp = pd.Timestamp(day)
    bench_return = (
        float(benchmark.loc[stamp])
        if benchmark is not None and stamp in benchmark.index
        else float("nan")
    )
    out = pd.DataFrame(
        {
            "status": firms["status"].astype(str),
            "raw_return": firms["raw_return"].astype(float),
            "benchmark_return": bench_return,
            "ar": firms["car"].astype(float),
            "t": firms["car_t"].astype(float),
            "p": firms["car_p"].astype(float),
            "q": bh_qvalues(firms["car_p"].to_numpy(dtype=np.float64)),
            "abnormal_volume": firms["abnormal_volume"].astype(float),
            "value_change": firms["value_change"].astype(float),
        },
        index=pd.Index(firms.index.astype(str), name="ticker"),
    )
    return out.loc[chosen]
