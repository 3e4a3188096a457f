"""Story clustering: articles about the same happening become one event.

Pure and deterministic (no database, no clock, no randomness): documents are taken in
(published time, key) order and each joins the best-scoring live cluster or starts a new
one. The score is the TF-IDF cosine between the article and the cluster's centroid, damped by
the time since the cluster was last reported, plus a bonus for shared entities:

    score = cos(article, centroid) * exp(-gap_hours / decay_hours) + entity_bonus * jaccard

A single pass decides on each article alone, so a story whose first reports used different words
(or came two days apart) starts several clusters. A second pass (``merge_clusters``) therefore
merges clusters agglomeratively, best pair first, on the same kind of score computed between
centroids: a story is judged on all its articles, not on the one that happened to come first.
The entity bonuses only strengthen word evidence: two clusters that share nothing but a
company's name ("apple", "@apple") never merge (``merge_min_text``), nor do two clusters each
mainly about distinctive entities none of which they share (``separate_subjects``).
It only merges clusters close in time (``merge_gap``) whose union stays within ``max_span``, and
only where a cluster touched by this run is involved, so re-running changes nothing.

Speed: clusters are found through an inverted index (token -> clusters), so an article is only
compared with clusters that share a word with it; an exact repeat of a recent title joins its
cluster without any comparison. A title repeated across thousands of articles therefore costs
one dictionary lookup each, not a scan of every cluster.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rapidfuzz import fuzz, process
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

_URL = re.compile(r"https?://\S+|www\.\S+")
_WORD = re.compile(r"[a-z0-9]+")
# scikit-learn's English stop words, plus the words of news headlines that say nothing about
# which happening an article reports ("says", "report", "week", "continue reading").
NEWS_STOPWORDS = frozenset(
    [
        "according",
        "continue",
        "day",
        "days",
        "did",
        "does",
        "doing",
        "gets",
        "got",
        "having",
        "it's",
        "just",
        "like",
        "make",
        "makes",
        "new",
        "news",
        "people",
        "read",
        "reading",
        "report",
        "reported",
        "reports",
        "said",
        "say",
        "says",
        "tells",
        "time",
        "times",
        "today",
        "told",
        "use",
        "used",
        "using",
        "way",
        "ways",
        "week",
        "year",
        "years",
    ]
)
STOPWORDS = ENGLISH_STOP_WORDS | NEWS_STOPWORDS

BOILERPLATE_SHARE = 0.3
BOILERPLATE_MIN_DOCS = 8


def normalise_title(title: str) -> str:
    """A title reduced to lowercase words, for spotting exact repeats."""
    text = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(_WORD.findall(text))


def tokens(text: str) -> list[str]:
    """Lowercase word tokens without stopwords, with a light plural strip ("chips" -> "chip")."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    text = _URL.sub(" ", text)
    out = []
    for word in _WORD.findall(text):
        if word in STOPWORDS or len(word) < 2:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


@dataclass(frozen=True)
class Doc:
    """What clustering needs to know about one article."""

    key: int
    at: datetime
    title: str
    text: str = ""
    entities: frozenset[str] = frozenset()
    source: str = ""
    # reports a market move (stocks fall, a sell-off): same-day market reports that share
    # words are one move whatever company names each headline leads with
    market: bool = False


@dataclass(frozen=True)
class ClusterParams:
    join_threshold: float = 0.23
    decay_hours: float = 36.0
    max_gap: timedelta = timedelta(days=3)
    max_span: timedelta = timedelta(days=4)
    entity_bonus: float = 0.15
    title_weight: int = 3  # a title word counts as this many summary words
    body_tokens: int = 60
    followup_threshold: float = 0.25
    followup_lookback: timedelta = timedelta(days=30)
    # tuned on the 377 hand labels (tests/link/evaluate.py): pairwise recall 0.61 -> 0.87,
    # separation 0.997 -> 0.996. A week-long span reached 0.89 but made the DeepSeek week one
    # blob (Janus-Pro, the exposed database and o3-mini inside the sell-off): four days it is.
    merge_threshold: float = 0.235
    merge_gap: timedelta = timedelta(hours=72)
    merge_decay_hours: float = 72.0
    merge_terms: int = 8
    # Near-duplicate titles (rapidfuzz token_sort_ratio, 0-100): a syndicated or lightly
    # reworded headline joins the live cluster that already holds it, whatever its summary.
    near_duplicate_ratio: float = 90.0
    near_duplicate_min_words: int = 4
    # Shared entities plus time: two clusters whose main entities share a distinctive one
    # (named in at most ``distinct_share`` of the documents: "export-controls" in a week of
    # news, not "openai") within ``entity_gap`` get ``entity_time_bonus`` on their merge score,
    # so coverage of one happening in different words ("AI curbs", "three tiers for AI chip
    # access", "export controls") is judged one event.
    entity_time_bonus: float = 0.1
    entity_gap: timedelta = timedelta(hours=24)
    distinct_share: float = 0.03
    # the bonuses strengthen word evidence, never replace it: two clusters merge only when
    # their centroids share words beyond entity names ("apple", "@apple") at least this much
    merge_min_text: float = 0.05
    # two clusters each mainly about distinctive entities, none of them shared (DeepSeek-R1
    # hosted on Azure; OpenAI's o-series), report different happenings however many common
    # names and words ("OpenAI", "Microsoft", "model") they share: they never merge
    separate_subjects: bool = True


@dataclass
class Cluster:
    """A live cluster: centroid (sum of unit vectors), entities, time span, members."""

    key: int
    first_at: datetime
    last_at: datetime
    vector: dict[str, float] = field(default_factory=dict)
    norm_sq: float = 0.0
    entities: Counter[str] = field(default_factory=Counter)
    members: list[int] = field(default_factory=list)
    is_novel: bool = True
    follows: int | None = None
    absorbed: list[int] = field(default_factory=list)  # keys of clusters merged into this one
    market_reports: int = 0  # members that report a market move

    @property
    def is_market(self) -> bool:
        return 2 * self.market_reports >= len(self.members) > 0

    def add(self, doc: Doc, vec: dict[str, float], dot: float | None = None) -> None:
        if dot is None:
            dot = sum(w * self.vector.get(t, 0.0) for t, w in vec.items())
        self.norm_sq += 2.0 * dot + sum(w * w for w in vec.values())
        for term, weight in vec.items():
            self.vector[term] = self.vector.get(term, 0.0) + weight
        self.entities.update(doc.entities)
        self.members.append(doc.key)
        self.market_reports += doc.market
        self.first_at = min(self.first_at, doc.at)
        self.last_at = max(self.last_at, doc.at)

    def absorb(self, other: Cluster) -> None:
        """Merge ``other`` into this cluster (centroid, entities, span, members)."""
        self.norm_sq += other.norm_sq + 2.0 * _dot(self.vector, other.vector)
        for term, weight in other.vector.items():
            self.vector[term] = self.vector.get(term, 0.0) + weight
        self.entities.update(other.entities)
        self.members.extend(other.members)
        self.market_reports += other.market_reports
        self.first_at = min(self.first_at, other.first_at)
        self.last_at = max(self.last_at, other.last_at)
        self.absorbed.extend([other.key, *other.absorbed])


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


@dataclass(frozen=True)
class Assignment:
    doc_key: int
    cluster_key: int
    score: float
    created: bool
    merged: bool = False  # joined through the merge of the cluster it started or joined


class Vectoriser:
    """TF-IDF (scikit-learn's) over titles (weighted), the start of summaries and entities.

    Each document is analysed into tokens: its title words ``title_weight`` times, the first
    ``body_tokens`` words of its summary (minus the outlet's boilerplate), and one ``@slug``
    token per entity, because names differ ("R1", "DeepSeek-R1") where the entity does not.
    ``TfidfVectorizer`` with sublinear tf and smoothed idf weighs and normalises them; vectors
    are kept as {term: weight} so clusters can hold running centroids.
    """

    def __init__(self, docs: Iterable[Doc], params: ClusterParams) -> None:
        self.params = params
        docs = list(docs)
        self._boilerplate = self._source_boilerplate(docs)
        self._tfidf = TfidfVectorizer(
            analyzer=self._analyse, sublinear_tf=True, smooth_idf=True, norm="l2"
        )
        self._vectors: dict[int, dict[str, float]] = {}
        self._fitted = False
        if docs:
            try:
                matrix = self._tfidf.fit_transform(docs)
            except ValueError:  # not one token in any document: nothing to compare
                matrix = None
            if matrix is not None:
                self._fitted = True
                self._terms = [str(t) for t in self._tfidf.get_feature_names_out()]
                for doc, vec in zip(docs, self._rows(matrix), strict=True):
                    self._vectors[doc.key] = vec
        entity_df = Counter(slug for doc in docs for slug in doc.entities)
        self.distinct_entities = frozenset(
            slug
            for slug, c in entity_df.items()
            if c <= max(2.0, params.distinct_share * len(docs))
        )

    def _rows(self, matrix: Any) -> list[dict[str, float]]:
        csr = matrix.tocsr()
        rows = []
        for row in range(csr.shape[0]):
            lo, hi = csr.indptr[row], csr.indptr[row + 1]
            rows.append(
                {
                    self._terms[j]: float(w)
                    for j, w in zip(csr.indices[lo:hi], csr.data[lo:hi], strict=True)
                }
            )
        return rows

    def _source_boilerplate(self, docs: Sequence[Doc]) -> dict[str, frozenset[str]]:
        """Summary words an outlet puts in most of its entries ("Comments URL", "Points")."""
        per_source: dict[str, Counter[str]] = {}
        sizes: Counter[str] = Counter()
        for doc in docs:
            sizes[doc.source] += 1
            per_source.setdefault(doc.source, Counter()).update(set(tokens(doc.text)))
        return {
            source: frozenset(
                t for t, c in counts.items() if c >= BOILERPLATE_SHARE * sizes[source]
            )
            for source, counts in per_source.items()
            if sizes[source] >= BOILERPLATE_MIN_DOCS
        }

    def _analyse(self, doc: Doc) -> list[str]:
        skip = self._boilerplate.get(doc.source, frozenset())
        body = [t for t in tokens(doc.text) if t not in skip][: self.params.body_tokens]
        title = tokens(doc.title) * self.params.title_weight
        return title + body + [f"@{slug}" for slug in sorted(doc.entities)]

    def vector(self, doc: Doc) -> dict[str, float]:
        """The unit TF-IDF vector of a document (of the fitted set, or a new one)."""
        cached = self._vectors.get(doc.key)
        if cached is not None:
            return cached
        if not self._fitted:
            return {}
        return self._rows(self._tfidf.transform([doc]))[0]


def _jaccard(a: frozenset[str], b: Iterable[str]) -> float:
    bs = set(b)
    if not a or not bs:
        return 0.0
    return len(a & bs) / len(a | bs)


class Clusterer:
    """Incremental single-pass clustering; seed it with existing clusters, then feed docs."""

    def __init__(self, vectoriser: Vectoriser, params: ClusterParams | None = None) -> None:
        self.vectoriser = vectoriser
        self.params = params or vectoriser.params
        self.clusters: dict[int, Cluster] = {}
        self._index: dict[str, set[int]] = {}
        self._titles: dict[str, int] = {}
        self._cluster_titles: dict[int, list[str]] = defaultdict(list)
        self._next_key = -1

    def seed(self, key: int, docs: Sequence[Doc]) -> None:
        """An existing cluster (an event already stored) with its member documents."""
        ordered = sorted(docs, key=lambda d: (d.at, d.key))
        if not ordered:
            return
        cluster = Cluster(key=key, first_at=ordered[0].at, last_at=ordered[0].at)
        for doc in ordered:
            vec = self.vectoriser.vector(doc)
            cluster.add(doc, vec)
            self._index_doc(cluster.key, doc, vec)
        self.clusters[key] = cluster

    def _index_doc(self, key: int, doc: Doc, vec: dict[str, float]) -> None:
        for term in vec:
            self._index.setdefault(term, set()).add(key)
        title = normalise_title(doc.title)
        if title:
            self._titles[title] = key
            self._cluster_titles[key].append(title)

    def _live(self, cluster: Cluster, at: datetime) -> bool:
        gap = at - cluster.last_at if at >= cluster.last_at else cluster.first_at - at
        return gap <= self.params.max_gap and (
            max(at, cluster.last_at) - min(at, cluster.first_at) <= self.params.max_span
        )

    def _score(self, cluster: Cluster, doc: Doc, vec: dict[str, float]) -> tuple[float, float]:
        dot = sum(w * cluster.vector.get(t, 0.0) for t, w in vec.items())
        cosine = dot / math.sqrt(cluster.norm_sq) if cluster.norm_sq > 0 else 0.0
        if doc.at >= cluster.last_at:
            gap_hours = (doc.at - cluster.last_at).total_seconds() / 3600
        else:
            gap_hours = max(0.0, (cluster.first_at - doc.at).total_seconds() / 3600)
        decay = math.exp(-gap_hours / self.params.decay_hours)
        top = [e for e, _ in cluster.entities.most_common(6)]
        return cosine * decay + self.params.entity_bonus * _jaccard(doc.entities, top), dot

    def add(self, doc: Doc) -> Assignment:
        vec = self.vectoriser.vector(doc)
        title = normalise_title(doc.title)
        repeat = self._titles.get(title) if title else None
        if repeat is not None and self._live(self.clusters[repeat], doc.at):
            cluster = self.clusters[repeat]
            cluster.add(doc, vec)
            return Assignment(doc.key, repeat, 1.0, False)
        best: tuple[float, int, float] | None = None
        candidates: set[int] = set()
        for term in vec:
            candidates.update(self._index.get(term, ()))
        near = self._near_duplicate(title, doc, candidates)
        if near is not None:
            self.clusters[near].add(doc, vec)
            self._index_doc(near, doc, vec)
            return Assignment(doc.key, near, 1.0, False)
        for key in sorted(candidates):
            cluster = self.clusters[key]
            if not self._live(cluster, doc.at):
                continue
            score, dot = self._score(cluster, doc, vec)
            if best is None or score > best[0] + 1e-12:
                best = (score, key, dot)
        if best is not None and best[0] >= self.params.join_threshold:
            score, key, dot = best
            self.clusters[key].add(doc, vec, dot)
            self._index_doc(key, doc, vec)
            return Assignment(doc.key, key, round(score, 4), False)
        key = self._next_key
        self._next_key -= 1
        cluster = Cluster(key=key, first_at=doc.at, last_at=doc.at)
        cluster.follows = self._earlier_story(doc, vec, candidates)
        cluster.is_novel = cluster.follows is None
        cluster.add(doc, vec)
        self.clusters[key] = cluster
        self._index_doc(key, doc, vec)
        return Assignment(doc.key, key, 1.0, True)

    def _near_duplicate(self, title: str, doc: Doc, candidates: set[int]) -> int | None:
        """The live cluster holding a nearly identical title (reordered, a word changed)."""
        if len(title.split()) < self.params.near_duplicate_min_words:
            return None
        best: tuple[float, int] | None = None
        for key in sorted(candidates):
            if not self._live(self.clusters[key], doc.at):
                continue
            found = process.extractOne(
                title,
                self._cluster_titles[key],
                scorer=fuzz.token_sort_ratio,
                score_cutoff=self.params.near_duplicate_ratio,
            )
            if found is not None and (best is None or found[1] > best[0]):
                best = (found[1], key)
        return best[1] if best else None

    def _earlier_story(self, doc: Doc, vec: dict[str, float], candidates: set[int]) -> int | None:
        """An older cluster this one follows up (similar words and shared entities), if any."""
        best: tuple[float, int] | None = None
        for key in sorted(candidates):
            cluster = self.clusters[key]
            if (
                cluster.first_at > doc.at
                or doc.at - cluster.last_at > self.params.followup_lookback
            ):
                continue
            if not doc.entities & set(cluster.entities):
                continue
            dot = sum(w * cluster.vector.get(t, 0.0) for t, w in vec.items())
            cosine = dot / math.sqrt(cluster.norm_sq) if cluster.norm_sq > 0 else 0.0
            if cosine >= self.params.followup_threshold and (best is None or cosine > best[0]):
                best = (cosine, key)
        return best[1] if best else None


def _gap_hours(a: Cluster, b: Cluster) -> float:
    """Hours between two clusters' time spans (0 when they overlap)."""
    gap = max(a.first_at, b.first_at) - min(a.last_at, b.last_at)
    return max(0.0, gap.total_seconds() / 3600)


def main_entities(cluster: Cluster) -> frozenset[str]:
    """Entities named by at least half of a cluster's articles."""
    half = len(cluster.members) / 2
    return frozenset(e for e, c in cluster.entities.items() if c >= half)


def _entity_terms(cluster: Cluster) -> set[str]:
    """The tokens that only name a cluster's entities: ``@slug`` and the slug's words."""
    names = set()
    for slug in cluster.entities:
        names.add(f"@{slug}")
        names.update(tokens(slug.replace("-", " ")))
    return names


def subjects(cluster: Cluster, distinct: frozenset[str]) -> frozenset[str]:
    """The distinctive entities a cluster is mainly about (named by half its articles)."""
    return main_entities(cluster) & distinct


def different_subjects(a: Cluster, b: Cluster, distinct: frozenset[str]) -> bool:
    """Both clusters are mainly about distinctive entities, and not one of them is shared."""
    subject_a = subjects(a, distinct)
    subject_b = subjects(b, distinct)
    return bool(subject_a) and bool(subject_b) and not subject_a & subject_b


def _content_cosine(a: Cluster, b: Cluster) -> float:
    """Centroid cosine over the words that are not entity names (nor ``@entity`` tokens)."""
    skip = _entity_terms(a) | _entity_terms(b)
    small, large = (a.vector, b.vector) if len(a.vector) <= len(b.vector) else (b.vector, a.vector)
    dot = sum(w * large.get(t, 0.0) for t, w in small.items() if t not in skip)
    return dot / math.sqrt(a.norm_sq * b.norm_sq)


def merge_score(
    a: Cluster, b: Cluster, params: ClusterParams, distinct: frozenset[str] = frozenset()
) -> float:
    """Centroid cosine damped by the time between the two, plus the shared-entity bonus,
    plus the entity-and-time bonus when both are mainly about one distinctive entity or both
    report a market move (one of them mainly). Zero instead of a merging score when the
    centroids share too few words beyond entity names (``merge_min_text``): a company is not
    a happening."""
    if a.norm_sq <= 0 or b.norm_sq <= 0:
        return 0.0
    if params.separate_subjects and different_subjects(a, b, distinct):
        return 0.0
    cosine = _dot(a.vector, b.vector) / math.sqrt(a.norm_sq * b.norm_sq)
    gap = _gap_hours(a, b)
    decay = math.exp(-gap / params.merge_decay_hours)
    top_a = frozenset(e for e, _ in a.entities.most_common(6))
    top_b = [e for e, _ in b.entities.most_common(6)]
    score = cosine * decay + params.entity_bonus * _jaccard(top_a, top_b)
    if params.entity_time_bonus and gap <= params.entity_gap.total_seconds() / 3600:
        one_name = main_entities(a) & main_entities(b) & distinct
        one_move = (a.is_market or b.is_market) and a.market_reports and b.market_reports
        if one_name or one_move:
            score += params.entity_time_bonus
    # the floor on shared words only matters for a pair that would merge (and costs a pass
    # over the centroid, so it is not paid for the others)
    if (
        score >= params.merge_threshold
        and params.merge_min_text
        and _content_cosine(a, b) * decay < params.merge_min_text
    ):
        return 0.0
    return score


def _survivor(a: Cluster, b: Cluster) -> tuple[Cluster, Cluster]:
    """(survivor, absorbed): a stored cluster outlives a new one, then the first reported."""

    def rank(c: Cluster) -> tuple[bool, datetime, int]:
        return (c.key < 0, c.first_at, abs(c.key))

    return (a, b) if rank(a) <= rank(b) else (b, a)


def merge_clusters(
    clusters: dict[int, Cluster],
    touched: set[int],
    params: ClusterParams,
    distinct: frozenset[str] = frozenset(),
) -> dict[int, int]:
    """Agglomerative merge of clusters in place (best pair first, deterministic).

    Pairs are clusters sharing one of their top centroid terms (entities count as terms),
    at most ``merge_gap`` apart,
    spanning at most ``max_span`` together, at least one of them in ``touched``. Returns
    absorbed key -> surviving key; absorbed clusters are removed from ``clusters``.
    """
    touched = set(touched)
    index: dict[str, set[int]] = defaultdict(set)
    top: dict[int, list[str]] = {}

    def top_terms(c: Cluster) -> list[str]:
        terms = [t for _, t in sorted((-w, t) for t, w in c.vector.items())[: params.merge_terms]]
        return terms + sorted(f"@{e}" for e in main_entities(c) & distinct)

    def eligible(a: Cluster, b: Cluster) -> bool:
        if a.key not in touched and b.key not in touched:
            return False
        span = max(a.last_at, b.last_at) - min(a.first_at, b.first_at)
        return span <= params.max_span and _gap_hours(a, b) <= (
            params.merge_gap.total_seconds() / 3600
        )

    heap: list[tuple[float, int, int, int, int]] = []
    version: dict[int, int] = defaultdict(int)

    def push_pairs(key: int) -> None:
        cluster = clusters[key]
        others: set[int] = set()
        for term in top[key]:
            others |= index[term]
        for other_key in sorted(others - {key}):
            other = clusters[other_key]
            if not eligible(cluster, other):
                continue
            score = merge_score(cluster, other, params, distinct)
            if score >= params.merge_threshold:
                lo, hi = sorted((key, other_key))
                heapq.heappush(heap, (-round(score, 9), lo, hi, version[lo], version[hi]))

    for key in sorted(clusters):
        top[key] = top_terms(clusters[key])
        for term in top[key]:
            index[term].add(key)
    for key in sorted(touched & set(clusters)):
        push_pairs(key)
    merged: dict[int, int] = {}
    while heap:
        _, lo, hi, v_lo, v_hi = heapq.heappop(heap)
        if lo not in clusters or hi not in clusters or (v_lo, v_hi) != (version[lo], version[hi]):
            continue  # one side was merged or changed since: its pairs were queued again
        a, b = clusters[lo], clusters[hi]
        survivor, gone = _survivor(a, b)
        survivor.absorb(gone)
        if gone.follows is not None and survivor.follows is None:
            survivor.follows = gone.follows
        del clusters[gone.key]
        merged[gone.key] = survivor.key
        for term in top.pop(gone.key):
            index[term].discard(gone.key)
        for term in top[survivor.key]:
            index[term].discard(survivor.key)
        top[survivor.key] = top_terms(survivor)
        for term in top[survivor.key]:
            index[term].add(survivor.key)
        touched.add(survivor.key)
        version[survivor.key] += 1
        push_pairs(survivor.key)
    for key, target in list(merged.items()):
        while target in merged:
            target = merged[target]
        merged[key] = target
    for cluster in clusters.values():
        if cluster.follows is not None and cluster.follows in merged:
            cluster.follows = merged[cluster.follows]
            if cluster.follows == cluster.key:
                cluster.follows = None
                cluster.is_novel = True
    return merged


def cluster_documents(
    docs: Sequence[Doc],
    *,
    seeds: Sequence[tuple[int, Sequence[Doc]]] = (),
    params: ClusterParams | None = None,
) -> tuple[list[Assignment], dict[int, Cluster]]:
    """Cluster ``docs`` (in time order) on top of existing ``seeds``; returns the assignments
    and every cluster touched or created. New clusters get negative keys."""
    params = params or ClusterParams()
    context = [d for _, members in seeds for d in members] + list(docs)
    clusterer = Clusterer(Vectoriser(context, params), params)
    for key, members in sorted(seeds, key=lambda s: s[0]):
        clusterer.seed(key, members)
    assignments = [clusterer.add(doc) for doc in sorted(docs, key=lambda d: (d.at, d.key))]
    merged = merge_clusters(
        clusterer.clusters,
        {a.cluster_key for a in assignments},
        params,
        clusterer.vectoriser.distinct_entities,
    )
    assignments = [
        a
        if a.cluster_key not in merged
        else Assignment(a.doc_key, merged[a.cluster_key], a.score, False, True)
        for a in assignments
    ]
    touched = {a.cluster_key for a in assignments} | set(merged.values())
    return assignments, {k: c for k, c in clusterer.clusters.items() if k in touched}


def central_member(cluster_docs: Sequence[Doc], vectoriser: Vectoriser) -> Doc:
    """The member closest to the centroid (ties: earliest), to title the event with."""
    vectors = [(doc, vectoriser.vector(doc)) for doc in cluster_docs]
    centroid: dict[str, float] = {}
    for _, vec in vectors:
        for t, w in vec.items():
            centroid[t] = centroid.get(t, 0.0) + w

    def closeness(item: tuple[Doc, dict[str, float]]) -> tuple[float, datetime, int]:
        doc, vec = item
        return (-sum(w * centroid.get(t, 0.0) for t, w in vec.items()), doc.at, doc.key)

    return min(vectors, key=closeness)[0]
