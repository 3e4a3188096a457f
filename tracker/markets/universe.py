"""The default instrument universe and baskets, and seeding them idempotently.

The baskets cover every ticker of the recorded data. Users extend or replace them in a
YAML file (``baskets:`` mapping slug -> {name, tickers}) named by ``load_basket_file``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db.models import Basket, BasketMember, Instrument
from tracker.errors import UserInputError


@dataclass(frozen=True)
class InstrumentSpec:
    ticker: str
    name: str
    kind: str = "equity"  # equity | etf


@dataclass(frozen=True)
class BasketSpec:
    slug: str
    name: str
    tickers: tuple[str, ...]
    description: str = ""


INSTRUMENTS: tuple[InstrumentSpec, ...] = (
    InstrumentSpec("NVDA", "NVIDIA"),
    InstrumentSpec("AMD", "Advanced Micro Devices"),
    InstrumentSpec("AVGO", "Broadcom"),
    InstrumentSpec("TSM", "Taiwan Semiconductor Manufacturing (ADR)"),
    InstrumentSpec("ASML", "ASML Holding (ADR)"),
    InstrumentSpec("MU", "Micron Technology"),
    InstrumentSpec("ARM", "Arm Holdings (ADR)"),
    InstrumentSpec("SMCI", "Super Micro Computer"),
    InstrumentSpec("MRVL", "Marvell Technology"),
    InstrumentSpec("MSFT", "Microsoft"),
    InstrumentSpec("GOOGL", "Alphabet (Class A)"),
    InstrumentSpec("META", "Meta Platforms"),
    InstrumentSpec("AMZN", "Amazon.com"),
    InstrumentSpec("ORCL", "Oracle"),
    InstrumentSpec("VST", "Vistra"),
    InstrumentSpec("CEG", "Constellation Energy"),
    InstrumentSpec("TLN", "Talen Energy"),
    InstrumentSpec("NRG", "NRG Energy"),
    InstrumentSpec("GEV", "GE Vernova"),
    InstrumentSpec("OKLO", "Oklo"),
    InstrumentSpec("SMR", "NuScale Power"),
    InstrumentSpec("NEE", "NextEra Energy"),
    InstrumentSpec("VRT", "Vertiv Holdings"),
    InstrumentSpec("XOM", "Exxon Mobil"),
    InstrumentSpec("CVX", "Chevron"),
    InstrumentSpec("SPY", "SPDR S&P 500 ETF", "etf"),
    InstrumentSpec("QQQ", "Invesco QQQ (Nasdaq-100) ETF", "etf"),
    InstrumentSpec("SMH", "VanEck Semiconductor ETF", "etf"),
    InstrumentSpec("SOXX", "iShares Semiconductor ETF", "etf"),
    InstrumentSpec("XLU", "Utilities Select Sector SPDR", "etf"),
    InstrumentSpec("XLE", "Energy Select Sector SPDR", "etf"),
    InstrumentSpec("XLK", "Technology Select Sector SPDR", "etf"),
)

BASKETS: tuple[BasketSpec, ...] = (
    BasketSpec(
        "ai_semis",
        "AI semiconductors",
        ("NVDA", "AMD", "AVGO", "TSM", "ASML", "MU", "ARM", "SMCI", "MRVL"),
        "Chip designers, foundries, equipment and servers priced on AI compute demand.",
    ),
    BasketSpec(
        "hyperscalers",
        "Hyperscalers",
        ("MSFT", "GOOGL", "META", "AMZN", "ORCL"),
        "Cloud and AI platform companies that buy the compute.",
    ),
    BasketSpec(
        "ai_power",
        "AI power",
        ("VST", "CEG", "TLN", "NRG", "GEV", "OKLO", "SMR", "NEE", "VRT"),
        "Power producers, grid and data-centre equipment priced on AI data-centre demand.",
    ),
    BasketSpec("oil_majors", "Oil majors", ("XOM", "CVX"), "Integrated oil companies."),
    BasketSpec(
        "benchmarks",
        "Benchmarks",
        ("SPY", "QQQ", "SMH", "SOXX", "XLU", "XLE", "XLK"),
        "Market and sector ETFs used as benchmarks and factors.",
    ),
)

INSTRUMENTS_BY_TICKER = {spec.ticker: spec for spec in INSTRUMENTS}
BASKETS_BY_SLUG = {spec.slug: spec for spec in BASKETS}


def load_basket_file(path: Path) -> tuple[BasketSpec, ...]:
    """Baskets from a YAML file: ``baskets: {slug: {name: ..., tickers: [..]}}``."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UserInputError(f"basket file {path}: {exc}") from exc
    entries = document.get("baskets") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise UserInputError(f"basket file {path}: expected a 'baskets:' mapping")
    specs = []
    for slug, entry in entries.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("tickers"), list):
            raise UserInputError(f"basket file {path}: basket {slug!r} needs a 'tickers' list")
        tickers = tuple(str(t).strip().upper() for t in entry["tickers"] if str(t).strip())
        specs.append(BasketSpec(str(slug), str(entry.get("name", slug)), tickers))
    return tuple(specs)


def ensure_instruments(session: Session, tickers: list[str] | tuple[str, ...]) -> dict[str, int]:
    """Ids of ``tickers``, creating the missing instruments (known names where we have them)."""
    wanted = {ticker.upper() for ticker in tickers}
    rows = session.execute(
        select(Instrument.ticker, Instrument.id).where(Instrument.ticker.in_(wanted))
    )
    existing: dict[str, int] = {row.ticker: row.id for row in rows}
    for ticker in sorted(wanted - existing.keys()):
        spec = INSTRUMENTS_BY_TICKER.get(ticker, InstrumentSpec(ticker, ticker))
        instrument = Instrument(ticker=ticker, name=spec.name, kind=spec.kind)
        session.add(instrument)
        session.flush()
        existing[ticker] = instrument.id
    return existing


def seed_universe(session: Session, baskets: tuple[BasketSpec, ...] = BASKETS) -> dict[str, int]:
    """Create the default instruments and baskets (idempotent; members are added, never removed).

    Returns the number of instruments and baskets created.
    """
    before_instruments = session.query(Instrument).count()
    before_baskets = session.query(Basket).count()
    ids = ensure_instruments(session, [spec.ticker for spec in INSTRUMENTS])
    for spec in baskets:
        ids.update(ensure_instruments(session, spec.tickers))
        basket = session.scalars(select(Basket).where(Basket.slug == spec.slug)).one_or_none()
        if basket is None:
            basket = Basket(slug=spec.slug, name=spec.name, description=spec.description)
            session.add(basket)
            session.flush()
        members = set(
            session.scalars(
                select(BasketMember.instrument_id).where(BasketMember.basket_id == basket.id)
            )
        )
        for ticker in spec.tickers:
            if ids[ticker] not in members:
                session.add(BasketMember(basket_id=basket.id, instrument_id=ids[ticker]))
    session.flush()
    return {
        "instruments_created": session.query(Instrument).count() - before_instruments,
        "baskets_created": session.query(Basket).count() - before_baskets,
    }
