"""The engine's inputs for a study, read the same way by every caller.

The stored studies (``service``), the attention-anchored study (``anchored``), the day's movers
(``daily``), the CAR path (``path``) and the on-the-fly reads (``read``) all measure with the
same inputs: stored bars, the clean estimation windows of ``tracker.measure.clean``, and the
configured factor returns when the model's regressors name any. One function, so that a
setting honoured by one of them is honoured by all.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.errors import ConfigError
from tracker.impact.study import StudyParameters
from tracker.measure.clean import exclusion_span
from tracker.measure.inputs import MarketInputs, add_configured_factors, load_market_inputs


def study_inputs(
    session: Session, settings: Settings, params: StudyParameters, tickers: Iterable[str]
) -> MarketInputs:
    """Returns and the rest for ``tickers`` and the model's regressors under ``params``.

    Raises ConfigError when factors are asked for without a source, or when a benchmark has
    no stored prices while other tickers have some.
    """
    wanted = list(dict.fromkeys([*tickers, *params.regressors]))
    inputs = load_market_inputs(
        session, wanted, params.calendar, exclusion_span=exclusion_span(settings)
    )
    inputs = add_configured_factors(inputs, params.regressors, settings.fama_french_source)
    require_regressors(inputs, params)
    return inputs


def require_regressors(inputs: MarketInputs, params: StudyParameters) -> None:
    """Refuse a benchmark with no bars while others have some.

    Otherwise every stored result would be rewritten as ``missing_benchmark`` by a typo in
    the setting; with no bars at all, everything is simply pending.
    """
    if inputs.returns.empty:
        return
    missing = [r for r in params.regressors if r not in inputs.returns.columns]
    if missing:
        raise ConfigError(
            f"TRACKER_BENCHMARK: no stored prices for {', '.join(missing)}; fetch them "
            f"(tracker prices fetch --tickers {','.join(missing)}) or choose another benchmark"
        )
