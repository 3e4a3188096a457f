"""``tracker calendar ...``: the trading calendar and the event-time rule (IMPACT_SPEC §1)."""

from __future__ import annotations

from datetime import datetime

import typer
from pydantic import ValidationError

from tracker.cli.common import settings_for
from tracker.config import Settings
from tracker.errors import UserInputError

app = typer.Typer(help="Trading calendar: which session news first affects.", no_args_is_help=True)


def parse_aware(text: str) -> datetime:
    """An ISO-8601 timestamp WITH its offset (``Z`` or ``+hh:mm``); naive ones are refused
    because guessing their zone can move an event to another session."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise UserInputError(
            f"cannot parse timestamp {text!r}: use ISO 8601, e.g. 2025-01-20T15:00:00Z"
        ) from exc
    if value.tzinfo is None or value.utcoffset() is None:
        raise UserInputError(f"timestamp {text!r} has no time zone: add Z or an offset like +00:00")
    return value


def _checked(calendar: str) -> str:
    """The --calendar option, validated like TRACKER_CALENDAR."""
    try:
        return Settings.model_validate({"calendar": calendar}).calendar
    except ValidationError:
        raise UserInputError(f"--calendar: unknown exchange calendar {calendar!r}") from None


@app.command()
def session(
    timestamp: str = typer.Argument(..., help="Aware ISO-8601 time, e.g. 2025-01-24T21:30:00Z."),
    calendar: str | None = typer.Option(None, help="exchange_calendars code (default: settings)."),
) -> None:
    """Print the first session whose close is strictly after TIMESTAMP (event day 0)."""
    from tracker.impact.calendar import first_affected_session  # exchange_calendars is slow

    ts = parse_aware(timestamp)
    name = settings_for(None).calendar if calendar is None else _checked(calendar)
    try:
        typer.echo(first_affected_session(ts, name).isoformat())
    except (ValueError, KeyError) as exc:
        raise UserInputError(str(exc).strip("'\"")) from exc
