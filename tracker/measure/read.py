"""An event's impact in the issue-6 JSON shape, for the query CLI, the dashboard and the digest.

Stored results are read when every requested firm and group has a row for the model and
window; otherwise the same engine computes them on the fly (nothing is stored: reads never
write). Both paths go through ``tracker.measure.payload``, and the engine's numbers for a pair
do not depend on which other pairs are in the batch, so the output is identical either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import Settings
from tracker.db import Database
from tracker.db.models import AnchoredImpact, Event, FirmImpact, GroupImpact, Instrument
from tracker.errors import NotFoundError, UserInputError
from tracker.impact.models import ModelName
from tracker.impact.multitest import bh_qvalues
from tracker.impact.study import EventRequest, StudyParameters, Window, window_label
from tracker.measure.anchored import ATTENTION, basket_subject
from tracker.measure.events import (
    basket_memberships,
    baskets_for_event,
    event_day0,
    event_tickers,
    known_tickers,
    theme_baskets,
)
from tracker.measure.payload import (
    basket_value_change,
    finite,
    firm_output,
    firm_statistics,
    group_output,
    group_statistics_json,
)
from tracker.measure.study import (
    default_parameters,
    group_results,
    run_study,
    with_model_and_window,
)
from tracker.measure.study_inputs import study_inputs
from tracker.query.attribution import event_confounds, flagged, primary_catalysts
from tracker.query.common import check_query_model, find_event, parse_window

PUBLICATION = "publication"
ANCHORS = (PUBLICATION, ATTENTION)


def resolve_event(session: Session, event: str | int) -> Event:
    """An event by id (``12`` or ``"12"``) or slug; NotFoundError otherwise (the one
    lookup: ``tracker.query.common.find_event``)."""
    return find_event(session, event)


def query_parameters(
    settings: Settings, model: str | ModelName, window: str | Window | Sequence[int]
) -> StudyParameters:
    """The study for one model and window, or UserInputError saying what is wrong."""
    name = ModelName(check_query_model(str(model)))
    parsed = parse_window(window if isinstance(window, str) else tuple(window))
    try:
        return with_model_and_window(default_parameters(settings), name, parsed)
    except ValueError as exc:
        raise UserInputError(f"bad window: {exc}") from None


@dataclass(frozen=True)
class ImpactScope:
    """What a query asks for: the event, its day 0, firms and groups."""

    event: Event
    day0: date
    firms: dict[str, int | None]  # ticker -> instrument id (None: not linked, never stored)
    groups: dict[str, tuple[int, list[str]]]  # basket slug -> (id, member tickers)


def impact_scope(
    session: Session,
    settings: Settings,
    event: str | int,
    tickers: Sequence[str] | None,
    basket: str | None,
) -> ImpactScope:
    found = resolve_event(session, event)
    day0 = event_day0(found, settings.calendar)
    linked = event_tickers(session, [found.id]).get(found.id, {})
    memberships = basket_memberships(session)
    if basket is not None:
        if basket not in memberships:
            raise NotFoundError(f"unknown basket {basket!r}")
        basket_id, members = memberships[basket]
        shared = sorted(members & set(linked))
        if not shared:
            raise UserInputError(f"event {found.slug!r} has no ticker in basket {basket!r}")
        groups = {basket: (basket_id, shared)}
    else:
        groups = baskets_for_event(
            set(linked), theme_baskets(session, [found.id]).get(found.id, set()), memberships
        )
    if tickers:
        chosen = known_tickers(session, tickers)
    elif basket is not None:
        chosen = groups[basket][1]
    else:
        chosen = sorted(linked)
    firms = {ticker: linked.get(ticker) for ticker in chosen}
    return ImpactScope(found, day0, firms, groups)


Output = tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, dict[str, Any]]]


def _stored(session: Session, scope: ImpactScope, params: StudyParameters) -> Output | None:
    """The output from stored rows, or None when a firm or group has no row."""
    window = params.event_windows[0]
    model = str(params.model_name)
    if any(instrument_id is None for instrument_id in scope.firms.values()):
        return None
    firm_rows = {
        row.instrument_id: row
        for row in session.scalars(
            select(FirmImpact).where(
                FirmImpact.event_id == scope.event.id,
                FirmImpact.model == model,
                FirmImpact.window_start == window[0],
                FirmImpact.window_end == window[1],
            )
        )
    }
    group_rows = {
        row.basket_id: row
        for row in session.scalars(
            select(GroupImpact).where(
                GroupImpact.event_id == scope.event.id,
                GroupImpact.model == model,
                GroupImpact.window_start == window[0],
                GroupImpact.window_end == window[1],
            )
        )
    }
    firms = []
    for ticker, instrument_id in scope.firms.items():
        row = firm_rows.get(instrument_id) if instrument_id is not None else None
        if row is None:
            return None
        firm = firm_output(ticker, window, model, row.status, row.statistics)
        firm["q_value"] = row.q_value
        firms.append(firm)
    groups = []
    for slug, (basket_id, _) in scope.groups.items():
        group = group_rows.get(basket_id)
        if group is None:
            return None
        groups.append(group_output(slug, window, group.statistics))
    members = {t for _, tickers in scope.groups.values() for t in tickers}
    ids = dict(
        session.execute(
            select(Instrument.ticker, Instrument.id).where(Instrument.ticker.in_(members))
        ).all()
    )
    outputs = {}
    for ticker in members:
        row = firm_rows.get(ids.get(ticker, -1))
        if row is None:
            return None
        outputs[ticker] = firm_output(ticker, window, model, row.status, row.statistics)
    return firms, groups, outputs


def _stored_anchored(
    session: Session, scope: ImpactScope, params: StudyParameters
) -> Output | None:
    """The attention-anchored output from ``anchored_impacts``, or None when a row is missing."""
    window = params.event_windows[0]
    model = str(params.model_name)
    rows = {
        row.subject: row
        for row in session.scalars(
            select(AnchoredImpact).where(
                AnchoredImpact.event_id == scope.event.id,
                AnchoredImpact.anchor == ATTENTION,
                AnchoredImpact.model == model,
                AnchoredImpact.window_start == window[0],
                AnchoredImpact.window_end == window[1],
            )
        )
    }
    if any(row.day0 != scope.day0 for row in rows.values()):
        return None  # stored before the attention day 0 moved: recompute on the fly
    members = {t for _, tickers in scope.groups.values() for t in tickers}
    outputs = {}
    for ticker in set(scope.firms) | members:
        row = rows.get(ticker)
        if row is None:
            return None
        outputs[ticker] = firm_output(ticker, window, model, row.status, row.statistics)
    groups = []
    for slug in scope.groups:
        group = rows.get(basket_subject(slug))
        if group is None:
            return None
        groups.append(group_output(slug, window, group.statistics))
    return [outputs[t] for t in scope.firms], groups, outputs


def _on_the_fly(
    session: Session, scope: ImpactScope, params: StudyParameters, settings: Settings
) -> Output:
    """The output computed by the engine now, from the stored inputs (not stored)."""
    window = params.event_windows[0]
    model = str(params.model_name)
    key = str(scope.event.id)
    pairs = sorted(set(scope.firms) | {t for _, members in scope.groups.values() for t in members})
    inputs = study_inputs(session, settings, params, pairs)
    result = run_study(inputs, [EventRequest(key, t, scope.day0) for t in pairs], params)
    records = {r.ticker: r for r in result.firm_records() if r.window == window_label(window)}
    outputs = {
        t: firm_output(
            t,
            window,
            model,
            records[t].status,
            firm_statistics(records[t], inputs.share_basis(t, scope.day0)),
        )
        for t in pairs
    }
    firms = [outputs[t] for t in scope.firms]
    for firm, q in zip(firms, bh_qvalues([f["car_p"] for f in firms]), strict=True):
        firm["q_value"] = finite(q)
    members = {slug: [(key, t) for t in tickers] for slug, (_, tickers) in scope.groups.items()}
    results = group_results(result, members)
    groups = [
        group_output(slug, window, group_statistics_json(results[(slug, window)], tickers))
        for slug, (_, tickers) in scope.groups.items()
    ]
    return firms, groups, outputs


def event_impact(
    db: Database,
    settings: Settings,
    event: str | int,
    *,
    tickers: Sequence[str] | None = None,
    basket: str | None = None,
    model: str | ModelName = "market",
    window: str | Window | Sequence[int] = (0, 1),
    compute: bool = False,
    anchor: str = PUBLICATION,
) -> dict[str, Any]:
    """The issue-6 JSON object for one event: ``event``, ``day0``, ``firms``, ``groups``.

    Also at top level: ``attention_day0`` (None when attention did not surge on another
    session), ``anchor`` and ``anchor_day0`` (the day 0 the numbers are measured at:
    ``day0`` for ``publication``, the attention day 0 for ``attention`` where there is one),
    ``lag_sessions`` and ``value_change`` (dollars per firm and summed per basket).

    ``tickers`` narrows the firms (a known ticker the event is not linked to is computed on
    the fly); ``basket`` narrows the groups to that basket and the firms to its members.
    ``compute=True`` skips the stored rows (the identity test uses it). Raises NotFoundError
    for an unknown event, ticker or basket and UserInputError for a bad model or window.
    """
    if anchor not in ANCHORS:
        raise UserInputError(f"bad anchor {anchor!r}: expected one of {', '.join(ANCHORS)}")
    params = query_parameters(settings, model, window)
    with db.session() as session:
        scope = impact_scope(session, settings, event, tickers, basket)
        attention_day0 = scope.event.attention_day0
        lag = (scope.event.attention_detail or {}).get("lag_sessions")
        measured = scope
        read = _stored
        if anchor == ATTENTION and attention_day0 is not None:
            measured = replace(scope, day0=attention_day0)
            read = _stored_anchored
        stored = None if compute else read(session, measured, params)
        firms, groups, members = (
            stored
            if stored is not None
            else _on_the_fly(session, measured, params, settings)
        )
        if any("q_value" not in firm for firm in firms):  # anchored rows store no q
            for firm, q in zip(firms, bh_qvalues([f["car_p"] for f in firms]), strict=True):
                firm["q_value"] = finite(q)
        add_attribution(session, scope, firms, params)
    return {
        "event": {"id": scope.event.id, "slug": scope.event.slug, "title": scope.event.title},
        "day0": scope.day0.isoformat(),
        "attention_day0": attention_day0.isoformat() if attention_day0 else None,
        "anchor": anchor,
        "anchor_day0": measured.day0.isoformat(),
        "lag_sessions": lag if attention_day0 is not None else 0,
        "firms": firms,
        "groups": groups,
        "value_change": value_change_summary(firms, scope, members),
    }


def value_change_summary(
    firms: Sequence[dict[str, Any]], scope: ImpactScope, members: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Dollars per firm and summed per basket (raw closes x the count in force before day 0)."""
    return {
        "firms": {
            str(f["ticker"]): {
                "value_change": f.get("value_change"),
                **dict(f.get("shares") or {}),
            }
            for f in firms
        },
        "baskets": {
            slug: basket_value_change([members[t] for t in tickers if t in members])
            for slug, (_, tickers) in scope.groups.items()
        },
    }


def add_attribution(
    session: Session, scope: ImpactScope, firms: list[dict[str, Any]], params: StudyParameters
) -> None:
    """Each firm gains ``attributed_to`` and ``confounds`` (read from the measure layer).

    ``attributed_to``: the primary catalyst of the ticker's day-0 move when it is another
    event (None when it is this one or no move is stored); ``confounds``: the ledger rows in
    the window that are not of the event's own story, as ``kind``, ``title``, ``date``.
    """
    window = params.event_windows[0]
    ids = {t: i for t, i in scope.firms.items() if i is not None}
    primaries = primary_catalysts(session, list(ids.values()), [scope.day0], str(params.model_name))
    ledger = event_confounds(session, scope.event.id, window)
    for firm in firms:
        instrument_id = ids.get(firm["ticker"])
        primary = primaries.get((instrument_id, scope.day0)) if instrument_id else None
        firm["attributed_to"] = (
            primary.as_json() if primary is not None and primary.id != scope.event.id else None
        )
        rows = ledger.get(instrument_id, []) if instrument_id else []
        firm["confounds"] = [
            row.as_json() for row in flagged(rows, scope.event.story_id, scope.event.id)
        ]
