"""The measure step: event studies for every linked (event, ticker) and (event, basket), stored.

Flow per run:
1. read the events (day 0 from the exchange calendar where it is not stored yet), their
   tickers and baskets, the market inputs and the stored fingerprints, in one read;
2. fingerprint every pair (its bars and the parameters); an event is stale when a pair or a
   group fingerprint differs from the stored one (or a row is missing / obsolete);
3. run the engine once for all pairs of the stale events (one call per window for groups);
4. write each stale event in its own transaction; a failing event is recorded, the others go on.

Which baskets an event has, and their members: see ``tracker.measure.events``.

Pending: a window that ends after the last stored session is stored with status "pending";
the arrival of the missing sessions changes the pair's fingerprint, so the next run recomputes.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.db import Database, utcnow
from tracker.db.models import AnchoredImpact, Event, FirmImpact, GroupImpact
from tracker.impact.multitest import bh_qvalues
from tracker.impact.significance import GroupResult
from tracker.impact.study import (
    USABLE_STATUSES,
    FirmResult,
    StudyParameters,
    Window,
    window_label,
)
from tracker.measure.daily import daily_abnormal_returns
from tracker.measure.events import (
    EventPlan,
    basket_memberships,
    baskets_for_event,
    event_day0,
    event_tickers,
    load_events,
    theme_baskets,
)
from tracker.measure.importance import refresh_importance
from tracker.measure.inputs import (
    MarketInputs,
    ShareBasis,
)
from tracker.measure.intraday import intraday_reaction
from tracker.measure.payload import (
    finite,
    firm_statistics,
    group_statistics_json,
    group_status,
    parameters_json,
)
from tracker.measure.study import (
    default_parameters,
    group_fingerprint,
    group_results,
    pair_fingerprints,
    run_study,
)
from tracker.measure.study_inputs import study_inputs

__all__ = [
    "EventOutcome",
    "ImpactReport",
    "compute_impacts",
    "daily_abnormal_returns",
    "intraday_reaction",
]

log = logging.getLogger(__name__)

PENDING = "pending"


@dataclass
class EventOutcome:
    """What one run did for one event (counts are firm results: one per pair and window)."""

    event_id: int
    slug: str
    day0: date | None = None
    computed: int = 0
    unchanged: int = 0
    removed: int = 0
    groups_computed: int = 0
    groups_unchanged: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    error: str | None = None
    merged_into: int | None = None

    @property
    def line(self) -> str:
        """One human line for the CLI."""
        if self.error:
            return f"{self.event_id} {self.slug}: FAILED: {self.error}"
        if self.merged_into is not None:
            return (
                f"{self.event_id} {self.slug}: merged into event {self.merged_into}, measured"
                f" there (removed {self.removed} stored results)"
            )
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items())) or "no tickers"
        return (
            f"{self.event_id} {self.slug} day0 {self.day0}: computed {self.computed}, "
            f"unchanged {self.unchanged}, groups {self.groups_computed}/"
            f"{self.groups_computed + self.groups_unchanged} computed ({statuses})"
        )


@dataclass
class ImpactReport:
    """The run's outcome: per-event lines and totals by status."""

    model: str
    events: list[EventOutcome] = field(default_factory=list)

    def _total(self, name: str) -> int:
        return sum(int(getattr(outcome, name)) for outcome in self.events)

    @property
    def computed(self) -> int:
        return self._total("computed")

    @property
    def unchanged(self) -> int:
        return self._total("unchanged")

    @property
    def groups_computed(self) -> int:
        return self._total("groups_computed")

    @property
    def groups_unchanged(self) -> int:
        return self._total("groups_unchanged")

    @property
    def by_status(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for outcome in self.events:
            total.update(outcome.statuses)
        return total

    @property
    def pending(self) -> int:
        return self.by_status[PENDING]

    @property
    def insufficient(self) -> int:
        """Firm results without numbers for a reason other than waiting for data."""
        usable = {str(s) for s in USABLE_STATUSES}
        return sum(n for s, n in self.by_status.items() if s not in usable and s != PENDING)

    @property
    def failed(self) -> list[EventOutcome]:
        return [outcome for outcome in self.events if outcome.error]

    def as_counts(self) -> dict[str, int]:
        """The figures for the job-run log and the demo."""
        return {k: v for k, v in self.summary().items() if isinstance(v, int)}

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "events": len(self.events),
            "merged": sum(outcome.merged_into is not None for outcome in self.events),
            "computed": self.computed,
            "unchanged": self.unchanged,
            "pending": self.pending,
            "insufficient": self.insufficient,
            "failed": len(self.failed),
            "groups_computed": self.groups_computed,
            "groups_unchanged": self.groups_unchanged,
            "by_status": dict(sorted(self.by_status.items())),
        }


StoredRows = dict[tuple[int, int], dict[Window, tuple[str, str]]]  # -> window -> (fp, status)


def build_plans(
    session: Session,
    event_ids: Sequence[int] | None,
    calendar: str,
    report: ImpactReport,
) -> list[EventPlan]:
    """Every requested event with its day 0, tickers and groups; failures go to the report."""
    events = load_events(session, event_ids)
    ids = [event.id for event in events]
    tickers = event_tickers(session, ids)
    linked = theme_baskets(session, ids)
    memberships = basket_memberships(session)
    plans = []
    for event in events:
        outcome = EventOutcome(event.id, event.slug, event.day0)
        report.events.append(outcome)
        if event.parent_id is not None:
            # merged into a happening and hidden from every list: its articles count for
            # the parent, which is the one measured (once, so no move is counted twice)
            outcome.merged_into = event.parent_id
            continue
        try:
            day0 = event_day0(event, calendar)
        except ValueError as exc:
            outcome.error = f"day 0: {exc}"
            continue
        outcome.day0 = day0
        own = tickers.get(event.id, {})
        plans.append(
            EventPlan(
                event_id=event.id,
                slug=event.slug,
                day0=day0,
                store_day0=event.day0 is None,
                tickers=own,
                baskets=baskets_for_event(set(own), linked.get(event.id, set()), memberships),
            )
        )
    return plans


def stored_fingerprints(
    session: Session, event_ids: Sequence[int], model: str
) -> tuple[StoredRows, StoredRows]:
    """(event, instrument) and (event, basket) -> window -> (fingerprint, status)."""
    firms: StoredRows = {}
    for row in session.execute(
        select(
            FirmImpact.event_id,
            FirmImpact.instrument_id,
            FirmImpact.window_start,
            FirmImpact.window_end,
            FirmImpact.input_fingerprint,
            FirmImpact.status,
        ).where(FirmImpact.event_id.in_(event_ids), FirmImpact.model == model)
    ):
        key = (row.event_id, row.instrument_id)
        firms.setdefault(key, {})[(row.window_start, row.window_end)] = (
            row.input_fingerprint,
            row.status,
        )
    groups: StoredRows = {}
    for row in session.execute(
        select(
            GroupImpact.event_id,
            GroupImpact.basket_id,
            GroupImpact.window_start,
            GroupImpact.window_end,
            GroupImpact.input_fingerprint,
            GroupImpact.status,
        ).where(GroupImpact.event_id.in_(event_ids), GroupImpact.model == model)
    ):
        key = (row.event_id, row.basket_id)
        groups.setdefault(key, {})[(row.window_start, row.window_end)] = (
            row.input_fingerprint,
            row.status,
        )
    return firms, groups


def _is_current(
    stored: dict[Window, tuple[str, str]] | None, fp: str, windows: set[Window]
) -> bool:
    return (
        stored is not None and windows <= stored.keys() and all(stored[w][0] == fp for w in windows)
    )


@dataclass
class EventWork:
    """What must be written for one event."""

    plan: EventPlan
    stale_tickers: list[str]
    stale_baskets: list[str]
    pair_fp: dict[str, str]
    group_fp: dict[str, str]
    obsolete_instruments: list[int]
    obsolete_baskets: list[int]

    @property
    def needed(self) -> bool:
        return bool(
            self.plan.store_day0
            or self.stale_tickers
            or self.stale_baskets
            or self.obsolete_instruments
            or self.obsolete_baskets
        )


def plan_work(
    plans: Sequence[EventPlan],
    inputs: MarketInputs,
    params: StudyParameters,
    stored_firms: StoredRows,
    stored_groups: StoredRows,
    outcomes: dict[int, EventOutcome],
) -> list[EventWork]:
    """Compare fingerprints; count unchanged results; list what is stale per event."""
    requests = [request for plan in plans for request in plan.requests()]
    fps = dict(
        zip(
            ((r.event_key, r.ticker) for r in requests),
            pair_fingerprints(inputs, requests, params),
            strict=True,
        )
    )
    windows = set(params.event_windows)
    work = []
    for plan in plans:
        outcome = outcomes[plan.event_id]
        pair_fp = {t: fps[(plan.key, t)] for t in plan.tickers}
        stale_tickers = []
        for ticker, instrument_id in sorted(plan.tickers.items()):
            stored = stored_firms.get((plan.event_id, instrument_id))
            if _is_current(stored, pair_fp[ticker], windows):
                assert stored is not None
                outcome.unchanged += len(windows)
                outcome.statuses.update(stored[w][1] for w in windows)
            else:
                stale_tickers.append(ticker)
        group_fp, stale_baskets = {}, []
        for slug, (basket_id, members) in plan.baskets.items():
            group_fp[slug] = group_fingerprint(slug, [pair_fp[t] for t in members])
            stored = stored_groups.get((plan.event_id, basket_id))
            if _is_current(stored, group_fp[slug], windows):
                outcome.groups_unchanged += len(windows)
            else:
                stale_baskets.append(slug)
        current_instruments = set(plan.tickers.values())
        current_baskets = {basket_id for basket_id, _ in plan.baskets.values()}
        work.append(
            EventWork(
                plan=plan,
                stale_tickers=stale_tickers,
                stale_baskets=stale_baskets,
                pair_fp=pair_fp,
                group_fp=group_fp,
                obsolete_instruments=sorted(
                    i
                    for (e, i) in stored_firms
                    if e == plan.event_id and i not in current_instruments
                ),
                obsolete_baskets=sorted(
                    b for (e, b) in stored_groups if e == plan.event_id and b not in current_baskets
                ),
            )
        )
    return work


@dataclass
class Measured:
    """Engine output for a set of events, indexed for writing."""

    firms: dict[tuple[str, str, str], FirmResult]  # (event key, ticker, window label)
    groups: dict[tuple[str, Window], GroupResult]  # (group name, window)
    shares: dict[tuple[str, str], ShareBasis | None] = field(default_factory=dict)


def measure(inputs: MarketInputs, plans: Sequence[EventPlan], params: StudyParameters) -> Measured:
    """One engine call for every pair of ``plans``, one group call per window."""
    requests = [request for plan in plans for request in plan.requests()]
    if not requests:
        return Measured({}, {})
    result = run_study(inputs, requests, params)
    firms = {(r.event_key, r.ticker, r.window): r for r in result.firm_records()}
    groups = {
        plan.group_name(slug): plan.group_members(slug) for plan in plans for slug in plan.baskets
    }
    shares = {(r.event_key, r.ticker): inputs.share_basis(r.ticker, r.day0) for r in requests}
    return Measured(firms, group_results(result, groups), shares)


def measure_isolating_failures(
    inputs: MarketInputs,
    work: Sequence[EventWork],
    params: StudyParameters,
    outcomes: dict[int, EventOutcome],
) -> tuple[Measured, list[EventWork]]:
    """All stale events in one engine call; if that fails, event by event to find the culprit."""
    plans = [item.plan for item in work]
    try:
        return measure(inputs, plans, params), list(work)
    except Exception:
        log.exception("batch event study failed; measuring event by event")
    merged = Measured({}, {})
    survivors = []
    for item in work:
        try:
            single = measure(inputs, [item.plan], params)
        except Exception as exc:
            outcomes[item.plan.event_id].error = f"event study: {type(exc).__name__}: {exc}"
            log.exception("event %s: event study failed", item.plan.slug)
            continue
        merged.firms.update(single.firms)
        merged.groups.update(single.groups)
        merged.shares.update(single.shares)
        survivors.append(item)
    return merged, survivors


def write_event(
    session: Session,
    item: EventWork,
    measured: Measured,
    params: StudyParameters,
    now: datetime,
    outcome: EventOutcome,
) -> None:
    """Upsert one event's stale firm and group rows and drop its obsolete ones."""
    plan = item.plan
    model = str(params.model_name)
    parameters = parameters_json(params)
    rule = str(parameters["mapping_rule"])
    if plan.store_day0:
        session.execute(update(Event).where(Event.id == plan.event_id).values(day0=plan.day0))
    existing_firms = {
        (row.instrument_id, row.window_start, row.window_end): row
        for row in session.scalars(
            select(FirmImpact).where(
                FirmImpact.event_id == plan.event_id, FirmImpact.model == model
            )
        )
    }
    computed: Counter[str] = Counter()
    for ticker in item.stale_tickers:
        instrument_id = plan.tickers[ticker]
        for window in params.event_windows:
            record = measured.firms[(plan.key, ticker, window_label(window))]
            row = existing_firms.get((instrument_id, *window))
            if row is None:
                row = FirmImpact(
                    event_id=plan.event_id,
                    instrument_id=instrument_id,
                    model=model,
                    window_start=window[0],
                    window_end=window[1],
                )
                session.add(row)
            row.status = record.status
            row.day0 = plan.day0
            row.car = finite(record.car)
            row.car_t = finite(record.car_t)
            row.car_p = finite(record.car_p)
            row.raw_return = finite(record.raw_return)
            row.statistics = firm_statistics(record, measured.shares.get((plan.key, ticker)))
            row.parameters = parameters
            row.calendar_rule = rule
            row.input_fingerprint = item.pair_fp[ticker]
            row.computed_at = now
            computed[record.status] += 1
    if item.obsolete_instruments:
        session.execute(
            delete(FirmImpact).where(
                FirmImpact.event_id == plan.event_id,
                FirmImpact.model == model,
                FirmImpact.instrument_id.in_(item.obsolete_instruments),
            )
        )
    existing_groups = {
        (row.basket_id, row.window_start, row.window_end): row
        for row in session.scalars(
            select(GroupImpact).where(
                GroupImpact.event_id == plan.event_id, GroupImpact.model == model
            )
        )
    }
    groups_written = 0
    for slug in item.stale_baskets:
        basket_id, members = plan.baskets[slug]
        for window in params.event_windows:
            result = measured.groups[(plan.group_name(slug), window)]
            group = existing_groups.get((basket_id, *window))
            if group is None:
                group = GroupImpact(
                    event_id=plan.event_id,
                    basket_id=basket_id,
                    model=model,
                    window_start=window[0],
                    window_end=window[1],
                )
                session.add(group)
            group.status = group_status(result)
            group.n = int(result.n)
            group.caar = finite(result.caar)
            group.statistics = group_statistics_json(result, members)
            group.parameters = parameters
            group.calendar_rule = rule
            group.input_fingerprint = item.group_fp[slug]
            group.computed_at = now
            groups_written += 1
    if item.obsolete_baskets:
        session.execute(
            delete(GroupImpact).where(
                GroupImpact.event_id == plan.event_id,
                GroupImpact.model == model,
                GroupImpact.basket_id.in_(item.obsolete_baskets),
            )
        )
    session.flush()
    store_q_values(session, [plan.event_id], model)
    outcome.computed += sum(computed.values())
    outcome.statuses.update(computed)
    outcome.groups_computed += groups_written
    outcome.removed += len(item.obsolete_instruments) * len(params.event_windows)


def remove_results(session: Session, event_id: int) -> int:
    """Delete an event's stored firm, group and anchored results; returns rows removed."""
    removed = 0
    for table in (FirmImpact, GroupImpact, AnchoredImpact):
        result = session.execute(delete(table).where(table.event_id == event_id))
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


def store_q_values(session: Session, event_ids: Sequence[int], model: str) -> int:
    """Benjamini-Hochberg q-values of car_p across each event's tickers, per window.

    An event is one family of tests (its tickers in one window under one model); a ticker
    without a p-value (insufficient data, pending) is not a test. Returns rows updated.
    """
    rows = session.execute(
        select(
            FirmImpact.id,
            FirmImpact.event_id,
            FirmImpact.window_start,
            FirmImpact.window_end,
            FirmImpact.car_p,
            FirmImpact.q_value,
        )
        .where(FirmImpact.event_id.in_(list(event_ids)), FirmImpact.model == model)
        .order_by(FirmImpact.id)
    ).all()
    families: dict[tuple[int, int, int], list[Any]] = {}
    for row in rows:
        families.setdefault((row.event_id, row.window_start, row.window_end), []).append(row)
    changes = []
    for family in families.values():
        q_values = bh_qvalues([row.car_p for row in family])
        for row, q in zip(family, q_values, strict=True):
            value = finite(float(q))
            if value != row.q_value:
                changes.append({"id": row.id, "q_value": value})
    if changes:
        session.execute(update(FirmImpact), changes)
    return len(changes)


def fill_missing_q_values(db: Database, model: str) -> int:
    """q-values for events measured before q-values existed (their fingerprints still match)."""
    with db.session() as session:
        event_ids = sorted(
            set(
                session.scalars(
                    select(FirmImpact.event_id).where(
                        FirmImpact.model == model,
                        FirmImpact.car_p.is_not(None),
                        FirmImpact.q_value.is_(None),
                    )
                )
            )
        )
        return store_q_values(session, event_ids, model) if event_ids else 0


def compute_impacts(
    db: Database,
    settings: Settings,
    *,
    event_ids: Sequence[int] | None = None,
    params: StudyParameters | None = None,
    now: datetime | None = None,
) -> ImpactReport:
    """Measure every (event, ticker) and (event, basket), storing what changed.

    Idempotent: a pair is recomputed only when its input fingerprint (its bars, dividends,
    volumes, shares and the parameters) changed; groups when a member's did. Returns the
    counts per event and status. Raises NotFoundError for unknown ``event_ids``.
    """
    params = params or default_parameters(settings)
    now = now or utcnow()
    model = str(params.model_name)
    report = ImpactReport(model=model)
    with db.session() as session:
        plans = build_plans(session, event_ids, params.calendar, report)
        tickers = sorted({t for plan in plans for t in plan.tickers})
        inputs = study_inputs(session, settings, params, tickers)
        stored_firms, stored_groups = stored_fingerprints(
            session, [plan.event_id for plan in plans], model
        )
    outcomes = {outcome.event_id: outcome for outcome in report.events}
    merged = [o for o in report.events if o.merged_into is not None]
    if merged:
        with db.session() as session:
            for outcome in merged:
                outcome.removed += remove_results(session, outcome.event_id)
    work = [
        item
        for item in plan_work(plans, inputs, params, stored_firms, stored_groups, outcomes)
        if item.needed
    ]
    measured, survivors = measure_isolating_failures(inputs, work, params, outcomes)
    for item in survivors:
        outcome = outcomes[item.plan.event_id]
        try:
            with db.session() as session:
                written = EventOutcome(outcome.event_id, outcome.slug)
                write_event(session, item, measured, params, now, written)
        except Exception as exc:
            outcome.error = f"storing: {type(exc).__name__}: {exc}"
            log.exception("event %s: storing the impact failed", item.plan.slug)
            continue
        outcome.computed += written.computed
        outcome.statuses.update(written.statuses)
        outcome.groups_computed += written.groups_computed
        outcome.removed += written.removed
    fill_missing_q_values(db, model)
    # the default lists rank by importance, which counts significant moves: re-rank now
    refresh_importance(db)
    log.info("impact: %s", report.summary())
    return report
