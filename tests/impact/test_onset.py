"""Attention onset: a known break in synthetic counts, and DeepSeek in the recorded corpus."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from tests.link.corpus import read_corpus
from tracker.impact.calendar import first_affected_session, sessions_between
from tracker.impact.onset import OnsetParameters, detect_onset, robust_z

SESSIONS = sessions_between(date(2024, 11, 1), date(2025, 3, 31), "XNYS")


def noisy_counts(seed: int, n: int, mean: float) -> list[int]:
    return [int(x) for x in np.random.default_rng(seed).poisson(mean, n)]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("break_at", [30, 45, 60])
def test_a_surge_is_found_on_the_session_it_starts(seed: int, break_at: int) -> None:
    articles = noisy_counts(seed, len(SESSIONS), 2.0)
    sources = [min(a, 2) for a in articles]  # background: at most two outlets a day
    for i in range(break_at, len(SESSIONS)):
        articles[i] += 25
        sources[i] = 8
    start = SESSIONS[break_at - 5]
    onset = detect_onset(SESSIONS, articles, sources, start)
    assert onset is not None
    assert onset.session == SESSIONS[break_at]
    assert onset.lag == 5
    assert onset.articles == articles[break_at]
    assert onset.sources == 8
    assert onset.z >= OnsetParameters().threshold


def test_no_surge_in_background_noise_gives_no_onset() -> None:
    for seed in range(10):
        articles = noisy_counts(seed, len(SESSIONS), 3.0)
        sources = [min(a, 4) for a in articles]
        assert detect_onset(SESSIONS, articles, sources, SESSIONS[40]) is None


def test_one_outlets_burst_is_not_a_surge() -> None:
    articles = [0] * len(SESSIONS)
    sources = [0] * len(SESSIONS)
    articles[50], sources[50] = 12, 1  # one feed posting twelve times
    articles[53], sources[53] = 9, 4
    onset = detect_onset(SESSIONS, articles, sources, SESSIONS[48])
    assert onset is not None
    assert onset.session == SESSIONS[53]
    assert onset.lag == 5


def test_a_surge_past_the_search_range_is_not_taken() -> None:
    articles = [0] * len(SESSIONS)
    sources = [0] * len(SESSIONS)
    articles[60], sources[60] = 30, 9
    params = OnsetParameters(max_lag=3)
    assert detect_onset(SESSIONS, articles, sources, SESSIONS[50], params) is None
    assert detect_onset(SESSIONS, articles, sources, SESSIONS[57], params) is not None


def test_robust_z_is_not_inflated_by_an_earlier_burst() -> None:
    counts = [2, 4, 2, 4, 40, 4, 2, 4, 2, 4, 20]
    # median 4, MAD 1 (five deviations of 0, four of 2, the burst's), whereas the burst would put
    # the standard deviation above 11 and hide the surge of 20
    assert float(np.std(counts[:10], ddof=1)) > 11
    assert robust_z(counts, 10, 10, 1.0) == pytest.approx((20 - 4) / 1.4826)


def test_bad_input_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="same length"):
        detect_onset(SESSIONS[:3], [1, 2], [1, 2, 3], SESSIONS[0])
    with pytest.raises(ValueError, match="increasing"):
        detect_onset(SESSIONS[:2][::-1], [1, 2], [1, 2], SESSIONS[0])
    with pytest.raises(ValueError, match="baseline"):
        OnsetParameters(baseline=0)


def test_deepseek_attention_in_the_recorded_corpus_surges_in_the_week_of_the_selloff(
    data_dir: Path,
) -> None:
    """R1 was published on 2025-01-20 (day 0 2025-01-21); the coverage surge came later."""
    articles: dict[date, int] = defaultdict(int)
    outlets: dict[date, set[str]] = defaultdict(set)
    for entry in read_corpus(data_dir):
        if "deepseek" in f"{entry.title} {entry.summary_text}".lower():
            session = first_affected_session(entry.published_at, "XNYS")
            articles[session] += 1
            outlets[session].add(entry.outlet)
    sessions = sessions_between(date(2024, 12, 2), date(2025, 2, 28), "XNYS")
    onset = detect_onset(
        sessions,
        [articles[s] for s in sessions],
        [len(outlets[s]) for s in sessions],
        date(2025, 1, 21),
    )
    assert onset is not None
    assert date(2025, 1, 27) <= onset.session < date(2025, 1, 27) + timedelta(days=7)
    assert onset.lag >= 4  # 01-21 .. 01-24 are four sessions before the week of the sell-off
    # coverage on the publication day itself was there, but not broad
    assert articles[date(2025, 1, 21)] > 0
    assert len(outlets[date(2025, 1, 21)]) < OnsetParameters().min_sources
