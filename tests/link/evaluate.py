"""Precision/recall of entity linking and purity of the story clusters on the hand labels.

Run: ``TRACKER_DATA_DIR=/work/shared/data python -m tests.link.evaluate``. The whole recorded
corpus is linked by the real pipeline into a throw-away SQLite database; the labelled sample
(tests/link/labels/headlines.yaml) is then scored:

* entity linking: entities found in each labelled title vs the hand labels (micro P/R);
* clustering: purity (share of labelled articles whose event's majority label is theirs) and
  inverse purity (share whose label's majority event is theirs: low = fragmented stories).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select

from tests.link.corpus import insert_corpus, read_corpus
from tracker.db import Database, migrate
from tracker.db.models import EventArticle
from tracker.link.entities import Matcher, load_dictionary
from tracker.link.events import link_new_articles

LABELS = Path(__file__).parent / "labels" / "headlines.yaml"


@dataclass(frozen=True)
class Scores:
    labelled: int
    entity_precision: float
    entity_recall: float
    purity: float
    inverse_purity: float
    events_for_deepseek: int
    link_ids: dict[str, int]
    event_of: dict[str, int | None]


def load_labels() -> list[dict[str, object]]:
    document = yaml.safe_load(LABELS.read_text(encoding="utf-8"))
    return list(document["articles"])


def entity_scores(labels: list[dict[str, object]], titles: dict[str, str]) -> tuple[float, float]:
    matcher = Matcher(load_dictionary())
    tp = fp = fn = 0
    for label in labels:
        expected = set(label["entities"])  # type: ignore[arg-type]
        found = {m.slug for m in matcher.match(titles[str(label["link"])])}
        tp += len(found & expected)
        fp += len(found - expected)
        fn += len(expected - found)
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def purity(pairs: list[tuple[object, object]]) -> float:
    """Share of items whose group's majority class is their class."""
    groups: dict[object, Counter[object]] = defaultdict(Counter)
    for group, cls in pairs:
        groups[group][cls] += 1
    return sum(c.most_common(1)[0][1] for c in groups.values()) / max(len(pairs), 1)


def evaluate(data_dir: Path, database_url: str) -> Scores:
    migrate.upgrade(database_url)
    db = Database.connect(database_url)
    entries = read_corpus(data_dir)
    titles = {e.link: e.title for e in entries}
    with db.session() as session:
        link_ids = insert_corpus(session, entries)
    link_new_articles(db)
    labels = load_labels()
    with db.session() as session:
        event_by_article = dict(
            session.execute(select(EventArticle.article_id, EventArticle.event_id)).all()
        )
    db.dispose()
    precision, recall = entity_scores(labels, titles)
    event_of: dict[str, int | None] = {}
    pairs = []
    for label in labels:
        link = str(label["link"])
        event = event_by_article.get(link_ids[link])
        event_of[link] = event
        # an article kept out of the event stream (not AI news) counts as a cluster of its own
        pairs.append((event if event is not None else f"none:{link}", label["event"]))
    deepseek_events = {
        event_of[str(label["link"])]
        for label in labels
        if str(label["event"]).startswith("deepseek-") and event_of[str(label["link"])] is not None
    }
    return Scores(
        labelled=len(labels),
        entity_precision=round(precision, 3),
        entity_recall=round(recall, 3),
        purity=round(purity(pairs), 3),
        inverse_purity=round(purity([(c, g) for g, c in pairs]), 3),
        events_for_deepseek=len(deepseek_events),
        link_ids=link_ids,
        event_of=event_of,
    )


def main() -> None:
    data_dir = Path(os.environ.get("TRACKER_DATA_DIR", "../shared/data"))
    with tempfile.TemporaryDirectory() as tmp:
        scores = evaluate(data_dir, f"sqlite:///{tmp}/evaluate.db")
    print(f"labelled articles:        {scores.labelled}")
    print(f"entity precision (title): {scores.entity_precision}")
    print(f"entity recall (title):    {scores.entity_recall}")
    print(f"cluster purity:           {scores.purity}")
    print(f"cluster inverse purity:   {scores.inverse_purity}")
    print(f"events holding the labelled DeepSeek stories: {scores.events_for_deepseek}")


if __name__ == "__main__":
    sys.exit(main())
