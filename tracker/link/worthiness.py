"""Event-worthiness: which articles may create or join an event.

An event is something measured against prices, so it must be a happening that can move the
tracked universe. Most of a tech feed is not: shopping deals, product reviews, how-tos, opinion
columns, obituaries, podcast episodes, "Show HN" posts, and feeds that republish their whole
archive (the OpenAI and Anthropic feeds list posts from 2016). Such articles stay articles
(stored, searchable, on the Live page) but never start or join an event.

The rule is data (tracker/link/data/worthiness.yaml, replaceable through the setting
``TRACKER_WORTHINESS_FILE``) so that it can be read and argued with, and the verdict carries
its reason ("noise: review", "archive: published 2019-04-15, 2100 days before the feed's
first fetch", "not relevant: no tracked entity or theme"), so a missing event is explainable.
The function is pure: the caller supplies the entity matches and the feed's first fetch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tracker.errors import UserInputError
from tracker.link.entities import AI_TERMS, CONTEXT_ONLY_KINDS, EntityMatch
from tracker.link.themes import ThemeSpec

SUMMARY_HEAD = 200  # characters of a summary the summary patterns look at


@dataclass(frozen=True)
class NoiseRule:
    """One class of non-news ("deal", "review", ...) recognised by its title, URL or the
    start of its summary (outlets label an op-ed in the summary, not in the title)."""

    name: str
    title: tuple[re.Pattern[str], ...]
    url: tuple[re.Pattern[str], ...]
    summary: tuple[re.Pattern[str], ...] = ()

    def matches(self, title: str, url: str, summary: str = "") -> bool:
        return (
            any(p.search(title) for p in self.title)
            or any(p.search(url) for p in self.url)
            or any(p.search(summary[:SUMMARY_HEAD]) for p in self.summary)
        )


@dataclass(frozen=True)
class WorthinessRules:
    """The configured rule; see tracker/link/data/worthiness.yaml for what each part means."""

    min_entity_relevance: float
    archive_age: timedelta
    noise: tuple[NoiseRule, ...]


@dataclass(frozen=True)
class Verdict:
    """Whether an article may be part of an event, and if not, why (shown to users)."""

    worthy: bool
    reason: str = ""

    @property
    def noise_class(self) -> str | None:
        """The noise rule that excluded the article ("review", ...), if one did."""
        return self.reason.removeprefix("noise: ") if self.reason.startswith("noise: ") else None


WORTHY = Verdict(True)


def _patterns(value: Any, where: str) -> tuple[re.Pattern[str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserInputError(f"{where} must be a list of regular expressions")
    compiled = []
    for pattern in value:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise UserInputError(f"{where}: bad regular expression {pattern!r}: {exc}") from exc
    return tuple(compiled)


def parse_rules(text: str, where: str) -> WorthinessRules:
    """Validate a worthiness YAML document; errors name the file and the field."""
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise UserInputError(f"{where}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise UserInputError(f"{where}: expected a mapping")
    try:
        relevance = float(document.get("min_entity_relevance", 0.35))
        archive_days = float(document.get("archive_age_days", 45))
    except (TypeError, ValueError) as exc:
        raise UserInputError(
            f"{where}: min_entity_relevance and archive_age_days must be numbers"
        ) from exc
    if not 0.0 <= relevance <= 1.0:
        raise UserInputError(f"{where}: min_entity_relevance must be within [0, 1]")
    if archive_days <= 0:
        raise UserInputError(f"{where}: archive_age_days must be positive")
    noise = document.get("noise") or {}
    if not isinstance(noise, dict):
        raise UserInputError(f"{where}: 'noise' must map a class name to title/url patterns")
    rules = []
    for name, spec in noise.items():
        if not isinstance(spec, dict) or not set(spec) <= {"title", "url", "summary"}:
            raise UserInputError(
                f"{where}: noise class {name!r} takes 'title', 'url' and 'summary' lists"
            )
        rules.append(
            NoiseRule(
                str(name),
                _patterns(spec.get("title"), f"{where}: noise {name!r} title"),
                _patterns(spec.get("url"), f"{where}: noise {name!r} url"),
                _patterns(spec.get("summary"), f"{where}: noise {name!r} summary"),
            )
        )
    return WorthinessRules(relevance, timedelta(days=archive_days), tuple(rules))


def shipped_rules() -> WorthinessRules:
    """The rule that ships with the product (tracker/link/data/worthiness.yaml)."""
    text = resources.files("tracker.link").joinpath("data/worthiness.yaml").read_text("utf-8")
    return parse_rules(text, "shipped worthiness.yaml")


def load_rules(path: Path | None = None) -> WorthinessRules:
    """The user's rule file when given, else the shipped one."""
    if path is None:
        return shipped_rules()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"worthiness file {path}: {exc.strerror}") from exc
    return parse_rules(text, f"worthiness file {path}")


def noise_class(rules: WorthinessRules, title: str, url: str = "", summary: str = "") -> str | None:
    """The first noise class whose title, URL or summary pattern matches, if any."""
    for rule in rules.noise:
        if rule.matches(title, url, summary.lstrip()):
            return rule.name
    return None


def is_archive(
    rules: WorthinessRules, published_at: datetime, feed_first_fetch: datetime | None
) -> bool:
    """Published far before the feed was first fetched: an archive entry, not news."""
    return feed_first_fetch is not None and published_at < feed_first_fetch - rules.archive_age


def relevant(
    rules: WorthinessRules,
    title: str,
    body: str,
    matches: Iterable[EntityMatch],
    kinds: Mapping[str, str],
    themes: Sequence[ThemeSpec] = (),
) -> bool:
    """Names a tracked entity strongly enough, triggers a theme from its title, or is AI news
    by its title. Regulators and people alone ("Trump") do not make news about the market."""
    matches = list(matches)
    for m in matches:
        tracked = kinds.get(m.slug, "company") not in CONTEXT_ONLY_KINDS
        if tracked and m.relevance >= rules.min_entity_relevance:
            return True
    if AI_TERMS.search(title):
        return True
    slugs = [m.slug for m in matches]
    text = f"{title}\n{body}"
    return any(theme.keywords.search(title) and theme.cues(text, slugs, title) for theme in themes)


def judge(
    rules: WorthinessRules,
    *,
    title: str,
    body: str,
    url: str,
    matches: Iterable[EntityMatch],
    kinds: Mapping[str, str],
    published_at: datetime,
    feed_first_fetch: datetime | None,
    themes: Sequence[ThemeSpec] = (),
) -> Verdict:
    """The verdict on one article: archive first, then noise, then relevance."""
    if is_archive(rules, published_at, feed_first_fetch):
        assert feed_first_fetch is not None
        days = (feed_first_fetch - published_at).days
        when = published_at.date().isoformat()
        reason = f"archive: published {when}, {days} days before its feed was first read"
        return Verdict(False, reason)
    noise = noise_class(rules, title, url, body)
    if noise is not None:
        return Verdict(False, f"noise: {noise}")
    if not relevant(rules, title, body, matches, kinds, themes):
        return Verdict(False, "not relevant: no tracked entity, theme or AI term")
    return WORTHY
