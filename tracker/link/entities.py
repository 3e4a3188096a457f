"""The entity dictionary and the matcher that finds its entities in article text.

False positives are the enemy of a market tracker: "Meta" inside "metadata", "arm" the limb
or "oracle" the common noun would tie unrelated news to a stock. So every name is matched on
word boundaries, names that are also ordinary words match only with their exact case, and the
most ambiguous ones ("Arm", "R1", "Constellation") count only when a context word is present.
All names of the dictionary go into one compiled alternation per case mode, longest first, so
matching an article is one regex scan whatever the size of the dictionary.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import Entity, EntityAlias, EntityTicker
from tracker.errors import UserInputError
from tracker.markets.universe import ensure_instruments

ENTITY_KINDS = frozenset({"company", "lab", "product", "regulator", "policy", "person"})
TICKER_RE = re.compile(r"^[A-Z][A-Z0-9.\-]{0,9}$")

# A name must not be glued to a letter or digit on either side ("Meta" in "metadata",
# "AMD" in "AMDs" ...); punctuation, hyphens and possessives are fine ("DeepSeek-R1", "Nvidia's").
_BEFORE = r"(?<![^\W_])"
_AFTER = r"(?![^\W_])"
# A name used as a comparison is not the entity: "a Facebook-like feed" is Microsoft Teams news.
_COMPARISON = re.compile(r"-(?:like|style|esque)(?![^\W_])", re.IGNORECASE)

# Words that make an article AI news even when no dictionary entity is named.
AI_TERMS = re.compile(
    r"(?<![^\W_])(?:AI|A\.I\.|artificial intelligence|machine learning|LLMs?|chatbots?|"
    r"large language models?|generative|neural|GPUs?|chipmakers?|semiconductors?|"
    r"data cent(?:er|re)s?|AGI|reasoning models?|deep learning)(?![^\W_])"
)
# Entity kinds that do not make an article AI news on their own ("Trump" alone is politics).
CONTEXT_ONLY_KINDS = frozenset({"regulator", "person"})

TITLE_WEIGHT = 0.6
BODY_WEIGHT = 0.4


@dataclass(frozen=True)
class EntitySpec:
    """One dictionary entry: names, kind, and the tickers it is (issuer) or exposes (exposure)."""

    slug: str
    name: str
    kind: str
    is_public: bool = False
    tickers: tuple[str, ...] = ()
    exposure: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    parent: str | None = None
    user_defined: bool = False

    @property
    def all_names(self) -> tuple[str, ...]:
        return (*self.aliases, *self.exact, *self.ambiguous)


@dataclass(frozen=True)
class EntityMatch:
    """An entity found in one article, with its relevance in [0, 1]."""

    slug: str
    in_title: bool
    mentions: int
    relevance: float


def relevance_score(title_mentions: int, body_mentions: int) -> float:
    """Title beats summary, repeated beats once; saturates at 1.

    A title mention alone scores 0.6, a single summary mention 0.2, and each further mention
    halves the distance to the cap, so forty repeats cannot outweigh being the headline.
    """
    title = TITLE_WEIGHT if title_mentions else 0.0
    body = BODY_WEIGHT * (1.0 - 0.5**body_mentions)
    extra = 0.1 * (1.0 - 0.5 ** max(title_mentions - 1, 0))
    return round(min(1.0, title + body + extra), 4)


def _strings(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise UserInputError(f"{where}: {key!r} must be a list of strings")
    return tuple(str(v).strip() for v in value if str(v).strip())


def parse_entity(entry: Any, where: str, *, user_defined: bool = False) -> EntitySpec:
    """Validate one YAML entry; the error names the file, the entry and the field."""
    if not isinstance(entry, dict):
        raise UserInputError(f"{where}: each entity must be a mapping")
    slug = str(entry.get("slug", "")).strip()
    if not re.fullmatch(r"[a-z0-9][a-z0-9\-_.]{0,79}", slug):
        raise UserInputError(f"{where}: bad or missing slug {slug!r} (lowercase, digits, -)")
    where = f"{where}: entity {slug!r}"
    kind = str(entry.get("kind", "company"))
    if kind not in ENTITY_KINDS:
        raise UserInputError(f"{where}: kind {kind!r} is not one of {sorted(ENTITY_KINDS)}")
    tickers = tuple(t.upper() for t in _strings(entry, "tickers", where))
    exposure = tuple(t.upper() for t in _strings(entry, "exposure", where))
    for ticker in (*tickers, *exposure):
        if not TICKER_RE.match(ticker):
            raise UserInputError(f"{where}: {ticker!r} is not a ticker")
    spec = EntitySpec(
        slug=slug,
        name=str(entry.get("name", slug)),
        kind=kind,
        is_public=bool(entry.get("public", bool(tickers))),
        tickers=tickers,
        exposure=exposure,
        aliases=_strings(entry, "aliases", where),
        exact=_strings(entry, "exact", where),
        ambiguous=_strings(entry, "ambiguous", where),
        context=_strings(entry, "context", where),
        exclude=_strings(entry, "exclude", where),
        parent=str(entry["parent"]) if entry.get("parent") else None,
        user_defined=user_defined,
    )
    if not spec.all_names:
        raise UserInputError(f"{where}: needs at least one name (aliases, exact or ambiguous)")
    if spec.ambiguous and not spec.context:
        raise UserInputError(f"{where}: 'ambiguous' names need 'context' words")
    return spec


def parse_dictionary(text: str, where: str, *, user_defined: bool = False) -> list[EntitySpec]:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise UserInputError(f"{where}: not valid YAML: {exc}") from exc
    entries = document.get("entities") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise UserInputError(f"{where}: expected an 'entities:' list")
    specs = [parse_entity(e, where, user_defined=user_defined) for e in entries]
    seen: set[str] = set()
    for spec in specs:
        if spec.slug in seen:
            raise UserInputError(f"{where}: entity {spec.slug!r} is listed twice")
        seen.add(spec.slug)
    return specs


def shipped_dictionary() -> list[EntitySpec]:
    """The dictionary that ships with the product (tracker/link/data/entities.yaml)."""
    text = resources.files("tracker.link").joinpath("data/entities.yaml").read_text("utf-8")
    return parse_dictionary(text, "shipped entities.yaml")


def load_dictionary(user_file: Path | None = None) -> list[EntitySpec]:
    """The shipped dictionary, extended (or overridden by slug) by the user's YAML file."""
    specs = {spec.slug: spec for spec in shipped_dictionary()}
    if user_file is not None:
        try:
            text = user_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise UserInputError(f"entities file {user_file}: {exc.strerror}") from exc
        for spec in parse_dictionary(text, f"entities file {user_file}", user_defined=True):
            specs[spec.slug] = spec
    return list(specs.values())


def _alternation(names: Iterable[str]) -> str:
    ordered = sorted(set(names), key=lambda n: (-len(n), n))
    return "|".join(_name_pattern(n) for n in ordered)


def _name_pattern(name: str) -> str:
    # Any run of spaces/hyphens in a name matches any run in the text ("Janus Pro", "Janus-Pro").
    parts = [re.escape(p) for p in re.split(r"[\s\-]+", name) if p]
    return r"[\s\-]+".join(parts)


def _normalise_name(text: str) -> str:
    return re.sub(r"[\s\-]+", " ", text).strip()


@dataclass
class Matcher:
    """Finds dictionary entities in text: one regex scan per case mode."""

    specs: Sequence[EntitySpec]
    _folded: dict[str, str] = field(default_factory=dict, init=False)
    _exact: dict[str, str] = field(default_factory=dict, init=False)
    _ambiguous: dict[str, str] = field(default_factory=dict, init=False)
    _context: dict[str, re.Pattern[str]] = field(default_factory=dict, init=False)
    _exclude: dict[str, re.Pattern[str]] = field(default_factory=dict, init=False)
    _parents: dict[str, str] = field(default_factory=dict, init=False)
    _insensitive_re: re.Pattern[str] | None = field(default=None, init=False)
    _sensitive_re: re.Pattern[str] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        slugs = {spec.slug for spec in self.specs}
        for spec in self.specs:
            if spec.parent is not None and spec.parent in slugs:
                self._parents[spec.slug] = spec.parent
            for alias in spec.aliases:
                self._folded.setdefault(_normalise_name(alias).casefold(), spec.slug)
            for alias in spec.exact:
                self._exact.setdefault(_normalise_name(alias), spec.slug)
            for alias in spec.ambiguous:
                self._ambiguous.setdefault(_normalise_name(alias), spec.slug)
            if spec.exclude:
                # the phrases are literal text, matched case-insensitively anywhere
                self._exclude[spec.slug] = re.compile(
                    "|".join(_name_pattern(e) for e in spec.exclude), re.IGNORECASE
                )
            if spec.context:
                self._context[spec.slug] = re.compile(
                    f"{_BEFORE}(?:{_alternation(spec.context)}){_AFTER}", re.IGNORECASE
                )
        if self._folded:
            self._insensitive_re = re.compile(
                f"{_BEFORE}(?:{_alternation(self._folded)}){_AFTER}", re.IGNORECASE
            )
        sensitive = set(self._exact) | set(self._ambiguous)
        if sensitive:
            # Exact-case names also refuse a hyphenated lowercase tail ("Meta-analysis").
            self._sensitive_re = re.compile(
                f"{_BEFORE}(?:{_alternation(sensitive)}){_AFTER}(?!-[a-z])"
            )

    def _count(self, text: str) -> tuple[dict[str, int], dict[str, int]]:
        """Mentions per entity: (sure ones, ambiguous ones that still need context)."""
        sure: dict[str, int] = {}
        unsure: dict[str, int] = {}
        if not text:
            return sure, unsure
        taken: list[tuple[int, int]] = []
        excluded = {
            slug: [m.span() for m in pattern.finditer(text)]
            for slug, pattern in self._exclude.items()
        }

        def passing(slug: str, start: int, end: int) -> bool:
            """A comparison ("Facebook-like") or a phrase the dictionary excludes for it."""
            if _COMPARISON.match(text, end):
                return True
            return any(s <= start and end <= e for s, e in excluded.get(slug, ()))

        if self._insensitive_re is not None:
            for found in self._insensitive_re.finditer(text):
                slug = self._folded.get(_normalise_name(found.group()).casefold())
                if slug is not None and passing(slug, *found.span()):
                    taken.append(found.span())
                elif slug is not None:
                    sure[slug] = sure.get(slug, 0) + 1
                    taken.append(found.span())
        if self._sensitive_re is not None:
            for found in self._sensitive_re.finditer(text):
                start, end = found.span()
                if any(start < t_end and t_start < end for t_start, t_end in taken):
                    continue  # inside a longer name already counted ("R1" in "DeepSeek-R1")
                name = _normalise_name(found.group())
                if name in self._exact:
                    slug = self._exact[name]
                    if not passing(slug, start, end):
                        sure[slug] = sure.get(slug, 0) + 1
                elif name in self._ambiguous:
                    slug = self._ambiguous[name]
                    if not passing(slug, start, end):
                        unsure[slug] = unsure.get(slug, 0) + 1
        return sure, unsure

    def match(self, title: str, body: str = "") -> list[EntityMatch]:
        """The entities of an article, most relevant first (ties by slug, so deterministic)."""
        title_sure, title_unsure = self._count(title)
        body_sure, body_unsure = self._count(body)
        whole = f"{title}\n{body}"
        title_counts = dict(title_sure)
        body_counts = dict(body_sure)
        for slug in sorted(set(title_unsure) | set(body_unsure)):
            pattern = self._context.get(slug)
            confirmed = slug in title_sure or slug in body_sure
            if not confirmed and pattern is not None:
                confirmed = self._context_present(pattern, whole, slug)
            if confirmed:
                title_counts[slug] = title_counts.get(slug, 0) + title_unsure.get(slug, 0)
                body_counts[slug] = body_counts.get(slug, 0) + body_unsure.get(slug, 0)
        # A product names its maker: "R1" is DeepSeek news even when "DeepSeek" is not written.
        for slug in sorted(set(title_counts) | set(body_counts)):
            parent = self._parents.get(slug)
            if parent is not None:
                title_counts[parent] = max(title_counts.get(parent, 0), title_counts.get(slug, 0))
                body_counts[parent] = max(body_counts.get(parent, 0), body_counts.get(slug, 0))
        matches = [
            EntityMatch(
                slug=slug,
                in_title=title_counts.get(slug, 0) > 0,
                mentions=title_counts.get(slug, 0) + body_counts.get(slug, 0),
                relevance=relevance_score(title_counts.get(slug, 0), body_counts.get(slug, 0)),
            )
            for slug in set(title_counts) | set(body_counts)
            if title_counts.get(slug, 0) + body_counts.get(slug, 0) > 0
        ]
        return sorted(matches, key=lambda m: (-m.relevance, m.slug))

    def _context_present(self, pattern: re.Pattern[str], text: str, slug: str) -> bool:
        """A context word other than the ambiguous name itself ("AI" must not confirm "AI")."""
        ambiguous = {name.casefold() for name, s in self._ambiguous.items() if s == slug}
        return any(
            _normalise_name(m.group()).casefold() not in ambiguous for m in pattern.finditer(text)
        )


def is_ai_news(
    title: str, body: str, matches: Iterable[EntityMatch], kinds: Mapping[str, str]
) -> bool:
    """Whether an article belongs in the event stream at all (the tracker follows AI news)."""
    if any(kinds.get(m.slug, "company") not in CONTEXT_ONLY_KINDS for m in matches):
        return True
    return AI_TERMS.search(title) is not None or AI_TERMS.search(body) is not None


def entity_weight(relevances: Iterable[float]) -> float:
    """An event's weight for one entity: its summed article relevance, log-damped."""
    return round(math.log1p(sum(relevances)), 4)


# ------------------------------------------------------------------------ storage


def seed_entities(session: Session, specs: Sequence[EntitySpec] | None = None) -> dict[str, int]:
    """Upsert the dictionary into the entity tables; returns slug -> entity id.

    Idempotent: names and tickers are synchronised with the dictionary, so editing the YAML
    and re-running changes what is stored. Entities only in the database (added by a user
    through the CLI) are kept.
    """
    specs = list(specs) if specs is not None else shipped_dictionary()
    existing = {e.slug: e for e in session.scalars(select(Entity))}
    ids: dict[str, int] = {}
    all_tickers = sorted({t for s in specs for t in (*s.tickers, *s.exposure)})
    instrument_ids = ensure_instruments(session, all_tickers) if all_tickers else {}
    for spec in specs:
        entity = existing.get(spec.slug)
        if entity is None:
            entity = Entity(slug=spec.slug, name=spec.name, kind=spec.kind)
            session.add(entity)
        entity.name = spec.name
        entity.kind = spec.kind
        entity.is_public = spec.is_public
        entity.user_defined = spec.user_defined
        session.flush()
        ids[spec.slug] = entity.id
        _sync_aliases(session, entity.id, spec)
        _sync_tickers(session, entity.id, spec, instrument_ids)
    for slug, entity in existing.items():
        ids.setdefault(slug, entity.id)
    session.flush()
    return ids


def _sync_aliases(session: Session, entity_id: int, spec: EntitySpec) -> None:
    wanted = dict.fromkeys(spec.aliases, False)
    wanted.update(dict.fromkeys((*spec.exact, *spec.ambiguous), True))
    rows = {
        a.alias: a
        for a in session.scalars(select(EntityAlias).where(EntityAlias.entity_id == entity_id))
    }
    for alias, row in rows.items():
        if alias not in wanted:
            session.delete(row)
        else:
            row.case_sensitive = wanted[alias]
    for alias, case_sensitive in wanted.items():
        if alias not in rows:
            session.add(
                EntityAlias(entity_id=entity_id, alias=alias, case_sensitive=case_sensitive)
            )


def _sync_tickers(
    session: Session, entity_id: int, spec: EntitySpec, instrument_ids: Mapping[str, int]
) -> None:
    wanted = {instrument_ids[t]: "issuer" for t in spec.exposure}
    wanted.update({instrument_ids[t]: "issuer" for t in spec.tickers})
    for t in spec.exposure:
        if t not in spec.tickers:
            wanted[instrument_ids[t]] = "exposure"
    rows = {
        r.instrument_id: r
        for r in session.scalars(select(EntityTicker).where(EntityTicker.entity_id == entity_id))
    }
    for instrument_id, row in rows.items():
        if instrument_id not in wanted:
            session.delete(row)
        else:
            row.relation = wanted[instrument_id]
    for instrument_id, relation in wanted.items():
        if instrument_id not in rows:
            session.add(
                EntityTicker(entity_id=entity_id, instrument_id=instrument_id, relation=relation)
            )


def stored_user_entities(session: Session, known: Iterable[str]) -> list[EntitySpec]:
    """Entities added to the database (e.g. by ``tracker events entity-add``) but not in YAML."""
    known_set = set(known)
    specs = []
    for entity in session.scalars(select(Entity).order_by(Entity.slug)):
        if entity.slug in known_set:
            continue
        aliases = session.scalars(
            select(EntityAlias)
            .where(EntityAlias.entity_id == entity.id)
            .order_by(EntityAlias.alias)
        ).all()
        if not aliases:
            continue
        specs.append(
            EntitySpec(
                slug=entity.slug,
                name=entity.name,
                kind=entity.kind,
                is_public=entity.is_public,
                aliases=tuple(a.alias for a in aliases if not a.case_sensitive),
                exact=tuple(a.alias for a in aliases if a.case_sensitive),
                user_defined=True,
            )
        )
    return specs
