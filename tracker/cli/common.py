"""What every command shares: the ``--db`` option, settings, the database and output formats."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracker.config import Settings, load_settings
from tracker.text import csv_text_cell, one_line

if TYPE_CHECKING:
    from tracker.db import Database

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (overrides TRACKER_DATABASE_URL).", show_default=False),
]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def settings_for(db: str | None) -> Settings:
    """The validated settings with the ``--db`` override applied."""
    return load_settings(database_url=db)


def open_database(db: str | None) -> tuple[Settings, Database]:
    from tracker.db import Database  # the ORM, only for the commands that open a database

    settings = settings_for(db)
    return settings, Database.connect(settings.database_url)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, default=_json_default, allow_nan=False)


def _cell(value: Any) -> str:
    """A table cell; text (feed titles are untrusted) loses control and bidi characters."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return one_line(str(value))


def _csv_cell(value: Any) -> str:
    """A CSV cell: numbers and dates as in the table, text never read as a formula."""
    if isinstance(value, str):
        return csv_text_cell(value)
    return _cell(value)


def render_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A plain aligned text table (no colour codes, so it pipes cleanly)."""
    if not rows:
        return "(no rows)"
    cols = list(columns or rows[0].keys())
    cells = [[_cell(row.get(col)) for col in cols] for row in rows]
    widths = [max(len(col), *(len(line[i]) for line in cells)) for i, col in enumerate(cols)]
    lines = ["  ".join(col.ljust(widths[i]) for i, col in enumerate(cols))]
    lines.append("  ".join("-" * width for width in widths))
    lines.extend("  ".join(line[i].ljust(widths[i]) for i in range(len(cols))) for line in cells)
    return "\n".join(line.rstrip() for line in lines)


def render_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    buffer = io.StringIO()
    cols = list(columns or (rows[0].keys() if rows else []))
    writer = csv.DictWriter(buffer, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({col: _csv_cell(row.get(col)) for col in cols})
    return buffer.getvalue().rstrip("\n")


def emit(
    rows: Sequence[Mapping[str, Any]],
    output: OutputFormat,
    columns: Sequence[str] | None = None,
) -> None:
    """Print rows in the chosen format."""
    if output is OutputFormat.json:
        typer.echo(to_json(list(rows)))
    elif output is OutputFormat.csv:
        typer.echo(render_csv(rows, columns))
    else:
        typer.echo(render_table(rows, columns))
