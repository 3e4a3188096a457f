"""Rendering: feed text escaped, only http(s) links, explicit quiet day, numbers formatted."""

from __future__ import annotations

from dataclasses import replace

from tests.digest.conftest import quiet_content, synthetic_content
from tracker.digest.render import percent, render_html, render_text, safe_url, subject

HOSTILE_TITLE = '<script>alert(1)</script><img src="http://tracker.example/pixel.gif"> & "quotes"'


def test_html_lists_events_movers_and_baskets() -> None:
    html = render_html(synthetic_content(), chart_cid="chart-1@tracker.test")
    assert "Synthetic event: a lab releases a model" in html
    assert "-12.00%" in html
    assert "-10.50%" in html
    assert "p&lt;0.001" in html
    assert "With a linked event" in html
    assert "No catalyst found" in html
    assert "Synthetic semis" in html
    assert 'src="cid:chart-1@tracker.test"' in html
    assert "http://dashboard.tracker.test:8501/event?event=synthetic-event" in html
    assert "Nothing material" not in html


def test_html_escapes_feed_text() -> None:
    html = render_html(synthetic_content(title=HOSTILE_TITLE))
    assert "<script>" not in html
    assert '<img src="http://tracker.example' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_html_has_no_external_resources_or_style_blocks() -> None:
    html = render_html(synthetic_content(), chart_cid="c@tracker.test")
    assert "<link" not in html
    assert "<style" not in html
    assert "<script" not in html
    assert 'src="http' not in html


def test_only_http_links_are_linked() -> None:
    content = synthetic_content()
    event = replace(content.events[0], url="javascript:alert(1)")
    html = render_html(replace(content, events=[event]))
    assert "javascript:" not in html
    assert safe_url("https://example.com/a?b=1") == "https://example.com/a?b=1"
    assert safe_url("ftp://example.com") is None
    assert safe_url("https://exa mple.com") is None


def test_text_alternative_is_plain_and_complete() -> None:
    text = render_text(synthetic_content(title="Line one\r\nBcc: eve@example.com\x07"))
    assert "1. Line one Bcc: eve@example.com" in text
    assert "\x07" not in text
    assert "\r" not in text
    assert "AAA" in text
    assert "-12.00%" in text
    assert "significant" in text
    assert "n/a" in text  # CCC has no abnormal return: shown as missing, never 0
    assert "NO CATALYST FOUND" in text
    assert "DDD" in text
    assert "Dashboard: http://dashboard.tracker.test:8501" in text
    assert "2030-03-04 08:05 EST" in text  # first report shown in the digest's time zone


def test_quiet_day_says_nothing_material() -> None:
    content = quiet_content()
    assert "Nothing material" in render_html(content)
    assert "Nothing material" in render_text(content)
    assert subject(content) == "AI market digest 2030-03-04: nothing material"


def test_percent_formatting() -> None:
    assert percent(-0.16972) == "-16.97%"
    assert percent(0.0) == "+0.00%"
    assert percent(None) == "n/a"


def test_long_ticker_lists_are_capped_with_a_pointer_to_the_dashboard() -> None:
    content = synthetic_content()
    event = content.events[0]
    template = event.tickers[0]
    many = [replace(template, ticker=f"T{i:02d}") for i in range(11)]
    crowded = replace(content, events=[replace(event, tickers=many)])
    html = render_html(crowded, chart_cid=None)
    text = render_text(crowded)
    for body in (html, text):
        assert "T07" in body
        assert "T08" not in body
        assert "+3 more tickers on the dashboard" in body


def test_a_non_significant_move_shows_what_could_have_been_detected() -> None:
    content = synthetic_content()
    event = content.events[0]
    noisy = replace(event.tickers[1], mde=0.0845)  # BBB: p=0.21, not significant
    strong = replace(event.tickers[0], mde=0.05)  # AAA: significant, no MDE note
    content = replace(content, events=[replace(event, tickers=[strong, noisy])])
    for rendered in (render_text(content), render_html(content)):
        assert rendered.count("detectable from") == 1
        assert "(detectable from ±8.45%)" in rendered


def test_each_move_of_the_text_digest_is_on_its_own_line() -> None:
    """A block tag at the end of the move line made Jinja's trim_blocks eat its line break,
    so every ticker of an event ran together on one line."""
    content = synthetic_content()
    event = content.events[0]
    moves = [replace(move, q_value=0.0004) for move in event.tickers]
    text = render_text(replace(content, events=[replace(event, tickers=moves)]))
    lines = [line for line in text.splitlines() if " q<0.001" in line]  # the event's moves
    assert len(lines) == len(moves) >= 2
    assert [line.split()[0] for line in lines] == [move.ticker for move in moves]
    assert all(line.count(" abnormal ") == 1 for line in lines)


def test_an_event_whose_moves_are_all_not_significant_says_so() -> None:
    content = synthetic_content()
    event = content.events[0]
    note = "none of these moves is significant after multiple-testing correction"
    assert any(move.significant for move in event.tickers)
    mixed = render_text(replace(content, events=[event]))  # AAA significant, BBB not
    assert note not in mixed
    quiet = [replace(move, significant=False) for move in event.tickers]
    content = replace(content, events=[replace(event, tickers=quiet)])
    assert note in render_text(content)
    assert note.capitalize() in render_html(content)
