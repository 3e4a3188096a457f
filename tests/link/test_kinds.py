"""The kind rules on real recorded headlines (tracker/link/kinds.py)."""

from __future__ import annotations

from tracker.link.curated import EVENT_KINDS
from tracker.link.kinds import FALLBACK_KIND, KIND_RULES, event_kind, headline_kind, market_share


def test_every_kind_is_a_known_event_kind() -> None:
    assert {kind for kind, _ in KIND_RULES} | {FALLBACK_KIND} <= EVENT_KINDS


def test_out_of_stock_is_a_shop_shelf_not_a_market_move() -> None:
    assert headline_kind("Nvidia's RTX 5090 is out of stock because it was barely in stock") != (
        "market"
    )
    assert (
        headline_kind("Nvidia warns that the RTX 5090 and RTX 5080 might quickly run out of stock")
        != "market"
    )
    assert headline_kind("DeepSeek's 'cheap' Chinese AI chatbot sparks tech stock selloff") == (
        "market"
    )


def test_a_cyberattack_is_security_news() -> None:
    title = "DeepSeek hit with large-scale cyberattack, says it's limiting registrations"
    assert headline_kind(title) == "security"
    assert event_kind([title]) == "security"


def test_market_share_counts_market_headlines() -> None:
    titles = [
        "Stocks Markets Fall Sharply as Investors Worry About China's AI Advances",
        "Nvidia's latest GPU driver lets you activate DLSS 4 in games and apps",
    ]
    assert market_share(titles) == 0.5
    assert market_share([]) == 0.0
