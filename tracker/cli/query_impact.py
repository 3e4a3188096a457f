"""``tracker query impact EVENT``: registered on the query sub-app by its owner.

Kept apart from ``tracker/cli/query.py`` so the two can be written independently; the query
sub-app calls ``register(app)`` once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from tracker.cli.common import DbOption, OutputFormat
from tracker.cli.impact import query_impact


class Anchor(StrEnum):
    publication = "publication"
    attention = "attention"


class QueryModel(StrEnum):
    market = "market"
    market_adjusted = "market_adjusted"
    constant_mean = "constant_mean"


def register(app: typer.Typer) -> None:
    """Add the ``impact`` command to ``app`` (the ``tracker query`` sub-app)."""

    @app.command("impact")
    def impact(
        event: Annotated[str, typer.Argument(help="Event id or slug.")],
        tickers: Annotated[
            str | None,
            typer.Option("--tickers", help="Comma-separated tickers (default: the event's)."),
        ] = None,
        basket: Annotated[
            str | None, typer.Option("--basket", help="Only this basket (slug) and its members.")
        ] = None,
        model: Annotated[
            QueryModel, typer.Option("--model", help="Expected-return model.")
        ] = QueryModel.market,
        window: Annotated[
            str, typer.Option("--window", help="Event window, e.g. 0,1 or -1,1.")
        ] = "0,1",
        format: Annotated[
            OutputFormat, typer.Option("--format", help="Output format.")
        ] = OutputFormat.table,
        anchor: Annotated[
            Anchor,
            typer.Option(
                "--anchor",
                help="Day 0: the publication's session, or the session attention surged.",
            ),
        ] = Anchor.publication,
        db: DbOption = None,
    ) -> None:
        """What an event did to its tickers and baskets: CARs, CAARs and their tests."""
        query_impact(event, tickers, basket, model.value, window, format, db, anchor.value)
