"""``tracker query ...``: historical questions from the shell (thin: parse, call, print).

Everything is computed by ``tracker.query``; these commands only parse options, call it
and print. An empty answer is valid (status 0); bad input or an unknown name is one line
on stderr and status 2.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracker.cli.common import DbOption, OutputFormat, emit, open_database, to_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# tracker.query (pandas, numpy) is imported inside the commands, so that every other
# ``tracker`` command starts without it. These defaults mirror tracker.query's
# (tests/cli/test_query.py checks they agree).
DEFAULT_MODEL = "market"
DEFAULT_WINDOW = "0,1"
ANALOG_WINDOW = "0,5"
DEFAULT_ALPHA = 0.05


app = typer.Typer(
    help="Historical queries over events, articles and impacts.", no_args_is_help=True
)

FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table, json or csv.", case_sensitive=False)
]

PERCENT_FIELDS = ("top_car", "abnormal_return", "car")


@contextmanager
def _session(db: str | None) -> Iterator[Session]:
    _settings, database = open_database(db)
    try:
        with database.session() as session:
            yield session
    finally:
        database.dispose()


def _for_table(row: Mapping[str, Any]) -> dict[str, Any]:
    """Returns as signed percentages, for people; json and csv keep the fractions."""
    out = dict(row)
    for name in PERCENT_FIELDS:
        if isinstance(out.get(name), float):
            out[name] = f"{out[name] * 100:+.2f}%"
    return out


def _emit(rows: list[dict[str, Any]], output: OutputFormat, columns: list[str]) -> None:
    if output is OutputFormat.table:
        rows = [_for_table(row) for row in rows]
    emit(rows, output, columns)


@app.command("events")
def events_command(
    text: Annotated[
        str | None, typer.Option("--text", help='Words (ANDed), word*, "a phrase".')
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First UTC day, YYYY-MM-DD.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last UTC day, YYYY-MM-DD.")] = None,
    entity: Annotated[str | None, typer.Option(help="Entity slug, name or alias.")] = None,
    ticker: Annotated[str | None, typer.Option(help="Events linked to this ticker.")] = None,
    basket: Annotated[str | None, typer.Option(help="Events linked to this basket.")] = None,
    kind: Annotated[str | None, typer.Option(help="Event kind, e.g. model_release.")] = None,
    origin: Annotated[str | None, typer.Option(help="curated or detected.")] = None,
    min_abs_car: Annotated[
        float | None, typer.Option("--min-abs-car", help="Minimum |CAR| as a fraction (0.05).")
    ] = None,
    window: Annotated[str, typer.Option(help="Event window a,b in trading days.")] = DEFAULT_WINDOW,
    significant: Annotated[bool, typer.Option(
            "--significant",
            help="CAR q-value < alpha (Benjamini-Hochberg across the event's tickers).",
        )] = False,
    alpha: Annotated[float, typer.Option(help="Significance level.")] = DEFAULT_ALPHA,
    model: Annotated[str, typer.Option(help="Expected-return model.")] = DEFAULT_MODEL,
    sort: Annotated[
        str,
        typer.Option(help="importance (default), time (newest first) or impact (max |CAR|)."),
    ] = "importance",
    story: Annotated[
        str | None, typer.Option(help="Only this story's events (id or slug).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many events.")] = 50,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Events matching every given filter."""
    from tracker.query import EventFilter, as_record, parse_day, parse_window, search_events

    flt = EventFilter(
        text=text,
        start=parse_day(from_, "--from") if from_ is not None else None,
        end=parse_day(to, "--to") if to is not None else None,
        entity=entity,
        ticker=ticker,
        basket=basket,
        kind=kind,
        origin=origin,
        min_abs_car=min_abs_car,
        significant=significant,
        alpha=alpha,
        window=parse_window(window),
        model=model,
        sort=sort,  # type: ignore[arg-type]  # validated by EventFilter
        limit=limit,
        story=story,
    ).validated()
    with _session(db) as session:
        events = search_events(session, flt)
    rows = [as_record(event) for event in events]
    columns = [
        "id",
        "first_reported_at",
        "importance",
        "kind",
        "origin",
        "title",
        "top_ticker",
        "top_car",
        "top_car_p",
        "top_car_q",
    ]
    if output is not OutputFormat.table:
        columns = list(rows[0]) if rows else columns
    _emit(rows, output, columns)


@app.command("ticker")
def ticker_command(
    ticker: Annotated[str, typer.Argument(help="The ticker, e.g. NVDA.")],
    top: Annotated[int, typer.Option(help="How many moves of each kind.")] = 10,
    model: Annotated[str, typer.Option(help="Expected-return model.")] = DEFAULT_MODEL,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """A ticker's largest abnormal moves with their events, and large moves with no event."""
    from tracker.query import as_record, ticker_moves

    with _session(db) as session:
        result = ticker_moves(session, ticker, top=top, model=model)
    # event-day moves are stored results of ``result.model``; moves with no event are
    # computed with ``result.unexplained_model``: every row names its model, so the two
    # tables are not read as comparable numbers
    moves: list[dict[str, Any]] = [
        {
            "day0": move.day0,
            "model": result.model,
            "abnormal_return": move.abnormal_return,
            "t_stat": move.t_stat,
            "p_value": move.p_value,
            "raw_return": move.raw_return,
            "q_value": move.q_value,
            "primary": as_record(move.primary) if move.primary else None,
            "events": [as_record(event) for event in move.events],
        }
        for move in result.moves
    ]
    unexplained = [
        {**as_record(move), "model": result.unexplained_model} for move in result.unexplained
    ]
    if output is OutputFormat.json:
        typer.echo(
            to_json(
                {
                    "ticker": result.ticker,
                    "model": result.model,
                    "moves": moves,
                    "unexplained_model": result.unexplained_model,
                    "unexplained": unexplained,
                }
            )
        )
        return
    flat = [
        {
            **move,
            "primary": f"{move['primary']['id']}: {move['primary']['title']}"
            if move["primary"]
            else "",
            "other_events": len(move["events"]) - (1 if move["primary"] else 0),
            "events": "; ".join(f"{e['id']}: {e['title']}" for e in move["events"]),
        }
        for move in moves
    ]
    if output is OutputFormat.csv:
        emit(
            flat,
            output,
            [
                "day0",
                "model",
                "abnormal_return",
                "t_stat",
                "p_value",
                "q_value",
                "raw_return",
                "primary",
                "events",
            ],
        )
        return
    typer.echo(
        f"{result.ticker}: largest abnormal returns on event days "
        f"(AR[0,0], model {result.model}: stored event-study results)"
    )
    _emit(
        flat,
        output,
        ["day0", "model", "abnormal_return", "p_value", "q_value", "primary", "other_events"],
    )
    typer.echo("(primary: the move's most likely catalyst; `tracker query attribution TICKER ")
    typer.echo(" --date DAY` lists the other candidates and why)")
    typer.echo("")
    typer.echo(
        f"largest moves with no event (AR, model {result.unexplained_model}: "
        f"computed from daily bars, not comparable with the table above)"
    )
    _emit(unexplained, output, ["date", "model", "abnormal_return"])


@app.command("attribution")
def attribution_command(
    ticker: Annotated[str, typer.Argument(help="The ticker, e.g. NVDA.")],
    day: Annotated[str, typer.Option("--date", help="The session, YYYY-MM-DD.")],
    model: Annotated[str, typer.Option(help="Expected-return model.")] = DEFAULT_MODEL,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Which event a ticker's move on one session is credited to, and the other candidates."""
    from tracker.query import move_attribution, parse_day

    with _session(db) as session:
        result = move_attribution(session, ticker, parse_day(day, "--date"), model=model)
    record = result.as_json()
    if output is OutputFormat.json:
        typer.echo(to_json(record))
        return
    rows = [
        {
            "rank": candidate.rank,
            "role": candidate.role,
            "score": candidate.score,
            "event_id": candidate.event.id,
            "event": candidate.event.title,
            "story": candidate.story.title if candidate.story else "",
            "why": candidate.why,
        }
        for candidate in result.candidates
    ]
    columns = ["rank", "role", "score", "event_id", "event", "story", "why"]
    if output is OutputFormat.csv:
        emit(rows, output, columns)
        return
    figures = _for_table({"abnormal_return": result.abnormal_return})
    typer.echo(
        f"{result.ticker} on {result.session.isoformat()}: abnormal return "
        f"{figures['abnormal_return']}, p {_number(result.p_value)}, "
        f"q {_number(result.q_value)} (model {model})"
    )
    typer.echo(f"primary catalyst: {result.primary.event.id}: {result.primary.event.title}")
    _emit(rows, output, columns)


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


@app.command("analogs")
def analogs_command(
    event: Annotated[str, typer.Argument(help="Event id or slug.")],
    ticker: Annotated[str | None, typer.Option(help="Reaction of this ticker.")] = None,
    basket: Annotated[str | None, typer.Option(help="Reaction of this basket (CAAR).")] = None,
    window: Annotated[str, typer.Option(help="Event window a,b in trading days.")] = ANALOG_WINDOW,
    match: Annotated[str, typer.Option(help="kind, theme or any.")] = "any",
    model: Annotated[str, typer.Option(help="Expected-return model.")] = DEFAULT_MODEL,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Earlier events of the same kind or theme and the distribution of their CARs."""
    from tracker.query import as_record, find_analogs, parse_window

    with _session(db) as session:
        result = find_analogs(
            session,
            event,
            ticker=ticker,
            basket=basket,
            window=parse_window(window),
            model=model,
            match=match,  # type: ignore[arg-type]  # validated by find_analogs
        )
    rows = [as_record(row) for row in result.rows]
    if output is OutputFormat.json:
        record = as_record(result)
        record["distribution"] = as_record(result.distribution)
        record["summary"] = result.summary()
        typer.echo(to_json(record))
        return
    columns = ["event_id", "first_reported_at", "kind", "title", "car", "p_value"]
    if output is OutputFormat.csv:
        emit(rows, output, columns)
        return
    typer.echo(f"analogs of {result.event_slug}: {result.event_title}")
    typer.echo(f"(p_value: {result.p_value_label}, model {result.model})")
    _emit(rows, output, columns)
    typer.echo("")
    typer.echo(result.summary())
    if result.unmeasured:
        typer.echo(f"({result.unmeasured} analog(s) have no stored result and are left out)")


@app.command("stories")
def stories_command(
    sort: Annotated[str, typer.Option(help="importance (default) or time (latest first).")] = (
        "importance"
    ),
    min_events: Annotated[int, typer.Option(help="Only stories with this many events.")] = 1,
    limit: Annotated[int, typer.Option(help="At most this many stories.")] = 100,
    output: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Stories (threads of events), most important first; ``query events --story S`` lists one."""
    from tracker.query import as_record, list_stories

    with _session(db) as session:
        stories = list_stories(
            session,
            sort=sort,  # type: ignore[arg-type]  # validated by list_stories
            limit=limit,
            min_events=min_events,
        )
    rows = [as_record(story) for story in stories]
    columns = [
        "id",
        "slug",
        "importance",
        "event_count",
        "article_count",
        "first_reported_at",
        "last_reported_at",
        "title",
    ]
    if output is not OutputFormat.table:
        columns = list(rows[0]) if rows else columns
    _emit(rows, output, columns)
