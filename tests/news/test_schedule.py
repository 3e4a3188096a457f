"""The scheduling function: intervals, server wishes, back-off, jitter, the failing flag."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tracker.news.schedule import (
    MAX_INTERVAL,
    MAX_RETRY_AFTER,
    CheckOutcome,
    is_failing,
    next_check_at,
    parse_max_age,
    parse_retry_after,
)

NOW = datetime(2025, 1, 27, 12, 0, tzinfo=UTC)
BASE = timedelta(minutes=10)


def delay(outcome: CheckOutcome, seed: int = 1) -> timedelta:
    return next_check_at(NOW, outcome, BASE, random.Random(seed)) - NOW


def test_success_waits_the_base_interval() -> None:
    assert delay(CheckOutcome(ok=True)) == BASE


def test_success_honours_longer_ttl_max_age_and_retry_after_but_not_shorter() -> None:
    assert delay(CheckOutcome(ok=True, ttl=timedelta(minutes=60))) == timedelta(minutes=60)
    assert delay(CheckOutcome(ok=True, max_age=timedelta(minutes=30))) == timedelta(minutes=30)
    assert delay(CheckOutcome(ok=True, retry_after=timedelta(hours=2))) == timedelta(hours=2)
    assert delay(CheckOutcome(ok=True, max_age=timedelta(seconds=5))) == BASE
    assert delay(CheckOutcome(ok=True, ttl=timedelta(days=9))) == MAX_INTERVAL


def test_errors_back_off_exponentially_with_jitter_up_to_a_day() -> None:
    delays = [delay(CheckOutcome(ok=False, consecutive_errors=n)) for n in range(1, 12)]
    for n, got in enumerate(delays, start=1):
        nominal = min(BASE * 2 ** (n - 1), MAX_INTERVAL)
        assert nominal * 0.8 <= got <= min(nominal * 1.2, MAX_INTERVAL)
    assert delays[-1] <= MAX_INTERVAL
    assert delays[3] > delays[0] * 4


def test_jitter_spreads_feeds_that_failed_together() -> None:
    outcome = CheckOutcome(ok=False, consecutive_errors=3)
    assert len({delay(outcome, seed) for seed in range(20)}) > 10


def test_retry_after_is_respected_on_errors() -> None:
    outcome = CheckOutcome(ok=False, consecutive_errors=1, retry_after=timedelta(hours=3))
    assert delay(outcome) == timedelta(hours=3)
    huge = CheckOutcome(ok=False, consecutive_errors=1, retry_after=timedelta(days=30))
    assert delay(huge) == timedelta(days=7)


def test_failing_flag_after_days() -> None:
    assert not is_failing(None, NOW)
    assert not is_failing(NOW - timedelta(hours=5), NOW)
    assert is_failing(NOW - timedelta(days=3), NOW)


def test_parse_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("120", NOW) == timedelta(seconds=120)
    assert parse_retry_after("Mon, 27 Jan 2025 13:00:00 GMT", NOW) == timedelta(hours=1)
    assert parse_retry_after("Mon, 27 Jan 2025 11:00:00 GMT", NOW) == timedelta(0)
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_parse_max_age() -> None:
    assert parse_max_age("public, max-age=600") == timedelta(seconds=600)
    assert parse_max_age("no-cache") is None
    assert parse_max_age(None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("99999999999999999999", MAX_RETRY_AFTER),  # overflowed timedelta before
        ("604801", MAX_RETRY_AFTER),
        ("²", None),  # a digit to str.isdigit, not to HTTP (int() raised before)
        ("٣", None),
        ("-5", None),
        ("1e9", None),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER),
    ],
)
def test_hostile_retry_after_is_clamped_or_ignored_never_raised(value, expected) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=99999999999999999999", timedelta(days=1)),
        ("max-age=²", None),
        ('s-maxage="86401"', timedelta(days=1)),
    ],
)
def test_hostile_max_age_is_clamped_or_ignored_never_raised(value, expected) -> None:
    assert parse_max_age(value) == expected
