"""Commentary in a story: analysis and explainers are coverage of a happening, not events.

A story lists happenings. A single-outlet piece that explains or reacts to one ("How Chinese
AI Startup DeepSeek Made a Model that Rivals OpenAI", "Silicon Valley Is Raving About a
Made-in-China AI Model") is folded into the happening it discusses: the most similar event of
its story reported before it within ``lookback``, when similar enough. Folded, it is that
event's hidden child (``parent_id``), as a detected event merged into a curated one is: not
listed, not measured, its article shown and counted with the happening's coverage. The rule
is data (tracker/link/data/commentary.yaml, replaceable through the setting
``TRACKER_COMMENTARY_FILE``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tracker.errors import UserInputError


@dataclass(frozen=True)
class CommentaryRules:
    """The configured rule; see tracker/link/data/commentary.yaml for each part."""

    max_articles: int
    lookback: timedelta
    min_similarity: float
    title: tuple[re.Pattern[str], ...]

    def is_commentary_title(self, title: str) -> bool:
        return any(p.search(title) for p in self.title)


def parse_rules(text: str, where: str) -> CommentaryRules:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserInputError(f"{where}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise UserInputError(f"{where}: expected a mapping with max_articles, title, ...")
    try:
        max_articles = int(data["max_articles"])
        lookback = timedelta(days=float(data["lookback_days"]))
        min_similarity = float(data["min_similarity"])
    except KeyError as exc:
        raise UserInputError(f"{where}: missing key {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"{where}: a number is not a number: {exc}") from exc
    raw = data.get("title") or []
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise UserInputError(f"{where}: 'title' must be a list of regular expressions")
    patterns = []
    for pattern in raw:
        try:
            patterns.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise UserInputError(f"{where}: bad title pattern {pattern!r}: {exc}") from exc
    if max_articles < 1 or lookback <= timedelta(0) or not 0 <= min_similarity <= 1:
        raise UserInputError(
            f"{where}: max_articles must be >= 1, lookback_days > 0, min_similarity in [0, 1]"
        )
    return CommentaryRules(max_articles, lookback, min_similarity, tuple(patterns))


def shipped_rules() -> CommentaryRules:
    text = resources.files("tracker.link").joinpath("data/commentary.yaml").read_text("utf-8")
    return parse_rules(text, "shipped commentary.yaml")


def load_rules(path: Path | None = None) -> CommentaryRules:
    """The user's rule file when given, else the shipped one."""
    if path is None:
        return shipped_rules()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"commentary file {path}: {exc.strerror}") from exc
    return parse_rules(text, f"commentary file {path}")
