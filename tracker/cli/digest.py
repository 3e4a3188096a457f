"""``tracker digest ...``: preview the daily digest, send it (at most once per recipient),
or retry a failed or unknown delivery."""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracker.cli.common import DbOption, open_database
from tracker.errors import UserInputError

# tracker.digest (pandas, scipy, matplotlib) is imported inside the commands, so that
# every other ``tracker`` command starts without it.
if TYPE_CHECKING:
    from tracker.config import Settings
    from tracker.db import Database
    from tracker.digest.send import DigestReport

app = typer.Typer(
    help="The daily digest e-mail: preview it, send it, or retry a failed delivery.",
    no_args_is_help=True,
)

DateOption = Annotated[
    str | None,
    typer.Option("--date", help="Session date YYYY-MM-DD (default: the last completed session)."),
]
OutOption = Annotated[Path | None, typer.Option("--out", help="Write to FILE, not stdout.")]
TextOption = Annotated[bool, typer.Option("--text", help="The plain-text alternative, not HTML.")]
ToOption = Annotated[
    list[str] | None,
    typer.Option("--to", help="Send to ADDR instead of TRACKER_DIGEST_TO (repeatable)."),
]


def _digest_date(value: str | None, settings: Settings) -> date:
    if value is None:
        from tracker.db import utcnow
        from tracker.digest.send import last_completed_session

        return last_completed_session(utcnow(), settings.calendar)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserInputError(f"--date: {value!r} is not a date (YYYY-MM-DD)") from None


@app.command()
def preview(
    date_: DateOption = None,
    out: OutOption = None,
    text: TextOption = False,
    db: DbOption = None,
) -> None:
    """Render a day's digest without sending it (the chart is embedded for browsers)."""
    from tracker.digest.chart import render_chart
    from tracker.digest.content import build_digest_content
    from tracker.digest.render import render_html, render_text

    settings, database = open_database(db)
    try:
        content = build_digest_content(database, settings, _digest_date(date_, settings))
    finally:
        database.dispose()
    if text:
        body = render_text(content)
    else:
        png = render_chart(content)
        # Browsers cannot resolve cid: links; the preview inlines the same PNG as a data URI.
        body = render_html(content, chart_cid="digest-chart" if png else None)
        if png:
            data_uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            body = body.replace('src="cid:digest-chart"', f'src="{data_uri}"')
    if out is None:
        typer.echo(body, nl=False)
        return
    try:
        out.write_text(body, encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"--out: cannot write {out}: {exc.strerror}") from exc
    typer.echo(f"wrote {out}")


@app.command()
def send(
    date_: DateOption = None,
    to: ToOption = None,
    db: DbOption = None,
) -> None:
    """Send a day's digest; recipients who already have it are skipped (printed per recipient)."""
    from tracker.digest.addresses import validate_digest_settings
    from tracker.digest.send import send_digest

    settings, database = open_database(db)
    try:
        validate_digest_settings(settings)
        report = send_digest(database, settings, _digest_date(date_, settings), recipients=to)
    finally:
        database.dispose()
    _print_report(report)


@app.command()
def retry(
    date_: Annotated[str, typer.Option("--date", help="Session date YYYY-MM-DD.")],
    to: ToOption = None,
    db: DbOption = None,
) -> None:
    """Send again where a day's delivery failed or its outcome is unknown.

    ``unknown`` means the server may have accepted the message before the sender died: look
    for its Message-ID in the mail server's log first, because this may deliver a second copy.
    Recipients already sent are never sent again.
    """
    from tracker.digest import ledger
    from tracker.digest.addresses import validate_digest_settings
    from tracker.digest.send import send_digest

    settings, database = open_database(db)
    try:
        validate_digest_settings(settings)
        day = _digest_date(date_, settings)
        targets = to if to is not None else _unfinished_recipients(database, day)
        if not targets:
            typer.echo(f"nothing to retry for {day}: no failed or unknown delivery")
            return
        report = send_digest(
            database,
            settings,
            day,
            recipients=targets,
            reopen=frozenset({ledger.FAILED, ledger.UNKNOWN}),
        )
    finally:
        database.dispose()
    _print_report(report)


def _unfinished_recipients(database: Database, day: date) -> list[str]:
    from tracker.digest import ledger

    return [
        row.recipient
        for row in ledger.deliveries(database, day)
        if row.status in (ledger.FAILED, ledger.UNKNOWN, ledger.PENDING)
    ]


def _print_report(report: DigestReport) -> None:
    for result in report.results:
        line = f"{result.recipient}: {result.outcome}"
        if result.detail and result.outcome != "sent":
            line += f" ({result.detail})"
        if result.outcome == "unknown":
            line += f" [Message-ID {result.message_id}]"
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)
