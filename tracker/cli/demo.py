"""``tracker demo``: the DeepSeek case study on real recorded data, through the real pipeline."""

from __future__ import annotations

import typer
from sqlalchemy.engine import make_url

from tracker.cli.common import DbOption, open_database, render_table


def demo(
    live: bool = typer.Option(
        False, "--live", help="Backfill from yfinance and Google News instead (needs network)."
    ),
    db: DbOption = None,
) -> None:
    """Build the case-study database (idempotent), then print what each step did."""
    from tracker.demo import build_demo

    settings, database = open_database(db)
    try:
        report = build_demo(database, settings, live=live)
    finally:
        database.dispose()
    rows = [
        {
            "step": step.name,
            "seconds": round(step.seconds, 2),
            "counts": ", ".join(f"{k}={v}" for k, v in step.counts.items() if v),
        }
        for step in report.steps
    ]
    typer.echo(render_table(rows))
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    typer.echo(f"demo database ready in {report.seconds:.1f} s: {where}")
    typer.echo("next: `tracker dashboard` (or `make run`), `tracker query events --sort impact`")
