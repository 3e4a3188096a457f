"""The one small inline chart: abnormal returns of the tickers exposed to the day's top event.

Rendered with Matplotlib's Agg backend (no display, thread-safe when each call owns its
figure) to a PNG small enough that mail clients show it inline without a "download" prompt.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from tracker.digest.content import DigestContent, TickerMove
from tracker.digest.render import NEGATIVE_COLOUR, POSITIVE_COLOUR

MAX_BARS = 12
WIDTH_INCHES = 5.6
DPI = 100


def chart_moves(content: DigestContent) -> tuple[str, list[TickerMove]]:
    """The title and the tickers to plot: the top event's, else the biggest movers."""
    event = content.headline_event
    if event is not None:
        moves = [move for move in event.tickers if move.abnormal_return is not None]
        if moves:
            return f"Abnormal return, {content.date.isoformat()}", moves[:MAX_BARS]
    movers = [*content.movers_with_event, *content.movers_without_catalyst]
    moves = [mover.move for mover in movers if mover.move.abnormal_return is not None]
    return f"Biggest abnormal movers, {content.date.isoformat()}", moves[:MAX_BARS]


def render_chart(content: DigestContent) -> bytes | None:
    """PNG bytes of the day's chart, or ``None`` when there is nothing to plot."""
    title, moves = chart_moves(content)
    if not moves:
        return None
    values = [100 * (move.abnormal_return or 0.0) for move in moves]
    labels = [move.ticker for move in moves]
    height = 0.9 + 0.28 * len(moves)
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI)
    axes = figure.add_subplot()
    positions = list(range(len(moves)))[::-1]
    colours = [NEGATIVE_COLOUR if value < 0 else POSITIVE_COLOUR for value in values]
    axes.barh(positions, values, color=colours, height=0.6)
    axes.set_yticks(positions, labels, fontsize=8)
    axes.axvline(0, color="#667085", linewidth=0.8)
    axes.set_xlabel("%", fontsize=8)
    axes.tick_params(axis="x", labelsize=8)
    axes.set_title(title, fontsize=9, loc="left")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
