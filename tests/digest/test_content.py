"""The digest's content read from the real recorded January 2025 prices and events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.measure.conftest import PRICE_TICKERS, add_january_events
from tests.measure.recorded import load_recorded_prices
from tracker.config import Settings, load_settings
from tracker.db import Database
from tracker.digest.content import build_digest_content
from tracker.digest.send import send_digest
from tracker.errors import UserInputError
from tracker.measure.attribution import refresh_attribution
from tracker.measure.service import compute_impacts

SELLOFF = date(2025, 1, 27)


def settings_for(database: Database) -> Settings:
    url = database.engine.url.render_as_string(hide_password=False)
    return load_settings(database_url=url, dashboard_url="http://dashboard.tracker.test:8501")


@pytest.fixture
def measured(database: Database, data_dir: Path) -> Database:
    with database.session() as session:
        load_recorded_prices(session, data_dir, PRICE_TICKERS)
    add_january_events(database)
    compute_impacts(database, settings_for(database), now=datetime(2026, 1, 1, tzinfo=UTC))
    refresh_attribution(database, settings_for(database))
    return database


def test_selloff_digest(measured: Database) -> None:
    content = build_digest_content(measured, settings_for(measured), SELLOFF)
    assert not content.quiet
    assert [event.slug for event in content.events] == ["deepseek-selloff"]
    event = content.events[0]
    assert event.first_reported_at == datetime(2025, 1, 27, 7, 49, 1, tzinfo=UTC)
    moves = {move.ticker: move for move in event.tickers}
    assert round((moves["NVDA"].day_move or 0) * 100, 2) == -16.97
    assert round((moves["VST"].day_move or 0) * 100, 1) == -28.3
    for ticker in ("NVDA", "VST"):
        assert moves[ticker].abnormal_return is not None
        assert moves[ticker].abnormal_return < -0.10
        assert moves[ticker].significant
    # biggest first: by |abnormal return| as stored by the engine
    magnitudes = [abs(move.abnormal_return or 0) for move in event.tickers]
    assert magnitudes == sorted(magnitudes, reverse=True)
    linked = {mover.move.ticker for mover in content.movers_with_event}
    assert {"NVDA", "VST"} <= linked
    assert all(m.event_slug == "deepseek-selloff" for m in content.movers_with_event)
    assert not {m.move.ticker for m in content.movers_without_catalyst} & linked
    baskets = {basket.slug: basket for basket in content.baskets}
    assert baskets["ai_semis"].worst is not None
    assert baskets["ai_semis"].average_move is not None
    assert baskets["ai_semis"].average_move < -0.05
    assert content.dashboard_url == "http://dashboard.tracker.test:8501"


def test_next_session_has_the_rebound_not_the_selloff(measured: Database) -> None:
    content = build_digest_content(measured, settings_for(measured), date(2025, 1, 28))
    assert [event.slug for event in content.events] == ["nvidia-rebound"]


def test_empty_tracker_is_a_quiet_day(database: Database) -> None:
    content = build_digest_content(database, settings_for(database), SELLOFF)
    assert content.quiet
    assert content.events == []
    assert content.movers_with_event == []
    assert content.movers_without_catalyst == []


def test_a_day_without_a_session_is_refused(database: Database) -> None:
    with pytest.raises(UserInputError, match=r"2025-01-20 is not a XNYS trading session"):
        build_digest_content(database, settings_for(database), date(2025, 1, 20))


def test_selloff_digest_delivered_over_smtp(measured: Database, start_smtp) -> None:
    server = start_smtp()
    settings = server.settings(database_url=settings_for(measured).database_url)
    report = send_digest(measured, settings, SELLOFF, recipients=["alice@example.com"])
    assert report.as_counts() == {"recipients": 1, "sent": 1}
    message = server.handler.received[0].message
    assert message["Subject"] == "AI market digest 2025-01-27: deepseek selloff"
    text = message.get_body(("plain",)).get_content()
    assert "NVDA" in text
    assert "-16.97%" in text
    assert "VST" in text
    assert "-28.27%" in text  # 191.11 -> 137.08
    html = message.get_body(("html",)).get_content()
    assert "-16.97%" in html
    chart = next(part for part in message.walk() if part.get_content_type() == "image/png")
    assert f"cid:{chart['Content-ID'].strip('<>')}" in html


def test_movers_rank_by_dollars_with_the_value_column(measured: Database, data_dir: Path) -> None:
    from tracker.digest.render import render_text
    from tracker.ingest.shares import ingest_shares
    from tracker.sources.shares import RecordedSharesSource

    source = RecordedSharesSource(data_dir)
    ingest_shares(measured, source, source.available_tickers())
    compute_impacts(measured, settings_for(measured), now=datetime(2026, 1, 2, tzinfo=UTC))
    url = measured.engine.url.render_as_string(hide_password=False)
    by_dollars = load_settings(database_url=url, digest_movers_by="dollars")
    content = build_digest_content(measured, by_dollars, SELLOFF)
    movers = [m.move for m in content.movers_with_event]
    counted = [m for m in movers if m.value_change is not None]
    assert [m.ticker for m in counted][:2] == ["NVDA", "AVGO"]  # the largest dollar losses
    assert counted[0].value_change == pytest.approx(24.49e9 * (118.42 - 142.62), rel=1e-6)
    assert movers[: len(counted)] == counted  # tickers without a count come after
    nvda = next(m for m in content.events[0].tickers if m.ticker == "NVDA")
    assert nvda.value_change == counted[0].value_change
    by_percent = build_digest_content(measured, settings_for(measured), SELLOFF)
    first = [abs(m.move.abnormal_return or 0) for m in by_percent.movers_with_event]
    assert first == sorted(first, reverse=True)
    text = render_text(content)
    assert "-$592.7bn" in text
    with pytest.raises(Exception, match="DIGEST_MOVERS_BY"):
        load_settings(database_url=url, digest_movers_by="euros")


def test_a_date_only_curated_event_is_reported_on_its_date() -> None:
    from tracker.digest.content import DigestEvent
    from tracker.digest.render import reported_time

    midnight = datetime(2025, 1, 27, tzinfo=UTC)
    curated = DigestEvent("Nvidia falls", midnight, 4, "nvidia-falls", None, origin="curated")
    detected = DigestEvent("Report", midnight, 1, "report", None, origin="detected")
    assert reported_time(curated, "America/New_York") == "2025-01-27 (date only)"
    assert reported_time(detected, "America/New_York") == "2025-01-26 19:00 EST"
