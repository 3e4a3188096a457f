"""The inline chart: a small real PNG, or none when there is nothing to plot."""

from __future__ import annotations

import io
from dataclasses import replace

from matplotlib import image

from tests.digest.conftest import quiet_content, synthetic_content
from tracker.digest.chart import chart_moves, render_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_chart_is_a_small_png_of_the_top_event() -> None:
    content = synthetic_content()
    png = render_chart(content)
    assert png is not None
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) < 60_000
    pixels = image.imread(io.BytesIO(png))
    assert pixels.shape[1] == 560  # 5.6 in at 100 dpi: fits a 600 px mail column
    title, moves = chart_moves(content)
    assert [move.ticker for move in moves] == ["AAA", "BBB"]  # CCC has no abnormal return
    assert "Abnormal return" in title


def test_chart_falls_back_to_movers_then_to_nothing() -> None:
    content = replace(synthetic_content(), events=[])
    title, moves = chart_moves(content)
    assert [move.ticker for move in moves] == ["AAA", "DDD"]
    assert title.startswith("Biggest abnormal movers")
    assert render_chart(quiet_content()) is None
