"""Event filters and sorting, on both backends."""

from __future__ import annotations

import random
from datetime import date

import pytest
from sqlalchemy import select

from tests.query.conftest import World, at
from tracker.db import Database
from tracker.db.models import Event, FirmImpact, Instrument
from tracker.errors import NotFoundError, UserInputError
from tracker.link.kinds import FALLBACK_KIND, KIND_RULES
from tracker.measure.service import store_q_values
from tracker.query import EventFilter, events_frame, search_events
from tracker.query.common import KINDS, STORED_WINDOWS


def names(world: World, events) -> list[str]:
    by_id = {event_id: name for name, event_id in world.events.items()}
    return [by_id[event.id] for event in events]


def run(database: Database, **criteria):
    with database.session() as session:
        return search_events(session, EventFilter(**criteria))


def test_default_lists_every_event_newest_first(database: Database, world: World) -> None:
    assert names(world, run(database)) == ["later", "d", "c", "deal", "b", "a"]


def test_date_range_is_inclusive_utc_days(database: Database, world: World) -> None:
    found = run(database, start=date(2024, 3, 5), end=date(2024, 6, 3))
    assert names(world, found) == ["c", "deal", "b"]


FILTER_CASES: list[tuple[dict[str, object], set[str]]] = [
    ({"kind": "model_release"}, {"a", "c", "d", "later"}),
    ({"kind": "MODEL_RELEASE"}, {"a", "c", "d", "later"}),
    ({"origin": "curated"}, {"c"}),
    ({"entity": "deepseek-r1"}, {"a", "d"}),
    ({"entity": "NVIDIA"}, {"b"}),
    ({"ticker": "ceg"}, {"c"}),
    ({"basket": "ai_power"}, {"a", "deal", "c"}),
    ({"min_abs_car": 0.05}, {"a", "c"}),
    ({"min_abs_car": 0.05, "ticker": "NVDA"}, {"a"}),
    ({"min_abs_car": 0.05, "window": (0, 5)}, {"a", "later"}),
    ({"significant": True}, {"a", "c", "deal"}),
    ({"significant": True, "alpha": 0.01}, {"c"}),
    # a's NVDA has p 0.01 but q 0.02 (two tickers tested): not significant at 0.015
    ({"significant": True, "alpha": 0.015}, {"c"}),
    ({"text": "cheap model"}, {"a", "c", "d", "later"}),
    ({"text": '"model B"'}, {"c"}),
    ({"text": "chea*"}, {"a", "c", "d", "later"}),
    ({"text": "gigawatts"}, {"a", "c"}),  # only in the articles' summaries
    ({"text": "cheap gigawatts"}, set()),  # AND across event and article text is not a match
    ({"kind": "model_release", "entity": "deepseek", "start": date(2024, 6, 1)}, {"d"}),
]


def test_each_filter_selects_exactly_the_matching_events(database: Database, world: World) -> None:
    """One seeded world for every case (seeding per case is what makes tests slow)."""
    for criteria, expected in FILTER_CASES:
        assert set(names(world, run(database, **criteria))) == expected, criteria


def test_sort_by_impact_orders_by_largest_abs_car_and_reports_it(
    database: Database, world: World
) -> None:
    found = run(database, sort="impact")
    assert names(world, found) == ["c", "a", "deal", "b"]  # unmeasured events are left out
    assert [event.top_ticker for event in found] == ["CEG", "NVDA", "VST", "NVDA"]
    assert found[0].top_car == pytest.approx(-0.09)
    assert found[0].max_abs_car == pytest.approx(0.09)
    assert names(world, run(database, sort="impact", limit=1)) == ["c"]


def test_sort_by_impact_matches_a_brute_force_ranking(database: Database) -> None:
    """Enough impacts that the two-ended read must widen several times."""
    rng = random.Random(7)
    with database.session() as session:
        tickers = [Instrument(ticker=f"SYN{i}") for i in range(4)]
        session.add_all(tickers)
        session.flush()
        for number in range(150):
            event = Event(
                slug=f"synthetic-{number}",
                title=f"Synthetic {number}",
                first_reported_at=at("2024-01-02"),
            )
            session.add(event)
            session.flush()
            for instrument in tickers:
                session.add(
                    FirmImpact(
                        event_id=event.id,
                        instrument_id=instrument.id,
                        model="market",
                        window_start=0,
                        window_end=1,
                        status="ok",
                        car=round(rng.gauss(0, 0.05), 6),
                        input_fingerprint="x",
                    )
                )
        session.flush()
        rows = session.execute(select(FirmImpact.event_id, FirmImpact.car)).all()
    best: dict[int, float] = {}
    for event_id, car in rows:
        best[event_id] = max(best.get(event_id, 0.0), abs(car))
    expected = sorted(best, key=lambda event_id: -best[event_id])[:70]
    found = run(database, sort="impact", limit=70)
    assert [event.id for event in found] == expected
    assert [event.max_abs_car for event in found] == [best[i] for i in expected]


INVALID_CASES: list[tuple[dict[str, object], str]] = [
    ({"start": date(2024, 2, 1), "end": date(2024, 1, 1)}, "--from"),
    ({"min_abs_car": -1.0}, "--min-abs-car"),
    ({"limit": 0}, "--limit"),
    ({"sort": "size"}, "--sort"),
    ({"origin": "guessed"}, "--origin"),
    ({"window": (3, 1)}, "--window"),
    ({"alpha": 1.5}, "--alpha"),
]


def test_invalid_criteria_name_the_option(database: Database) -> None:
    for criteria, message in INVALID_CASES:
        with pytest.raises(UserInputError, match=message):
            run(database, **criteria)


def test_unknown_names_are_not_found(database: Database, world: World) -> None:
    for criteria, word in [
        ({"ticker": "NOPE"}, "ticker"),
        ({"entity": "nobody"}, "entity"),
        ({"basket": "x"}, "basket"),
    ]:
        with pytest.raises(NotFoundError, match=word):
            run(database, **criteria)


def test_frame_has_fixed_columns_even_when_empty(database: Database, world: World) -> None:
    with database.session() as session:
        full = events_frame(session, EventFilter(kind="policy"))
        empty = events_frame(session, EventFilter(kind="security"))  # known, no event has it
    assert list(full["id"]) == [world.events["b"]]
    assert list(empty.columns) == list(full.columns)
    assert empty.empty


def test_text_filters_agree_whichever_search_strategy_is_chosen(
    database: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Common texts walk events and check each; rare ones collect matches: same answers."""
    from tracker.query import search

    text_cases = [(c, e) for c, e in FILTER_CASES if "text" in c]
    # walk and probe; collect, walking against the match sets (SQLite); collect and sort
    for common, estimate, few in [(1, 0, 0), (10**9, 10**9, 0), (10**9, 10**9, 10**9)]:
        monkeypatch.setattr(search, "COMMON_MATCH_THRESHOLD", common)
        monkeypatch.setattr(search, "COMMON_ESTIMATE_THRESHOLD", estimate)
        monkeypatch.setattr(search, "SQLITE_FEW_MATCHES", few)
        for criteria, expected in text_cases:
            assert set(names(world, run(database, **criteria))) == expected, criteria
        assert names(world, run(database, text="cheap", sort="impact")) == ["c", "a"]
        assert names(world, run(database, text="cheap model")) == ["later", "d", "c", "a"]


def test_impact_filters_agree_whichever_strategy_is_chosen(
    database: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Few qualifying impacts are collected, many are probed per event: same answers."""
    from tracker.query import events

    impact_cases = [(c, e) for c, e in FILTER_CASES if "min_abs_car" in c or "significant" in c]
    for limit in (0, 10**6):  # 0: always walk events and probe; 10**6: always collect
        monkeypatch.setattr(events, "IMPACT_COLLECT_LIMIT", limit)
        for criteria, expected in impact_cases:
            assert set(names(world, run(database, **criteria))) == expected, (limit, criteria)
        assert names(world, run(database, min_abs_car=0.05, sort="impact")) == ["c", "a"]


def test_impact_sort_agrees_whether_it_sorts_few_events_or_walks_the_index(
    database: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.query import events

    cases = [{"kind": "model_release"}, {"start": date(2024, 3, 5)}, {"text": "cheap"}, {}]
    expected = [names(world, run(database, sort="impact", **criteria)) for criteria in cases]
    assert expected[-1] == ["c", "a", "deal", "b"]
    for few in (0, 10**6):
        monkeypatch.setattr(events, "IMPACT_SORT_FEW_EVENTS", few)
        found = [names(world, run(database, sort="impact", **criteria)) for criteria in cases]
        assert found == expected, few


def test_unknown_kind_model_or_unstored_window_is_refused(database: Database, world: World) -> None:
    with database.session() as session:
        with pytest.raises(UserInputError, match=r"--kind 'nope' is not one of .*model_release"):
            search_events(session, EventFilter(kind="nope"))
        with pytest.raises(UserInputError, match=r"unknown model 'bogus'.*constant_mean"):
            search_events(session, EventFilter(model="bogus"))
        # a query model whose results are not stored: refused, not an empty answer
        with pytest.raises(UserInputError, match=r"only stored results.*: market"):
            search_events(session, EventFilter(model="market_adjusted", sort="impact"))
        with pytest.raises(UserInputError, match=r"0,3 is not a stored window.*-5,5"):
            search_events(session, EventFilter(window=(0, 3)))
        # kinds are matched case-insensitively; every stored window is accepted
        policy = search_events(session, EventFilter(kind=" Policy "))
        for window in STORED_WINDOWS:
            search_events(session, EventFilter(window=window, min_abs_car=0.0))
    assert [event.id for event in policy] == [world.events["b"]]


def test_detected_kinds_are_among_the_known_kinds() -> None:
    """One list of kinds: whatever the linker can give an event, --kind accepts."""
    assert {kind for kind, _ in KIND_RULES} | {FALLBACK_KIND} <= KINDS


def test_each_listed_event_carries_the_q_value_of_its_top_ticker(
    database: Database, world: World
) -> None:
    with database.session() as session:
        store_q_values(session, list(session.scalars(select(Event.id))), "market")
    with database.session() as session:
        found = search_events(session, EventFilter(limit=500))
        listed = [e for e in found if e.top_ticker is not None]
        assert listed
        for event in listed:
            stored = session.execute(
                select(FirmImpact.car_p, FirmImpact.q_value)
                .join(Instrument, Instrument.id == FirmImpact.instrument_id)
                .where(
                    FirmImpact.event_id == event.id,
                    Instrument.ticker == event.top_ticker,
                    FirmImpact.model == "market",
                    FirmImpact.window_start == 0,
                    FirmImpact.window_end == 1,
                )
            ).one()
            assert event.top_car_p == stored.car_p
            assert event.top_car_q == stored.q_value
        assert any(e.top_car_q is not None for e in listed)
