"""The entity matcher: false positives kept out, relevance ordering, user extension."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tracker.db.models import Entity, EntityTicker, Instrument
from tracker.errors import UserInputError
from tracker.link.entities import Matcher, load_dictionary, relevance_score, seed_entities


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_dictionary())


def slugs(matcher: Matcher, title: str, body: str = "") -> set[str]:
    return {m.slug for m in matcher.match(title, body)}


@pytest.mark.parametrize(
    "text",
    [
        "The metadata of every photo is kept",
        "A meta-analysis of sleep studies",
        "He broke his arm skiing",
        "Arm yourself with these tips for winter",
        "The oracle of Delphi spoke in riddles",
        "A constellation of stars over the desert",
        "The R1 is a fast motorbike",
        "Samsung's amazing display",
    ],
)
def test_common_words_are_not_entities(matcher: Matcher, text: str) -> None:
    assert slugs(matcher, text) == set()


def test_names_in_context_are_found(matcher: Matcher) -> None:
    assert slugs(matcher, "Meta to cut 5% of staff") == {"meta"}
    assert "arm" in slugs(matcher, "Arm plans its own chip, SoftBank says")
    assert {"deepseek", "deepseek-r1"} <= slugs(matcher, "DeepSeek-R1 rivals OpenAI o1")
    assert {"deepseek", "deepseek-r1"} <= slugs(matcher, "R1 is a reasoning model anyone can run")
    assert "nvidia" in slugs(matcher, "NVIDIA's stock fell; Nvidia’s chief spoke")
    assert "janus-pro" in slugs(matcher, "DeepSeek releases Janus Pro")
    assert "oracle" in slugs(matcher, "Oracle, OpenAI and SoftBank back Stargate")


def test_title_beats_summary_and_repeats_count(matcher: Matcher) -> None:
    in_title = {m.slug: m for m in matcher.match("Nvidia sinks", "")}["nvidia"]
    in_body = {m.slug: m for m in matcher.match("Chips sink", "Nvidia fell.")}["nvidia"]
    repeated = {m.slug: m for m in matcher.match("Chips sink", "Nvidia fell. Nvidia again.")}
    assert in_title.in_title
    assert not in_body.in_title
    assert in_title.relevance > repeated["nvidia"].relevance > in_body.relevance
    assert repeated["nvidia"].mentions == 2
    assert relevance_score(1, 100) <= 1.0


def test_empty_html_and_foreign_text(matcher: Matcher) -> None:
    assert matcher.match("", "") == []
    assert matcher.match("<p></p>", "<div><img src='x'></div>") == []
    assert slugs(matcher, "DeepSeek 发布新模型", "深度学习") == {"deepseek"}


def test_user_file_extends_and_overrides(tmp_path: Path) -> None:
    user = tmp_path / "entities.yaml"
    user.write_text(
        "entities:\n"
        "  - {slug: qualcomm, name: Qualcomm, kind: company, tickers: [QCOM],"
        " aliases: [Qualcomm]}\n"
        "  - {slug: nvidia, name: NVIDIA Corp, kind: company, tickers: [NVDA], exact: [Nvidia]}\n",
        encoding="utf-8",
    )
    specs = {s.slug: s for s in load_dictionary(user)}
    assert specs["qualcomm"].user_defined
    assert specs["nvidia"].name == "NVIDIA Corp"
    assert "qualcomm" in slugs(Matcher(list(specs.values())), "Qualcomm sues Arm")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("entities: {}", "expected an 'entities:' list"),
        ("entities:\n  - {slug: X Y, aliases: [a]}", "bad or missing slug"),
        ("entities:\n  - {slug: x, kind: planet, aliases: [a]}", "kind 'planet'"),
        ("entities:\n  - {slug: x}", "needs at least one name"),
        ("entities:\n  - {slug: x, ambiguous: [X]}", "need 'context' words"),
        ("entities: [", "not valid YAML"),
    ],
)
def test_bad_user_file_names_the_problem(tmp_path: Path, body: str, message: str) -> None:
    user = tmp_path / "bad.yaml"
    user.write_text(body, encoding="utf-8")
    with pytest.raises(UserInputError, match=message):
        load_dictionary(user)


def test_seed_entities_is_idempotent_and_links_tickers(database) -> None:
    with database.session() as session:
        first = seed_entities(session)
    with database.session() as session:
        second = seed_entities(session)
        assert first == second
        nvda = session.scalars(
            select(EntityTicker.relation)
            .join(Instrument, Instrument.id == EntityTicker.instrument_id)
            .where(EntityTicker.entity_id == first["nvidia"], Instrument.ticker == "NVDA")
        ).one()
        assert nvda == "issuer"
        openai = session.get_one(Entity, first["openai"])
        assert not openai.is_public
        relations = set(
            session.scalars(
                select(EntityTicker.relation).where(EntityTicker.entity_id == first["openai"])
            )
        )
        assert relations == {"exposure"}
        assert not session.scalars(
            select(EntityTicker).where(EntityTicker.entity_id == first["deepseek"])
        ).all()


def test_comparisons_and_excluded_phrases_are_not_the_entity() -> None:
    """Real recorded headlines/summaries that used to link the wrong company."""
    matcher = Matcher(load_dictionary())
    teams = matcher.match("Microsoft Teams is getting a Facebook-like feed and follow button")
    assert [m.slug for m in teams] == ["microsoft"]
    intel = matcher.match(
        "Same CPU, slower GPU and NPU: Meet the rest of Intel’s Core Ultra 200 laptop chips",
        "Core Ultra 200U, 200H, and 200HX will all fall short of Copilot+ compatibility.",
    )
    assert [m.slug for m in intel] == ["intel"]
    assert "microsoft" in {m.slug for m in matcher.match("Microsoft pushes Copilot in Word")}
