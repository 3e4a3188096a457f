"""Precision/recall of entity linking and purity of the story clusters on the hand labels.

Run: ``TRACKER_DATA_DIR=/work/shared/data python -m tests.link.evaluate``. The whole recorded
corpus is linked by the real pipeline into a throw-away SQLite database; the labelled sample
(tests/link/labels/headlines.yaml) is then scored:

* entity linking: entities found in each labelled title vs the hand labels (micro P/R);
* clustering: purity (share of labelled articles whose event's majority label is theirs) and
  inverse purity (share whose label's majority event is theirs: low = fragmented stories);
  pairwise co-membership recall (of the pairs of articles labelled with the same happening,
  the share put in one event) and separation (of the pairs labelled with different
  happenings, the share kept apart; an article in no event is apart from every other);
* event-worthiness: precision and recall of "is in an event" against the ``worthy`` label
  (an article reporting a happening that can move the tracked universe, not a deal, review,
  how-to, opinion column, obituary, podcast, forum post or archive entry).

Held-out check: the labelled happenings are split in two halves (``split_of``: alternating in
name order, DeepSeek stories and the others each split evenly). Clustering parameters were tuned
looking at half "A" only; half "B" is the held-out check, and both are reported.
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
from sqlalchemy.orm import Session

from tests.link.corpus import insert_corpus, read_corpus
from tracker.db import Database, migrate
from tracker.db.models import Event, EventArticle
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
    pairwise_recall: float
    separation: float
    worthy_precision: float
    worthy_recall: float
    events_for_deepseek: int
    deepseek_happenings: int
    by_split: dict[str, tuple[float, float]]  # split -> (purity, inverse purity)
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


def pairwise(assigned: list[tuple[object, object]]) -> tuple[float, float]:
    """(co-membership recall, separation) over all pairs of (cluster, label) items."""
    same_total = same_kept = diff_total = diff_apart = 0
    for i, (cluster_a, label_a) in enumerate(assigned):
        for cluster_b, label_b in assigned[i + 1 :]:
            together = cluster_a == cluster_b
            if label_a == label_b:
                same_total += 1
                same_kept += together
            else:
                diff_total += 1
                diff_apart += not together
    return same_kept / max(same_total, 1), diff_apart / max(diff_total, 1)


def worthiness_scores(
    labels: list[dict[str, object]], in_event: dict[str, bool]
) -> tuple[float, float]:
    """(precision, recall) of being in an event against the ``worthy`` labels."""
    tp = fp = fn = 0
    for label in labels:
        truth = bool(label.get("worthy", True))
        found = in_event[str(label["link"])]
        tp += truth and found
        fp += found and not truth
        fn += truth and not found
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def split_of(labels: list[dict[str, object]]) -> dict[str, str]:
    """Happening -> "A" (tuning half) or "B" (held-out half), alternating in name order."""
    names = sorted({str(a["event"]) for a in labels})
    ordered = sorted(names, key=lambda n: (not n.startswith("deepseek-"), n))
    stories = [n for n in ordered if not n.startswith("single-")]
    singles = [n for n in ordered if n.startswith("single-")]
    return {n: "AB"[i % 2] for group in (stories, singles) for i, n in enumerate(group)}


def visible_event_by_article(session: Session) -> dict[int, int]:
    """Article id -> the listed event it is shown in: an article of a hidden event (merged
    into a curated one, or commentary folded into a happening) counts in its visible parent,
    which is what a reader of the event list sees."""
    parent = dict(session.execute(select(Event.id, Event.parent_id)).all())

    def root(event_id: int) -> int:
        seen = {event_id}
        while parent.get(event_id) is not None and parent[event_id] not in seen:
            event_id = parent[event_id]
            seen.add(event_id)
        return event_id

    found: dict[int, int] = {}
    for article_id, event_id in session.execute(
        select(EventArticle.article_id, EventArticle.event_id).order_by(
            EventArticle.article_id, EventArticle.event_id
        )
    ):
        found.setdefault(article_id, root(event_id))
    return found


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
        event_by_article = visible_event_by_article(session)
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
    pair_recall, separation = pairwise(pairs)
    w_precision, w_recall = worthiness_scores(
        labels, {link: event is not None for link, event in event_of.items()}
    )
    deepseek_events = {
        event_of[str(label["link"])]
        for label in labels
        if str(label["event"]).startswith("deepseek-") and event_of[str(label["link"])] is not None
    }
    halves = split_of(labels)
    by_split = {}
    for half in ("A", "B"):
        chosen = [p for p, a in zip(pairs, labels, strict=True) if halves[str(a["event"])] == half]
        by_split[half] = (
            round(purity(chosen), 3),
            round(purity([(c, g) for g, c in chosen]), 3),
        )
    return Scores(
        labelled=len(labels),
        entity_precision=round(precision, 3),
        entity_recall=round(recall, 3),
        purity=round(purity(pairs), 3),
        inverse_purity=round(purity([(c, g) for g, c in pairs]), 3),
        pairwise_recall=round(pair_recall, 3),
        separation=round(separation, 3),
        worthy_precision=round(w_precision, 3),
        worthy_recall=round(w_recall, 3),
        events_for_deepseek=len(deepseek_events),
        deepseek_happenings=len(
            {str(a["event"]) for a in labels if str(a["event"]).startswith("deepseek-")}
        ),
        by_split=by_split,
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
    print(f"pairwise recall:          {scores.pairwise_recall}")
    print(f"pairwise separation:      {scores.separation}")
    print(f"worthiness precision:     {scores.worthy_precision}")
    print(f"worthiness recall:        {scores.worthy_recall}")
    print(
        f"events holding the labelled DeepSeek stories: {scores.events_for_deepseek}"
        f" (for {scores.deepseek_happenings} labelled DeepSeek happenings)"
    )
    for half, (pur, inv) in sorted(scores.by_split.items()):
        role = "tuning" if half == "A" else "held out"
        print(f"half {half} ({role}): purity {pur}, inverse purity {inv}")


if __name__ == "__main__":
    sys.exit(main())
