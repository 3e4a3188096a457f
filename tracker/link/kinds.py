"""What kind of happening a headline reports (earnings, a market move, policy, security...).

One list of rules, read by the link stage (a detected event's kind is its headlines' vote) and
by the curated merge (a market-move curated event takes only headlines about a market move; a
detected event of the curated event's own kind on its day is the same happening reported in
other words). Every kind here is among ``tracker.link.curated.EVENT_KINDS``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

FALLBACK_KIND = "news"
"""The kind of a detected event no rule wins."""
KIND_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("earnings", r"\b(earnings|quarterly|revenue|profit|results)\b"),
        (
            "market",
            # "out of stock" / "in stock" is a shop's shelf, not the market
            r"\b(?<!out of )(?<!in )(stocks?|shares|sell-?off|sells? off|market value|"
            r"wall street|nasdaq|investors|rout|plunge[sd]?|tumble[sd]?|rebound(s|ed)?)\b",
        ),
        (
            "security",
            r"\b(cyber-?attacks?|hack(s|ed|ers?)?|breach(es|ed)?|malicious|"
            r"exposed database|data leak|leaked data|vulnerabilit(y|ies))\b",
        ),
        (
            "policy",
            r"\b(ban|bans|banned|export|regulat\w*|law|executive order|senator|congress|"
            r"white house|national security|tariffs?)\b",
        ),
        ("capex", r"\b(stargate|capex|data cent(er|re)s?|infrastructure|\$\d+ ?(b|billion))\b"),
        (
            "model_release",
            r"\b(releases?|released|launch(es|ed)?|unveil\w*|new model|"
            r"open-source|reasoning model)\b",
        ),
    )
)

MARKET_MOVE = dict(KIND_RULES)["market"]
"""A headline reporting a market move; same-day ones sharing words are one move
(``ClusterParams.entity_time_bonus``), and only such headlines join a market-move curated
event."""
MARKET_KINDS = frozenset({"market", "market_move"})


def headline_kind(title: str) -> str | None:
    """The first rule a headline matches, if any."""
    for kind, pattern in KIND_RULES:
        if pattern.search(title):
            return kind
    return None


def event_kind(titles: Sequence[str]) -> str:
    """The kind most headlines vote for (ties: the earlier rule), when at least 30% do."""
    votes: Counter[str] = Counter()
    for title in titles:
        kind = headline_kind(title)
        if kind is not None:
            votes[kind] += 1
    if not votes:
        return FALLBACK_KIND
    order = [k for k, _ in KIND_RULES]
    kind, count = min(votes.items(), key=lambda kv: (-kv[1], order.index(kv[0])))
    return kind if count >= 0.3 * len(titles) else FALLBACK_KIND


def market_share(titles: Sequence[str]) -> float:
    """The share of headlines reporting a market move."""
    return sum(1 for t in titles if MARKET_MOVE.search(t)) / len(titles) if titles else 0.0
