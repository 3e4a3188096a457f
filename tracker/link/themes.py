"""Themes: from what an event is about to the baskets it exposes, with the reason.

A theme is a rule of thumb an analyst would state ("cheaper AI -> fewer chips and less power"),
kept as data (tracker/link/data/themes.yaml) so it can be read and argued with. Detection is
deliberately simple and explainable: an article triggers a theme when it names one of the
theme's entities and uses the theme's cue words (one in its title, or two different ones in its
text: a summary mentioning "cost" once is not a story about cheap AI); an event has a theme
when enough of its articles trigger it, and the reason names the cues that matched.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import Basket, Theme, ThemeBasket
from tracker.errors import UserInputError

MIN_SHARE = 0.3  # of an event's articles that must trigger the theme ...
MIN_ARTICLES = 3  # ... or this many: a big merged story keeps a theme several articles argue


@dataclass(frozen=True)
class ThemeSpec:
    slug: str
    name: str
    description: str
    entities: frozenset[str]
    keywords: re.Pattern[str]
    also_requires: re.Pattern[str] | None
    baskets: tuple[tuple[str, str], ...]  # (basket slug, reason)

    def cues(self, text: str, entity_slugs: Iterable[str], title: str = "") -> list[str]:
        """The cue words by which one article triggers this theme (empty: it does not).

        ``text`` is the whole article text (title included); a cue in ``title`` suffices,
        otherwise the text needs two different cues."""
        if self.entities and not self.entities.intersection(entity_slugs):
            return []
        if self.also_requires is not None and not self.also_requires.search(text):
            return []
        found = sorted({m.group().casefold() for m in self.keywords.finditer(text)})
        if title and self.keywords.search(title):
            return found
        return found if len(found) >= 2 else []

    def triggered_by(self, text: str, entity_slugs: Iterable[str], title: str = "") -> bool:
        """Does one article (its text and entity slugs) trigger this theme?"""
        return bool(self.cues(text, entity_slugs, title))


def _keyword_pattern(words: Sequence[str]) -> re.Pattern[str]:
    parts = []
    for word in sorted(words, key=lambda w: (-len(w), w)):
        if word.endswith("*"):
            parts.append(re.escape(word[:-1]) + r"\w*")
        else:
            parts.append(re.escape(word))
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def _parse_theme(entry: Any) -> ThemeSpec:
    if not isinstance(entry, dict) or not entry.get("slug"):
        raise UserInputError("themes: each theme needs a slug")
    slug = str(entry["slug"])
    keywords = entry.get("keywords") or []
    baskets = entry.get("baskets") or {}
    if not keywords or not isinstance(baskets, dict) or not baskets:
        raise UserInputError(f"themes: theme {slug!r} needs keywords and baskets")
    also = entry.get("also_requires") or []
    return ThemeSpec(
        slug=slug,
        name=str(entry.get("name", slug)),
        description=" ".join(str(entry.get("description", "")).split()),
        entities=frozenset(str(e) for e in entry.get("entities") or []),
        keywords=_keyword_pattern([str(k) for k in keywords]),
        also_requires=_keyword_pattern([str(k) for k in also]) if also else None,
        baskets=tuple(sorted((str(b), str(r)) for b, r in baskets.items())),
    )


def shipped_themes() -> list[ThemeSpec]:
    """The themes that ship with the product (tracker/link/data/themes.yaml)."""
    text = resources.files("tracker.link").joinpath("data/themes.yaml").read_text("utf-8")
    document = yaml.safe_load(text) or {}
    return [_parse_theme(entry) for entry in document.get("themes", [])]


@dataclass(frozen=True)
class ThemeHit:
    slug: str
    triggered: int
    total: int
    cues: tuple[str, ...] = ()  # the most used cue words, for the reason


def event_themes(
    themes: Sequence[ThemeSpec],
    articles: Sequence[tuple[str, frozenset[str]]],
    titles: Sequence[str] | None = None,
) -> list[ThemeHit]:
    """The themes of an event from its articles' (text, entity slugs), strongest first;
    ``titles`` (one per article) lets a single cue in a title trigger."""
    total = len(articles)
    heads = list(titles) if titles is not None else [""] * total
    hits = []
    for theme in themes:
        triggered = 0
        used: Counter[str] = Counter()
        for (text, slugs), title in zip(articles, heads, strict=True):
            cues = theme.cues(text, slugs, title)
            if cues:
                triggered += 1
                used.update(cues)
        if triggered and triggered >= min(MIN_SHARE * total, MIN_ARTICLES):
            top = tuple(c for c, _ in sorted(used.items(), key=lambda kv: (-kv[1], kv[0]))[:3])
            hits.append(ThemeHit(theme.slug, triggered, total, top))
    return sorted(hits, key=lambda h: (-h.triggered, h.slug))


def seed_themes(session: Session, themes: Sequence[ThemeSpec] | None = None) -> dict[str, int]:
    """Upsert themes and their basket links (baskets must exist: seed the universe first)."""
    themes = list(themes) if themes is not None else shipped_themes()
    basket_ids = {b.slug: b.id for b in session.scalars(select(Basket))}
    existing = {t.slug: t for t in session.scalars(select(Theme))}
    ids: dict[str, int] = {}
    for spec in themes:
        theme = existing.get(spec.slug)
        if theme is None:
            theme = Theme(slug=spec.slug, name=spec.name)
            session.add(theme)
        theme.name = spec.name
        theme.description = spec.description
        session.flush()
        ids[spec.slug] = theme.id
        rows = {
            r.basket_id: r
            for r in session.scalars(select(ThemeBasket).where(ThemeBasket.theme_id == theme.id))
        }
        for basket_slug, reason in spec.baskets:
            basket_id = basket_ids.get(basket_slug)
            if basket_id is None:
                raise UserInputError(f"theme {spec.slug!r}: unknown basket {basket_slug!r}")
            row = rows.get(basket_id)
            if row is None:
                session.add(ThemeBasket(theme_id=theme.id, basket_id=basket_id, reason=reason))
            else:
                row.reason = reason
    session.flush()
    return ids
