"""The CAR path of an event, day by day, with the forecast-error-corrected standard error.

The dashboard's confidence band needs S(CAR[t1, t]) for every day t of the window. Those are
exactly the engine's window statistics for the cumulative windows [t1, t1], [t1, t1+1], ...,
[t1, t2], so one engine call with those windows gives the path (IMPACT_SPEC §4: the window
variance, not a sum of daily variances). Nothing is stored: reads never write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from tracker.config import Settings
from tracker.db import Database
from tracker.errors import UserInputError
from tracker.impact.models import ModelName
from tracker.impact.study import EventRequest, Window, window_label
from tracker.measure.read import impact_scope, query_parameters
from tracker.measure.study import run_study
from tracker.measure.study_inputs import study_inputs

PATH_COLUMNS = ["ticker", "day", "car", "car_se", "status"]


def car_paths(
    db: Database,
    settings: Settings,
    event: str | int,
    *,
    tickers: Sequence[str] | None = None,
    model: str | ModelName = "market",
    window: Window = (0, 5),
) -> pd.DataFrame:
    """CAR[window start, day] and its standard error for each ticker and day of ``window``.

    Long format (ticker, day, car, car_se, status), sorted by ticker and day. Tickers default
    to the event's linked tickers; unknown event or ticker: NotFoundError; bad window or
    model: UserInputError.
    """
    start, end = window
    if end - start > 60:
        raise UserInputError(f"window {window_label(window)} is too long for a path (61 days)")
    params = query_parameters(settings, model, window)
    cumulative = tuple((start, day) for day in range(start, end + 1))
    params = replace(params, event_windows=cumulative)
    with db.session() as session:
        scope = impact_scope(session, settings, event, tickers, None)
        chosen = sorted(scope.firms)
        inputs = study_inputs(session, settings, params, chosen)
    if not chosen:
        return pd.DataFrame(columns=PATH_COLUMNS)
    key = str(scope.event.id)
    result = run_study(inputs, [EventRequest(key, t, scope.day0) for t in chosen], params)
    ends = {window_label(w): w[1] for w in cumulative}
    rows = [
        {
            "ticker": record.ticker,
            "day": ends[record.window],
            "car": record.car,
            "car_se": record.car_se,
            "status": record.status,
        }
        for record in result.firm_records()
    ]
    return pd.DataFrame(rows, columns=PATH_COLUMNS).sort_values(
        ["ticker", "day"], ignore_index=True
    )
