"""Story clustering: same happening -> one cluster; deterministic; fast on repeated titles."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tracker.link.cluster import (
    Cluster,
    ClusterParams,
    Doc,
    Vectoriser,
    cluster_documents,
    merge_score,
    tokens,
)

T0 = datetime(2025, 1, 27, 8, tzinfo=UTC)

# Synthetic headlines (not recorded data) for the edge cases.
SELLOFF = [
    "Chip stocks sink as cheap Chinese AI model rattles investors",
    "Chinese AI model rattles investors, chip stocks sink",
    "Investors dump chip stocks after cheap Chinese AI model",
]
ROCKET = ["Rocket explodes on test flight over the ocean", "Test flight rocket explodes over ocean"]


def docs_of(titles: list[str], start: datetime, key0: int, entities: frozenset[str]) -> list[Doc]:
    return [
        Doc(key0 + i, start + timedelta(hours=i), t, "", entities, f"s{i}")
        for i, t in enumerate(titles)
    ]


def groups(assignments) -> list[set[int]]:
    by: dict[int, set[int]] = {}
    for a in assignments:
        by.setdefault(a.cluster_key, set()).add(a.doc_key)
    return sorted(by.values(), key=min)


def test_same_story_joins_and_other_story_does_not() -> None:
    docs = docs_of(SELLOFF, T0, 0, frozenset({"nvidia"})) + docs_of(ROCKET, T0, 10, frozenset())
    assignments, clusters = cluster_documents(docs)
    assert groups(assignments) == [{0, 1, 2}, {10, 11}]
    assert all(
        c.first_at == min(d.at for d in docs if d.key in c.members) for c in clusters.values()
    )


def test_far_apart_in_time_is_another_event() -> None:
    docs = docs_of(SELLOFF[:1], T0, 0, frozenset()) + docs_of(
        SELLOFF[1:2], T0 + timedelta(days=20), 1, frozenset()
    )
    assignments, _ = cluster_documents(docs)
    assert len(groups(assignments)) == 2


def test_deterministic_whatever_the_input_order() -> None:
    docs = docs_of(SELLOFF + ROCKET, T0, 0, frozenset())
    first, _ = cluster_documents(docs)
    second, _ = cluster_documents(list(reversed(docs)))
    assert first == second


def test_incremental_join_onto_seeded_cluster() -> None:
    old = docs_of(SELLOFF[:2], T0, 0, frozenset({"nvidia"}))
    new = docs_of(SELLOFF[2:], T0 + timedelta(hours=5), 5, frozenset({"nvidia"}))
    assignments, clusters = cluster_documents(new, seeds=[(42, old)])
    assert [a.cluster_key for a in assignments] == [42]
    assert set(clusters[42].members) == {0, 1, 5}


def test_title_repeated_thousands_of_times_is_one_cluster_per_window() -> None:
    docs = [
        Doc(i, T0 + timedelta(seconds=30 * i), "Market Talk: daily roundup", "", frozenset(), "x")
        for i in range(5000)
    ]
    assignments, clusters = cluster_documents(docs)
    assert len(clusters) == 1  # 5000 x 30 s < 2 days: one window
    assert sum(a.created for a in assignments) == 1


def test_tokens_drop_urls_stopwords_and_plurals() -> None:
    assert tokens("The chips of https://example.com/x and GPUs") == ["chip", "gpus"]
    assert tokens("") == []


def test_merge_pass_joins_clusters_of_one_story_and_not_others() -> None:
    docs = docs_of(SELLOFF, T0, 0, frozenset({"nvidia"})) + docs_of(ROCKET, T0, 10, frozenset())
    # every doc on its own (no similarity join, no near-duplicate titles, no merge)
    alone = ClusterParams(join_threshold=2.0, merge_threshold=9.0, near_duplicate_min_words=99)
    assignments, _ = cluster_documents(docs, params=alone)
    assert len(groups(assignments)) == 5
    merged, clusters = cluster_documents(docs, params=replace(alone, merge_threshold=0.28))
    assert groups(merged) == [{0, 1, 2}, {10, 11}]
    assert all(a.merged for a in merged if a.doc_key in {1, 2, 11})
    survivor = next(c for c in clusters.values() if 0 in c.members)
    assert len(survivor.absorbed) == 2
    assert survivor.first_at == T0


def test_merge_pass_respects_the_time_window() -> None:
    docs = docs_of(SELLOFF[:1], T0, 0, frozenset()) + docs_of(
        SELLOFF[1:2], T0 + timedelta(days=6), 1, frozenset()
    )
    assignments, _ = cluster_documents(docs, params=ClusterParams(merge_threshold=0.0))
    assert len(groups(assignments)) == 2


def test_merge_pass_keeps_the_stored_cluster_and_leaves_untouched_ones() -> None:
    params = ClusterParams(join_threshold=2.0, near_duplicate_min_words=99)
    old = [
        (42, docs_of(SELLOFF[:1], T0, 0, frozenset())),
        (43, docs_of(ROCKET[:1], T0, 5, frozenset())),
    ]
    new = docs_of(SELLOFF[1:2], T0 + timedelta(hours=2), 7, frozenset())
    assignments, clusters = cluster_documents(new, seeds=old, params=params)
    assert [(a.cluster_key, a.merged) for a in assignments] == [(42, True)]
    assert set(clusters) == {42}
    assert clusters[42].absorbed
    assert clusters[42].absorbed[0] < 0
    # two stored clusters are never merged by a run that adds nothing to either
    rocket = docs_of(ROCKET[1:], T0 + timedelta(days=30), 9, frozenset())
    again, clusters = cluster_documents(
        rocket, seeds=[(42, old[0][1]), (44, docs_of(SELLOFF[1:2], T0, 1, frozenset()))]
    )
    assert {a.cluster_key for a in again} == set(clusters)
    assert 42 not in clusters


def test_merge_is_deterministic_whatever_the_input_order() -> None:
    docs = docs_of(SELLOFF + ROCKET, T0, 0, frozenset({"nvidia"}))
    params = ClusterParams(join_threshold=2.0)
    first, _ = cluster_documents(docs, params=params)
    second, _ = cluster_documents(list(reversed(docs)), params=params)
    assert first == second


def test_near_duplicate_titles_join_without_any_text_similarity() -> None:
    no_join = ClusterParams(join_threshold=2.0, merge_threshold=9.0)
    docs = docs_of(SELLOFF[:2] + ROCKET[:1], T0, 0, frozenset())
    assignments, _ = cluster_documents(docs, params=no_join)
    # the same words reordered are one headline; a rocket is not
    assert groups(assignments) == [{0, 1}, {2}]
    short = docs_of(["Chip stocks sink", "Sink chip stocks"], T0, 5, frozenset())
    assignments, _ = cluster_documents(short, params=no_join)
    assert len(groups(assignments)) == 2  # too few words to call two titles the same


def test_shared_distinctive_entity_and_time_merge_different_words() -> None:
    """Coverage of one rule in different words merges on the entity they share."""
    words = [
        "Washington imposes sweeping curbs on advanced processors",
        "Allies get unrestricted access while others face numerical limits",
    ]
    docs = docs_of(words, T0, 0, frozenset({"export-controls"}))
    # no word in common at all: the floor on shared words (merge_min_text) is set aside to
    # see the entity-and-time bonus alone
    apart = ClusterParams(
        join_threshold=2.0, merge_threshold=0.3, entity_bonus=0.0, merge_min_text=0.0
    )
    assignments, _ = cluster_documents(docs, params=apart)
    assert len(groups(assignments)) == 2
    together = replace(apart, entity_time_bonus=0.3)
    assignments, _ = cluster_documents(docs, params=together)
    assert groups(assignments) == [{0, 1}]
    later = docs_of(words[:1], T0, 0, frozenset({"export-controls"})) + docs_of(
        words[1:], T0 + timedelta(days=2), 1, frozenset({"export-controls"})
    )
    assignments, _ = cluster_documents(later, params=together)
    assert len(groups(assignments)) == 2  # beyond entity_gap: the words must agree


def _cluster_of(docs: list[Doc], vectoriser: Vectoriser, key: int) -> Cluster:
    cluster = Cluster(key=key, first_at=docs[0].at, last_at=docs[0].at)
    for doc in docs:
        cluster.add(doc, vectoriser.vector(doc))
    return cluster


def test_a_shared_company_alone_does_not_merge_two_happenings() -> None:
    """Recorded headlines of one Apple week (the Sports app; quarterly results): the entity
    bonuses add up past the merge threshold, the words beyond "Apple" do not."""
    apple = frozenset({"apple"})
    sports = [
        Doc(
            1,
            T0,
            "Apple’s Sports app now tells you where you can watch nationally broadcast games",
            "",
            apple,
            "a",
        ),
        Doc(
            2,
            T0 + timedelta(hours=11),
            "Apple Sports is making game day a whole lot easier - here's how",
            "",
            apple,
            "b",
        ),
    ]
    results = [
        Doc(
            3,
            T0 + timedelta(hours=20),
            "Apple reports best-ever earnings even as iPhone revenue slips",
            "",
            apple,
            "a",
        ),
        Doc(
            4,
            T0 + timedelta(hours=22),
            "Q1 earnings: Apple sees a sales slip in China, worrying investors",
            "",
            apple,
            "c",
        ),
    ]
    params = ClusterParams()
    vectoriser = Vectoriser(sports + results, params)
    a, b = _cluster_of(sports, vectoriser, -1), _cluster_of(results, vectoriser, -2)
    assert merge_score(a, b, params, apple) == 0.0
    without_floor = replace(params, merge_min_text=0.0)
    assert merge_score(a, b, without_floor, apple) >= params.merge_threshold


def test_same_day_market_reports_are_one_move() -> None:
    """Recorded 2025-01-27 headlines: a premarket report naming no company joins the
    sell-off coverage through the market-move bonus; without the flag it stays apart."""
    china = frozenset({"deepseek"})
    selloff = [
        Doc(
            1,
            T0,
            "DeepSeek's 'cheap' Chinese AI chatbot sparks tech stock selloff",
            "",
            china,
            "a",
            market=True,
        ),
        Doc(
            2,
            T0 + timedelta(hours=7),
            "Tech stocks fall as China's DeepSeek sparks U.S. worries about the AI race",
            "",
            china,
            "b",
            market=True,
        ),
    ]
    premarket = Doc(
        3,
        T0 - timedelta(minutes=20),
        "Stocks Markets Fall Sharply as Investors Worry About China's AI Advances",
        "",
        frozenset(),
        "c",
        market=True,
    )
    params = ClusterParams()
    vectoriser = Vectoriser([*selloff, premarket], params)
    coverage = _cluster_of(selloff, vectoriser, -1)
    report = _cluster_of([premarket], vectoriser, -2)
    assert merge_score(coverage, report, params) >= params.merge_threshold
    unflagged = _cluster_of([replace(premarket, market=False)], vectoriser, -3)
    assert merge_score(coverage, unflagged, params) < merge_score(coverage, report, params)
    assert merge_score(coverage, unflagged, params) + params.entity_time_bonus == merge_score(
        coverage, report, params
    )


def _doc(key: int, at: str, title: str, entities: str) -> Doc:
    return Doc(key, datetime.fromisoformat(at), title, "", frozenset(entities.split()), str(key))


# Recorded headlines of 2025-01-28..01-31 with the entities the matcher finds in their title and
# summary: ChatGPT Gov, Microsoft hosting DeepSeek-R1, and OpenAI's o3-mini launch (with the
# o1-in-Copilot report it joins), three happenings sharing OpenAI, Microsoft and "model".
CHATGPT_GOV = [
    _doc(
        1,
        "2025-01-28T11:12:08+00:00",
        "OpenAI launches ChatGPT for government agencies",
        "openai microsoft chatgpt",
    ),
    _doc(
        2,
        "2025-01-29T19:19:47+00:00",
        "OpenAI tailored ChatGPT Gov for government use - here's what that means",
        "openai chatgpt",
    ),
]
MICROSOFT_HOSTS_R1 = [
    _doc(
        3,
        "2025-01-29T15:37:18+00:00",
        "Microsoft makes DeepSeek’s R1 model available on Azure AI and GitHub",
        "deepseek openai microsoft deepseek-r1",
    ),
    _doc(
        4,
        "2025-01-30T12:00:00+00:00",
        "Inside Microsoft’s quick embrace of DeepSeek",
        "deepseek openai microsoft deepseek-r1 openai-o-series",
    ),
    _doc(
        5,
        "2025-01-30T16:37:14+00:00",
        "Microsoft now hosts AI model accused of copying OpenAI data",
        "deepseek openai microsoft deepseek-r1",
    ),
]
O3_MINI = [
    _doc(
        6,
        "2025-01-30T10:42:03+00:00",
        "Microsoft makes OpenAI’s o1 reasoning model free for all Copilot users",
        "openai microsoft chatgpt openai-o-series",
    ),
    _doc(
        7,
        "2025-01-31T14:00:00+00:00",
        "OpenAI launches new o3-mini reasoning model with a free ChatGPT version",
        "openai chatgpt openai-o-series",
    ),
    _doc(
        8,
        "2025-01-31T19:27:58+00:00",
        "OpenAI’s o3-Mini Is a Leaner AI Model That Keeps Pace With DeepSeek",
        "deepseek openai deepseek-r1 openai-o-series",
    ),
    _doc(
        9,
        "2025-01-31T20:06:52+00:00",
        "OpenAI hits back at DeepSeek with o3-mini reasoning model",
        "deepseek openai openai-o-series",
    ),
]


def test_happenings_about_different_distinctive_entities_do_not_merge() -> None:
    """Microsoft hosting DeepSeek-R1 and OpenAI's o3-mini share OpenAI, Microsoft, DeepSeek and
    "model" (enough to merge); each is mainly about its own distinctive entity, so they stay
    apart, and ChatGPT Gov joins neither; the o3-mini reports stay one event."""
    params = ClusterParams()
    # distinctive in the recorded corpus: named in at most 3% of its documents
    distinct = frozenset({"deepseek-r1", "openai-o-series"})
    vectoriser = Vectoriser(CHATGPT_GOV + MICROSOFT_HOSTS_R1 + O3_MINI, params)
    gov = _cluster_of(CHATGPT_GOV, vectoriser, -1)
    hosts = _cluster_of(MICROSOFT_HOSTS_R1, vectoriser, -2)
    o3 = _cluster_of(O3_MINI, vectoriser, -3)
    assert merge_score(hosts, o3, params, distinct) == 0.0
    same_words = replace(params, separate_subjects=False)
    assert merge_score(hosts, o3, same_words, distinct) >= params.merge_threshold
    for other in (hosts, o3):
        assert merge_score(gov, other, params, distinct) < params.merge_threshold
    launch = _cluster_of(O3_MINI[1:2], vectoriser, -4)
    coverage = _cluster_of(O3_MINI[2:], vectoriser, -5)
    assert merge_score(launch, coverage, params, distinct) >= params.merge_threshold
