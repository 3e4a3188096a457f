"""The event study at other day 0s: the attention day 0 and the sensitivity strip.

Why: a release published days before the market noticed it (DeepSeek-R1: day 0 2025-01-21,
sell-off 2025-01-27) shows a small impact at its publication day 0. Two results answer
"when did the price move, and what did the surge of attention do":

- ``attention``: every stored window at ``events.attention_day0`` (set by
  ``tracker.link.attention`` where the coverage surge came on another session), for the
  event's tickers and groups, side by side with the publication-anchored results;
- ``shift``: the sensitivity strip, CAR[0,0] (and the groups' CAAR[0,0]) with the publication
  day 0 moved by -2..+5 sessions of the exchange's calendar.

Same engine, same inputs (``tracker.measure.study.run_study``), same JSON conversion
(``tracker.measure.payload``) as the publication-anchored results; stored in
``anchored_impacts`` with parameters and input fingerprints, and rewritten per event only
when a fingerprint changed. The publication-anchored rows are never touched here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.db import Database, utcnow
from tracker.db.models import AnchoredImpact, Event
from tracker.impact.calendar import sessions_between
from tracker.impact.significance import GroupResult
from tracker.impact.study import EventRequest, FirmResult, StudyParameters, Window, window_label
from tracker.measure.events import EventPlan
from tracker.measure.inputs import MarketInputs
from tracker.measure.payload import (
    finite,
    firm_statistics,
    group_statistics_json,
    group_status,
    parameters_json,
)
from tracker.measure.service import ImpactReport, build_plans
from tracker.measure.study import (
    default_parameters,
    group_fingerprint,
    group_results,
    pair_fingerprints,
    run_study,
    with_model_and_window,
)
from tracker.measure.study_inputs import study_inputs

log = logging.getLogger(__name__)

ATTENTION = "attention"
SHIFT = "shift"
SHIFTS = tuple(range(-2, 6))
STRIP_WINDOW: Window = (0, 0)

RowKey = tuple[str, int, str, int, int]  # anchor, shift, subject, window start, window end


def basket_subject(slug: str) -> str:
    return f"basket:{slug}"


def shifted_session(day0: date, shift: int, calendar: str) -> date:
    """The session ``shift`` sessions after (before, if negative) ``day0``."""
    span = timedelta(days=3 * abs(shift) + 10)
    sessions = sessions_between(day0 - span, day0 + span, calendar)
    position = sessions.index(day0) if day0 in sessions else None
    if position is None:
        raise ValueError(f"{day0} is not a {calendar} session")
    return sessions[position + shift]


@dataclass
class AnchoredReport:
    events: int = 0
    written: int = 0
    unchanged: int = 0
    rows: int = 0
    failed: list[str] = field(default_factory=list)

    def as_counts(self) -> dict[str, int]:
        return {
            "events": self.events,
            "written": self.written,
            "unchanged": self.unchanged,
            "rows": self.rows,
            "failed": len(self.failed),
        }


@dataclass
class _Run:
    """One anchor's requests for one event: key, day 0, model parameters."""

    plan: EventPlan
    anchor: str
    shift: int
    day0: date

    @property
    def key(self) -> str:
        return f"{self.plan.event_id}:{self.anchor}:{self.shift}"

    def requests(self) -> list[EventRequest]:
        return [EventRequest(self.key, t, self.day0) for t in sorted(self.plan.tickers)]

    def group_name(self, slug: str) -> str:
        return f"{self.key}\t{slug}"

    def group_members(self, slug: str) -> list[tuple[str, str]]:
        return [(self.key, t) for t in self.plan.baskets[slug][1]]


@dataclass
class _Row:
    values: dict[str, Any]
    fingerprint: str


def _runs(
    plans: Sequence[EventPlan], attention: dict[int, date], calendar: str
) -> tuple[list[_Run], list[_Run]]:
    strip, anchored = [], []
    for plan in plans:
        if not plan.tickers:
            continue
        for shift in SHIFTS:
            strip.append(_Run(plan, SHIFT, shift, shifted_session(plan.day0, shift, calendar)))
        if plan.event_id in attention:
            anchored.append(_Run(plan, ATTENTION, 0, attention[plan.event_id]))
    return strip, anchored


def _rows_for(
    runs: Sequence[_Run], inputs: MarketInputs, params: StudyParameters
) -> dict[int, dict[RowKey, _Row]]:
    """Every anchored row (values and fingerprint) per event, from one engine call."""
    out: dict[int, dict[RowKey, _Row]] = {}
    if not runs:
        return out
    requests = [r for run in runs for r in run.requests()]
    fps = dict(
        zip(
            ((r.event_key, r.ticker) for r in requests),
            pair_fingerprints(inputs, requests, params),
            strict=True,
        )
    )
    result = run_study(inputs, requests, params)
    firms: dict[tuple[str, str, str], FirmResult] = {
        (r.event_key, r.ticker, r.window): r for r in result.firm_records()
    }
    members = {run.group_name(s): run.group_members(s) for run in runs for s in run.plan.baskets}
    groups: dict[tuple[str, Window], GroupResult] = group_results(result, members)
    parameters = parameters_json(params)
    model = str(params.model_name)
    for run in runs:
        rows = out.setdefault(run.plan.event_id, {})
        for window in params.event_windows:
            for ticker, instrument_id in sorted(run.plan.tickers.items()):
                record = firms[(run.key, ticker, window_label(window))]
                rows[(run.anchor, run.shift, ticker, *window)] = _Row(
                    {
                        "instrument_id": instrument_id,
                        "basket_id": None,
                        "model": model,
                        "day0": run.day0,
                        "status": record.status,
                        "car": finite(record.car),
                        "car_t": finite(record.car_t),
                        "car_p": finite(record.car_p),
                        "statistics": firm_statistics(record, inputs.share_basis(ticker, run.day0)),
                        "parameters": parameters,
                    },
                    fps[(run.key, ticker)],
                )
            for slug, (basket_id, tickers) in sorted(run.plan.baskets.items()):
                group = groups[(run.group_name(slug), window)]
                rows[(run.anchor, run.shift, basket_subject(slug), *window)] = _Row(
                    {
                        "instrument_id": None,
                        "basket_id": basket_id,
                        "model": model,
                        "day0": run.day0,
                        "status": group_status(group),
                        "car": finite(group.caar),
                        "car_t": finite(group.kp_t),  # Kolari-Pynnonen adjusted BMP
                        "car_p": finite(group.kp_p),
                        "statistics": group_statistics_json(group, tickers),
                        "parameters": parameters,
                    },
                    group_fingerprint(slug, [fps[(run.key, t)] for t in tickers]),
                )
    return out


def _stored(session: Session, event_ids: Sequence[int], model: str) -> dict[int, dict[RowKey, str]]:
    out: dict[int, dict[RowKey, str]] = {}
    for row in session.execute(
        select(
            AnchoredImpact.event_id,
            AnchoredImpact.anchor,
            AnchoredImpact.shift,
            AnchoredImpact.subject,
            AnchoredImpact.window_start,
            AnchoredImpact.window_end,
            AnchoredImpact.input_fingerprint,
        ).where(AnchoredImpact.event_id.in_(list(event_ids)), AnchoredImpact.model == model)
    ):
        key = (row.anchor, row.shift, row.subject, row.window_start, row.window_end)
        out.setdefault(row.event_id, {})[key] = row.input_fingerprint
    return out


def _write(
    session: Session, event_id: int, model: str, rows: dict[RowKey, _Row], now: datetime
) -> None:
    session.execute(
        delete(AnchoredImpact).where(
            AnchoredImpact.event_id == event_id, AnchoredImpact.model == model
        )
    )
    for (anchor, shift, subject, start, end), row in sorted(rows.items()):
        session.add(
            AnchoredImpact(
                event_id=event_id,
                anchor=anchor,
                shift=shift,
                subject=subject,
                window_start=start,
                window_end=end,
                input_fingerprint=row.fingerprint,
                computed_at=now,
                **row.values,
            )
        )


def compute_anchored(
    db: Database,
    settings: Settings,
    *,
    event_ids: Sequence[int] | None = None,
    params: StudyParameters | None = None,
    now: datetime | None = None,
) -> AnchoredReport:
    """Store the attention-anchored study and the sensitivity strip of every event.

    Idempotent: an event's rows are rewritten only when one of their fingerprints, or the
    set of rows it should have (a new or cleared attention day 0), changed. One failing
    event is reported and the others go on.
    """
    params = params or default_parameters(settings)
    now = now or utcnow()
    model = str(params.model_name)
    report = AnchoredReport()
    with db.session() as session:
        plans = build_plans(session, event_ids, params.calendar, ImpactReport(model=model))
        ids = [plan.event_id for plan in plans]
        attention = {
            event_id: day
            for event_id, day in session.execute(
                select(Event.id, Event.attention_day0).where(
                    Event.id.in_(ids), Event.attention_day0.is_not(None)
                )
            ).all()
            if day is not None
        }
        tickers = sorted({t for plan in plans for t in plan.tickers})
        # the same inputs as the publication study (one engine, one input)
        inputs = study_inputs(session, settings, params, tickers)
        stored = _stored(session, ids, model)
    strip, anchored = _runs(plans, attention, params.calendar)
    rows = _rows_for(strip, inputs, with_model_and_window(params, model, STRIP_WINDOW))
    for event_id, more in _rows_for(anchored, inputs, params).items():
        rows.setdefault(event_id, {}).update(more)
    for plan in plans:
        report.events += 1
        wanted = rows.get(plan.event_id, {})
        current = {key: row.fingerprint for key, row in wanted.items()}
        if current == stored.get(plan.event_id, {}):
            report.unchanged += 1
            continue
        try:
            with db.session() as session:
                _write(session, plan.event_id, model, wanted, now)
        except Exception as exc:
            report.failed.append(f"{plan.slug}: {type(exc).__name__}: {exc}")
            log.exception("event %s: storing anchored results failed", plan.slug)
            continue
        report.written += 1
        report.rows += len(wanted)
    return report
