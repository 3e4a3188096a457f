"""Story clustering: same happening -> one cluster; deterministic; fast on repeated titles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracker.link.cluster import Doc, cluster_documents, tokens

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
