"""``tracker impact ...``: run the measure step, and print one event's impact.

Thin: parse, call ``tracker.measure``, print. ``query_impact`` is the body of
``tracker query impact`` (registered on the query sub-app by ``tracker.cli.query_impact``).
"""

from __future__ import annotations

from typing import Any

import typer

from tracker.cli.common import (
    DbOption,
    OutputFormat,
    emit,
    open_database,
    render_csv,
    render_table,
    to_json,
)

# tracker.measure (pandas, scipy, statsmodels) is imported inside the commands, so that
# every other ``tracker`` command starts without it.

app = typer.Typer(help="Measure the market impact of events (event studies).", no_args_is_help=True)

FIRM_TABLE = (
    "ticker",
    "status",
    "raw_return",
    "car",
    "car_se",
    "car_t",
    "car_p",
    "beta",
    "n_est",
    "abnormal_volume",
    "value_change",
)


def group_table() -> tuple[str, ...]:
    """The group columns of the table (the window is printed once, above it)."""
    from tracker.measure.payload import GROUP_KEYS

    return tuple(key for key in GROUP_KEYS if key != "window")


@app.command()
def compute(
    event: str | None = typer.Option(
        None, "--event", help="Only this event (id or slug); default: every event."
    ),
    db: DbOption = None,
) -> None:
    """Measure every linked (event, ticker) and (event, basket); only changed inputs are redone."""
    from tracker.measure.attribution import refresh_attribution
    from tracker.measure.read import resolve_event
    from tracker.measure.service import compute_impacts

    settings, database = open_database(db)
    try:
        event_ids = None
        if event is not None:
            with database.session() as session:
                event_ids = [resolve_event(session, event).id]
        report = compute_impacts(database, settings, event_ids=event_ids)
        attribution = refresh_attribution(database, settings)
    finally:
        database.dispose()
    for outcome in report.events:
        typer.echo(outcome.line)
    summary = report.summary()
    typer.echo(
        f"{summary['events']} events, model {summary['model']}: "
        f"computed {summary['computed']}, unchanged {summary['unchanged']}, "
        f"pending {summary['pending']}, insufficient {summary['insufficient']}, "
        f"failed {summary['failed']} (groups computed {summary['groups_computed']}, "
        f"unchanged {summary['groups_unchanged']})"
    )
    typer.echo(
        f"attribution: {attribution['moves']} moves ({attribution['moves_written']} rewritten), "
        f"confound ledger: {attribution['confounds']} rows for {attribution['confound_pairs']} "
        f"(event, ticker) pairs ({attribution['confound_pairs_written']} rewritten)"
    )
    if report.failed:
        raise typer.Exit(1)


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip().upper() for part in text.split(",") if part.strip()]


def _flat_firm(firm: dict[str, Any]) -> dict[str, Any]:
    """A firm with its AR map spread into ar[d] columns and its share count inlined (csv)."""
    flat = {
        k: v for k, v in firm.items() if k not in ("ar", "shares", "attributed_to", "confounds")
    }
    flat.update({f"ar[{day}]": value for day, value in firm["ar"].items()})
    flat.update(firm.get("shares") or {})
    return {**flat, **_attribution_cells(firm)}


def _attribution_cells(firm: dict[str, Any]) -> dict[str, Any]:
    """attributed_to and confounds as flat text (for csv and the table)."""
    other = firm.get("attributed_to")
    confounds = firm.get("confounds") or []
    return {
        "attributed_to": f"{other['id']}: {other['title']}" if other else "",
        "confounds": "; ".join(f"{c['kind']} {c['date']}: {c['title']}" for c in confounds),
    }


def _dollars(value: float | None) -> str:
    return "no share count" if value is None else f"{value / 1e9:+,.1f} bn USD"


def query_impact(
    event: str,
    tickers: str | None,
    basket: str | None,
    model: str,
    window: str,
    format: OutputFormat,
    db: str | None,
    anchor: str = "publication",
) -> None:
    """Print one event's firm and group results (stored, else computed on the fly)."""
    from tracker.measure.read import event_impact

    settings, database = open_database(db)
    try:
        impact = event_impact(
            database,
            settings,
            event,
            tickers=_split(tickers),
            basket=basket,
            model=model,
            window=window,
            anchor=anchor,
        )
    finally:
        database.dispose()
    if format is OutputFormat.json:
        typer.echo(to_json(impact))
        return
    firms, groups = impact["firms"], impact["groups"]
    if format is OutputFormat.csv:
        flat = [_flat_firm(firm) for firm in firms]
        columns = list(dict.fromkeys(key for row in flat for key in row))
        typer.echo(render_csv(flat, columns))
        if groups:
            typer.echo("")
            typer.echo(render_csv(groups))
        return
    head = impact["event"]
    window_text = firms[0]["window"] if firms else (groups[0]["window"] if groups else window)
    attention = impact["attention_day0"] or "no surge on another session"
    typer.echo(
        f"event {head['id']} {head['slug']}: {head['title']}\n"
        f"day 0 {impact['day0']} (publication), attention day 0 {attention}; "
        f"measured at {impact['anchor_day0']} ({impact['anchor']}), "
        f"model {model}, window {window_text}\n"
    )
    rows = [
        {
            **firm,
            "attributed_to": (_attribution_cells(firm)["attributed_to"] or "")[:40],
            "confounds": len(firm.get("confounds") or []),
        }
        for firm in firms
    ]
    emit(rows, OutputFormat.table, [*FIRM_TABLE, "q_value", "attributed_to", "confounds"])
    typer.echo(
        "q_value: Benjamini-Hochberg across the event's tickers; attributed_to: the event the "
        "day-0 move is credited to when it is another one; confounds: other news, earnings, "
        "macro releases or dividends in the window (--format json lists them)"
    )
    if groups:
        typer.echo("")
        typer.echo(render_table(groups, group_table()))
    baskets = impact["value_change"]["baskets"]
    for slug, summed in baskets.items():
        missing = ", ".join(summed["without_count"]) or "none"
        typer.echo(
            f"value change {slug}: {_dollars(summed['value_change'])} "
            f"(without a share count: {missing})"
        )
