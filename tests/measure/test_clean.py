"""Clean estimation windows and stored q-values, end to end on both databases.

The stored numbers are checked against the independent reference (tests/impact/reference.py,
one statsmodels OLS per pair) given the excluded dates, and the stored q-values against
statsmodels' ``multipletests``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from statsmodels.stats.multitest import multipletests

from tests.impact.reference import reference_pair
from tracker.config import Settings, load_settings
from tracker.db import Database
from tracker.db.models import FirmImpact, Instrument
from tracker.impact.study import EventRequest, StudyParameters
from tracker.measure.clean import EXCLUDED_EVENT_WINDOW, excluded_days, exclusion_span
from tracker.measure.inputs import load_market_inputs
from tracker.measure.service import compute_impacts

from .recorded import SELLOFF_TICKERS, Events, add_event

NOW = datetime(2026, 1, 1, tzinfo=UTC)
EARLIER = date(2024, 11, 21)  # inside the sell-off's estimation window [-250,-11]


def _stored(database: Database, event_id: int, window: tuple[int, int]) -> pd.DataFrame:
    with database.session() as session:
        rows = session.execute(
            select(
                Instrument.ticker,
                FirmImpact.car,
                FirmImpact.car_p,
                FirmImpact.q_value,
                FirmImpact.statistics,
                FirmImpact.parameters,
            )
            .join(Instrument, Instrument.id == FirmImpact.instrument_id)
            .where(
                FirmImpact.event_id == event_id,
                FirmImpact.model == "market",
                FirmImpact.window_start == window[0],
                FirmImpact.window_end == window[1],
            )
        ).all()
    return pd.DataFrame(rows, columns=["ticker", "car", "p", "q", "statistics", "parameters"])


def test_mask_marks_event_windows_actions_and_macro_days(
    priced_database: Database, january: Events
) -> None:
    add_event(priced_database, "nvda-earlier", datetime(2024, 11, 21, 15, tzinfo=UTC), ["NVDA"])
    with priced_database.session() as session:
        inputs = load_market_inputs(session, ["NVDA", "VST", "SPY"], "XNYS")
        mask = excluded_days(session, ["NVDA", "VST"], inputs.index, "XNYS", EXCLUDED_EVENT_WINDOW)
    nvda = set(mask.index[mask["NVDA"]].date)
    vst = set(mask.index[mask["VST"]].date)
    assert {date(2024, 11, 20), date(2024, 11, 21), date(2024, 11, 22)} <= nvda
    assert date(2024, 11, 21) not in vst  # another ticker's news
    assert date(2024, 11, 25) not in nvda  # outside [-1,+1]
    assert date(2025, 1, 29) in nvda & vst  # FOMC: every ticker
    assert date(2024, 12, 11) in nvda & vst  # CPI
    assert {date(2025, 1, 24), date(2025, 1, 27), date(2025, 1, 28)} <= nvda  # the sell-off
    nvda_dividends = {date(2024, 12, 5), date(2024, 9, 12)}  # NVDA ex-dividend days
    assert nvda_dividends <= nvda


def test_stored_results_match_the_reference_with_excluded_days(
    priced_database: Database, january: Events, settings: Settings
) -> None:
    add_event(priced_database, "nvda-earlier", datetime(2024, 11, 21, 15, tzinfo=UTC), ["NVDA"])
    compute_impacts(priced_database, settings, now=NOW)
    params = StudyParameters(min_estimation_returns=settings.min_estimation_returns)
    span = exclusion_span(settings)
    assert span == EXCLUDED_EVENT_WINDOW
    with priced_database.session() as session:
        inputs = load_market_inputs(session, [*SELLOFF_TICKERS, "SPY"], "XNYS")
        mask = excluded_days(session, list(SELLOFF_TICKERS), inputs.index, "XNYS", span)
    for window in ((0, 0), (0, 1)):
        stored = _stored(priced_database, january.selloff, window).set_index("ticker")
        for ticker in ("NVDA", "VST", "AVGO"):
            excluded = set(mask.index[mask[ticker].to_numpy()])
            request = EventRequest(str(january.selloff), ticker, date(2025, 1, 27))
            ref = reference_pair(inputs.returns, request, params, excluded=excluded)
            row = stored.loc[ticker]
            assert row["statistics"]["n_est"] == ref.n_est  # type: ignore[attr-defined]
            np.testing.assert_allclose(row["car"], ref.row[window]["car"], rtol=1e-9)
            np.testing.assert_allclose(row["p"], ref.row[window]["car_p"], rtol=1e-9)
    # the NVDA estimation window lost its own news days, the CPI days, the FOMC days ...
    unclean = load_settings(database_url=settings.database_url, clean_estimation_windows=False)
    assert exclusion_span(unclean) is None
    clean_n = _stored(priced_database, january.selloff, (0, 0)).set_index("ticker")
    compute_impacts(priced_database, unclean, now=NOW)
    plain_n = _stored(priced_database, january.selloff, (0, 0)).set_index("ticker")
    assert clean_n.loc["NVDA", "statistics"]["n_est"] < plain_n.loc["NVDA", "statistics"]["n_est"]


def test_stored_q_values_match_statsmodels(
    priced_database: Database, january: Events, settings: Settings
) -> None:
    compute_impacts(priced_database, settings, now=NOW)
    checked = 0
    for event_id in (january.selloff, january.r1, january.rebound):
        for window in ((0, 0), (0, 1), (-5, 5)):
            frame = _stored(priced_database, event_id, window)
            present = frame.dropna(subset=["p"])
            if len(present) < 2:
                continue
            want = multipletests(present["p"].to_numpy(), method="fdr_bh")[1]
            np.testing.assert_allclose(present["q"].to_numpy(dtype=float), want, rtol=1e-12)
            assert frame.loc[frame["p"].isna(), "q"].isna().all()
            checked += 1
    assert checked >= 6


def test_an_event_with_no_significant_move(priced_database: Database, settings: Settings) -> None:
    """A raw p below 0.05 among nine tickers is not significant once corrected."""
    quiet = add_event(
        priced_database, "quiet-day", datetime(2024, 8, 13, 14, tzinfo=UTC), SELLOFF_TICKERS
    )
    compute_impacts(priced_database, settings, now=NOW)
    frame = _stored(priced_database, quiet, (0, 0)).dropna(subset=["p"])
    assert len(frame) >= 5
    assert (frame["q"] >= settings.fdr_level).all()
    assert (frame["p"] < 0.05).any()  # raw p alone would have called one significant


@pytest.mark.parametrize("level", [0.0, 1.0])
def test_fdr_level_is_validated(level: float) -> None:
    from tracker.errors import ConfigError

    with pytest.raises(ConfigError, match="TRACKER_FDR_LEVEL"):
        load_settings(fdr_level=level)
