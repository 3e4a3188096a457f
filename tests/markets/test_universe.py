from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tracker.db import Database
from tracker.db.models import Basket, BasketMember, Instrument
from tracker.errors import UserInputError
from tracker.markets.universe import BASKETS, INSTRUMENTS, load_basket_file, seed_universe


def test_seed_creates_every_default_and_is_idempotent(database: Database) -> None:
    with database.session() as session:
        first = seed_universe(session)
    with database.session() as session:
        second = seed_universe(session)
        power = session.scalars(select(Basket).where(Basket.slug == "ai_power")).one()
        tickers = set(
            session.scalars(
                select(Instrument.ticker)
                .join(BasketMember, BasketMember.instrument_id == Instrument.id)
                .where(BasketMember.basket_id == power.id)
            )
        )
    assert first == {"instruments_created": len(INSTRUMENTS), "baskets_created": len(BASKETS)}
    assert second == {"instruments_created": 0, "baskets_created": 0}
    assert {"VST", "CEG", "TLN", "GEV", "NRG"} <= tickers


def test_basket_file_is_validated(tmp_path: Path) -> None:
    good = tmp_path / "baskets.yaml"
    good.write_text("baskets:\n  nuclear:\n    name: Nuclear\n    tickers: [oklo, SMR]\n")
    (spec,) = load_basket_file(good)
    assert spec.tickers == ("OKLO", "SMR")
    bad = tmp_path / "bad.yaml"
    bad.write_text("baskets:\n  nuclear: [OKLO]\n")
    with pytest.raises(UserInputError, match="nuclear"):
        load_basket_file(bad)
