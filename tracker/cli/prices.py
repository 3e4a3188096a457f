"""``tracker prices ...``: fetch bars into the database and show them."""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Any

import typer

from tracker.cli.common import DbOption, OutputFormat, emit, open_database
from tracker.errors import NotFoundError, UserInputError

# The sources, tracker.ingest and tracker.markets (pandas) are imported inside the
# commands, so that every other ``tracker`` command starts without them.
if TYPE_CHECKING:
    from tracker.config import Settings
    from tracker.sources.prices import PriceSource

app = typer.Typer(help="Daily and intraday prices: fetch and show.", no_args_is_help=True)

SOURCES = ("yfinance", "recorded")
SHOW_COLUMNS = ["date", "open", "high", "low", "close", "adj_close", "volume"]
REPORT_COLUMNS = [
    "ticker",
    "data",
    "inserted",
    "updated",
    "unchanged",
    "skipped",
    "actions",
    "status",
    "detail",
]


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UserInputError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from exc


def _tickers(text: str | None) -> list[str]:
    if not text:
        return []
    return list(dict.fromkeys(t.strip().upper() for t in text.split(",") if t.strip()))


def make_source(name: str, settings: Settings) -> PriceSource:
    if name == "recorded":
        from tracker.sources.prices_recorded import RecordedPriceSource

        return RecordedPriceSource(settings.require_data_dir())
    if name == "yfinance":
        from tracker.sources.prices_yfinance import YFinancePriceSource

        return YFinancePriceSource(calendar=settings.calendar)
    raise UserInputError(f"--source {name!r}: expected one of {', '.join(SOURCES)}")


@app.command()
def fetch(
    tickers: str | None = typer.Option(None, help="Comma-separated tickers (default: all)."),
    start: str | None = typer.Option(
        None, help="First date (default: resume after the last stored bar)."
    ),
    end: str | None = typer.Option(None, help="Last date, included (default: today)."),
    source: str = typer.Option("yfinance", help="yfinance | recorded"),
    interval: str | None = typer.Option(
        None,
        help="1d or an intraday interval (1h, 5m, 1m ...); "
        "default: 1d plus the source's default intraday intervals.",
    ),
    db: DbOption = None,
) -> None:
    """Fetch bars and corporate actions; print what was inserted/updated/skipped per ticker."""
    from tracker.ingest.prices import ingest_prices
    from tracker.markets.universe import INSTRUMENTS, seed_universe
    from tracker.sources.prices import INTRADAY_INTERVALS

    if interval is not None and interval != "1d" and interval not in INTRADAY_INTERVALS:
        raise UserInputError(
            f"--interval {interval!r}: expected 1d or one of {', '.join(INTRADAY_INTERVALS)}"
        )
    first, last = _date(start, "--start"), _date(end, "--end")
    if first and last and first > last:
        raise UserInputError(f"--start {first} is after --end {last}")
    settings, database = open_database(db)
    try:
        price_source = make_source(source, settings)
        with database.session() as session:
            seed_universe(session)
        wanted = (
            _tickers(tickers) or price_source.available_tickers() or [s.ticker for s in INSTRUMENTS]
        )
        report = ingest_prices(
            database,
            price_source,
            wanted,
            first,
            last,
            interval=interval,
            calendar=settings.calendar,
        )
    finally:
        database.dispose()
    emit([r.as_row() for r in report.results], OutputFormat.table, REPORT_COLUMNS)
    counts = report.as_counts()
    typer.echo(
        f"{counts['tickers']} ticker(s): {counts['inserted']} inserted, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged, "
        f"{counts['skipped']} skipped, {counts['failed']} failed"
    )
    if report.results and len(report.failed) == len(report.results):
        raise typer.Exit(1)


def _display(value: Any) -> Any:
    """Prices rounded to 4 decimals: the sources' float32 artefacts (118.41999816894531) are
    noise, not precision. Stored values are untouched."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    return value


FORMAT_OPTION = typer.Option(OutputFormat.table, "--format", help="table | json | csv")


@app.command()
def show(
    ticker: str = typer.Argument(..., help="Ticker, e.g. NVDA."),
    from_: str | None = typer.Option(None, "--from", help="First date (YYYY-MM-DD)."),
    to: str | None = typer.Option(None, "--to", help="Last date, included."),
    output: OutputFormat = FORMAT_OPTION,
    db: DbOption = None,
) -> None:
    """Print a ticker's stored daily bars."""
    from pandas import NA

    from tracker.markets.bars import load_daily_bars

    first, last = _date(from_, "--from"), _date(to, "--to")
    if first and last and first > last:
        raise UserInputError(f"--from {first} is after --to {last}")
    _, database = open_database(db)
    try:
        with database.session() as session:
            frame = load_daily_bars(session, [ticker], first, last)
            if frame.empty:
                known = load_daily_bars(session, [ticker], None, None)
                if known.empty:
                    raise NotFoundError(f"no stored daily bars for {ticker.upper()}")
    finally:
        database.dispose()
    rows = [
        {col: _display(record[col]) for col in SHOW_COLUMNS}
        | {
            "volume": None
            if record["volume"] is None or record["volume"] is NA
            else int(record["volume"])
        }
        for record in frame.astype(object).to_dict("records")
    ]
    emit(rows, output, SHOW_COLUMNS)


SHARES_COLUMNS = ["ticker", "inserted", "updated", "unchanged", "status", "detail"]


@app.command()
def shares(
    tickers: str | None = typer.Option(
        None, help="Comma-separated tickers (default: the source's, else every equity)."
    ),
    start: str | None = typer.Option(None, help="First as-of date (default: all)."),
    end: str | None = typer.Option(None, help="Last as-of date, included (default: all)."),
    source: str = typer.Option("yfinance", help="yfinance | recorded"),
    db: DbOption = None,
) -> None:
    """Fetch shares outstanding over time (the value change uses the count before day 0)."""
    from tracker.ingest.shares import ingest_shares
    from tracker.markets.universe import INSTRUMENTS, seed_universe
    from tracker.sources.shares import RecordedSharesSource, SharesSource
    from tracker.sources.shares_yfinance import YFinanceSharesSource

    if source not in SOURCES:
        raise UserInputError(f"--source {source!r}: expected one of {', '.join(SOURCES)}")
    first, last = _date(start, "--start"), _date(end, "--end")
    if first and last and first > last:
        raise UserInputError(f"--start {first} is after --end {last}")
    settings, database = open_database(db)
    try:
        share_source: SharesSource
        if source == "recorded":
            recorded = RecordedSharesSource(settings.require_data_dir())
            default = recorded.available_tickers()
            share_source = recorded
        else:
            share_source = YFinanceSharesSource()
            default = [s.ticker for s in INSTRUMENTS if s.kind == "equity"]
        with database.session() as session:
            seed_universe(session)
        report = ingest_shares(database, share_source, _tickers(tickers) or default, first, last)
    finally:
        database.dispose()
    for problem in report.problems:
        typer.echo(f"skipped: {problem}", err=True)
    emit([r.as_row() for r in report.tickers], OutputFormat.table, SHARES_COLUMNS)
    counts = report.as_counts()
    typer.echo(
        f"{counts['tickers']} ticker(s): {counts['inserted']} inserted, "
        f"{counts['updated']} updated, {counts['failed']} failed, "
        f"{counts['bad_rows']} bad row(s) skipped"
    )
    if report.tickers and len(report.failed) == len(report.tickers):
        raise typer.Exit(1)
