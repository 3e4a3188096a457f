"""``tracker status``: per job last run, status and lag; failing feeds; data freshness."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer

from tracker.cli.common import DbOption, open_database, render_table, to_json

app = typer.Typer(help="How the scheduler and the data are doing.")


class StatusFormat(StrEnum):
    table = "table"
    json = "json"


JOB_COLUMNS = [
    "job",
    "last_status",
    "last_scheduled_for",
    "last_finished_at",
    "lag",
    "next_due",
    "last_error",
]


def human_lag(seconds: float | None) -> str:
    """0 when current; otherwise how far the last success trails what was due."""
    if seconds is None:
        return "-"
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins}m" if hours else f"{mins}m"


@app.callback(invoke_without_command=True)
def status(
    db: DbOption = None,
    output: Annotated[
        StatusFormat, typer.Option("--format", help="table or json.")
    ] = StatusFormat.table,
) -> None:
    """Report per job (last run, status, lag), failing feeds and per-ticker freshness."""
    from tracker.scheduler.pipeline import pipeline_jobs
    from tracker.scheduler.status import collect_status

    settings, database = open_database(db)
    try:
        report = collect_status(
            database, pipeline_jobs(settings), datetime.now(UTC), settings.calendar
        )
    finally:
        database.dispose()
    if output is StatusFormat.json:
        typer.echo(to_json(report.as_dict()))
        return
    typer.echo("Jobs")
    typer.echo(
        render_table(
            [{**job, "lag": human_lag(job["lag_seconds"])} for job in report.jobs], JOB_COLUMNS
        )
    )
    typer.echo("\nFailing feeds")
    typer.echo(
        render_table(report.failing_feeds, ["feed", "failing_since", "error_count", "last_error"])
    )
    typer.echo("\nData freshness (daily bars)")
    typer.echo(render_table(report.freshness))
