"""Stable golden IDs (``identity.golden_ids.assign_golden_ids``): inheritance by overlap,
merges with redirects, splits, new records, determinism and never reissuing an ID."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from orchestration.identity.evaluation import id_churn
from orchestration.identity.golden_ids import (
    CHANGE_REASONS,
    Assignment,
    assign_golden_ids,
    new_golden_id,
)

T0 = pd.Timestamp("2024-01-01")


def current_frame(
    clusters: dict[str, list[str]], first_seen: dict[str, int] | None = None
) -> pd.DataFrame:
    """``record_key, component, first_seen`` from ``{component: [keys]}``.

    ``first_seen`` is given in days after ``T0``; by default a record's position in the
    listing (so the first key listed of a cluster is its first-seen record).
    """
    seen = first_seen or {}
    rows = []
    position = 0
    for component, keys in clusters.items():
        for key in keys:
            rows.append((key, component, T0 + pd.Timedelta(days=seen.get(key, position))))
            position += 1
    return pd.DataFrame(rows, columns=["record_key", "component", "first_seen"])


def prior_of(result: Assignment) -> pd.DataFrame:
    return result.records[["record_key", "golden_id", "assignments"]].copy()


def handmade_prior(ids: dict[str, list[str]], assignments: int = 1) -> pd.DataFrame:
    rows = [(key, gid, assignments) for gid, keys in ids.items() for key in keys]
    return pd.DataFrame(rows, columns=["record_key", "golden_id", "assignments"])


def by_key(result: Assignment, column: str) -> dict[str, object]:
    return dict(zip(result.records["record_key"], result.records[column], strict=True))


def groups(result: Assignment) -> dict[str, frozenset[str]]:
    """Golden ID -> the record keys it names."""
    return {
        gid: frozenset(frame["record_key"])
        for gid, frame in result.records.groupby("golden_id", sort=True)
    }


def gid_of(result: Assignment, key: str) -> str:
    return str(by_key(result, "golden_id")[key])


def test_first_run_gives_one_new_uuid_per_cluster() -> None:
    clusters = {"c1": ["a", "b", "c"], "c2": ["d"], "c3": ["e", "f"]}
    result = assign_golden_ids(current_frame(clusters))

    assert groups(result) == {
        gid_of(result, "a"): frozenset({"a", "b", "c"}),
        gid_of(result, "d"): frozenset({"d"}),
        gid_of(result, "e"): frozenset({"e", "f"}),
    }
    for gid in result.records["golden_id"].unique():
        parsed = uuid.UUID(gid)
        assert str(parsed) == gid
        assert parsed.version == 5
        # Not a record key or a component label dressed up as an ID.
        assert gid not in {"a", "b", "c", "d", "e", "f", "c1", "c2", "c3"}
    assert list(result.records["record_key"]) == ["a", "b", "c", "d", "e", "f"]
    assert set(result.records["change_reason"]) == {"new_record"}
    assert result.records["previous_golden_id"].isna().all()
    assert (result.records["assignments"] == 1).all()
    assert result.redirects.empty
    assert list(result.redirects.columns) == [
        "old_golden_id",
        "new_golden_id",
        "reason",
        "records_moved",
    ]
    assert set(result.records["change_reason"]) <= set(CHANGE_REASONS)


def test_empty_prior_frame_is_a_first_run() -> None:
    current = current_frame({"c1": ["a", "b"], "c2": ["c"]})
    empty = pd.DataFrame({"record_key": [], "golden_id": [], "assignments": []})
    first = assign_golden_ids(current)
    pd.testing.assert_frame_equal(assign_golden_ids(current, empty).records, first.records)
    pd.testing.assert_frame_equal(assign_golden_ids(current, None).records, first.records)


def test_new_id_is_anchored_on_first_seen_record_not_smallest_key() -> None:
    # k9 was seen first, k5 is the smallest key.
    two = assign_golden_ids(current_frame({"x": ["k5", "k9"]}, {"k9": 0, "k5": 1}))
    gid = gid_of(two, "k5")
    assert gid == new_golden_id("k9", 0)
    assert gid != new_golden_id("k5", 0)
    assert gid not in {"k5", "k9"}

    # A record with a smaller key but seen later changes the smallest key, not the ID.
    three = assign_golden_ids(current_frame({"x": ["k0", "k5", "k9"]}, {"k9": 0, "k5": 1, "k0": 5}))
    assert set(three.records["golden_id"]) == {gid}

    # Nor does the working label of the component.
    relabelled = assign_golden_ids(current_frame({"k0": ["k5", "k9"]}, {"k9": 0, "k5": 1}))
    assert set(relabelled.records["golden_id"]) == {gid}


def test_first_seen_ties_are_broken_by_record_key() -> None:
    result = assign_golden_ids(current_frame({"x": ["m", "b", "z"]}, {"m": 3, "b": 3, "z": 3}))
    assert set(result.records["golden_id"]) == {new_golden_id("b", 0)}


def test_rerun_with_identical_inputs_changes_nothing() -> None:
    clusters = {"c1": ["a", "b", "c"], "c2": ["d"], "c3": ["e", "f", "g", "h"]}
    first = assign_golden_ids(current_frame(clusters))
    second = assign_golden_ids(current_frame(clusters), prior_of(first))

    assert by_key(second, "golden_id") == by_key(first, "golden_id")
    assert by_key(second, "previous_golden_id") == by_key(first, "golden_id")
    assert set(second.records["change_reason"]) == {"unchanged"}
    assert (second.records["assignments"] == 1).all()
    assert second.redirects.empty

    # Components are working labels: renaming them changes nothing either.
    renamed = {"z" + k: v for k, v in clusters.items()}
    third = assign_golden_ids(current_frame(renamed), prior_of(second))
    assert by_key(third, "golden_id") == by_key(first, "golden_id")
    assert set(third.records["change_reason"]) == {"unchanged"}


def _busy_increment() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A current clustering and prior map with a merge, a split, a tie and new records."""
    prior = handmade_prior(
        {
            "gid-a": ["a1", "a2", "a3", "a4"],
            "gid-b": ["b1", "b2"],
            "gid-c": ["c1", "c2"],
            "gid-d": ["d1", "d2"],
            "gid-e": ["e1", "e2", "gone"],
        }
    )
    current = current_frame(
        {
            "x1": ["a1", "a2"],  # a splits 2 + 2 (tie on overlap)
            "x2": ["a3", "a4", "n1"],
            "x3": ["b1", "b2", "c1", "c2"],  # b and c merge (full tie)
            "x4": ["d1", "e1", "e2"],  # d splits, one part merges into e
            "x5": ["d2", "n2"],
            "x6": ["n3"],
        }
    )
    return current, prior


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_shuffled_row_order_gives_identical_output(seed: int) -> None:
    current, prior = _busy_increment()
    expected = assign_golden_ids(current, prior)
    rng = np.random.default_rng(seed)
    shuffled = assign_golden_ids(
        current.sample(frac=1, random_state=rng).reset_index(drop=True),
        prior.sample(frac=1, random_state=rng).reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(shuffled.records, expected.records)
    pd.testing.assert_frame_equal(shuffled.redirects, expected.redirects)


def test_busy_increment_outcome() -> None:
    current, prior = _busy_increment()
    result = assign_golden_ids(current, prior)
    gid = by_key(result, "golden_id")
    reason = by_key(result, "change_reason")
    # a: 2-2 split; same overlap, same ID size, same ID: the smaller component label wins.
    assert gid["a1"] == gid["a2"] == "gid-a"
    assert reason["a1"] == reason["a2"] == "unchanged"
    assert gid["a3"] == gid["a4"] == gid["n1"] != "gid-a"
    assert reason["a3"] == reason["a4"] == "split"
    assert reason["n1"] == "new_record"
    # b and c tie completely: the smaller ID wins, c is redirected.
    assert {gid[k] for k in ("b1", "b2", "c1", "c2")} == {"gid-b"}
    assert reason["c1"] == reason["c2"] == "merged"
    # e keeps its ID (overlap 2 > 1); d stays with its other part.
    assert {gid[k] for k in ("d1", "e1", "e2")} == {"gid-e"}
    assert reason["d1"] == "split"
    assert gid["d2"] == gid["n2"] == "gid-d"
    assert reason["d2"] == "unchanged"
    assert gid["n3"] not in {"gid-a", "gid-b", "gid-c", "gid-d", "gid-e"}
    assert result.redirects.to_dict("records") == [
        {"old_golden_id": "gid-c", "new_golden_id": "gid-b", "reason": "merged", "records_moved": 2}
    ]


def test_merge_larger_overlap_keeps_its_id_and_loser_is_redirected() -> None:
    first = assign_golden_ids(current_frame({"A": ["a1", "a2", "a3"], "B": ["b1", "b2"]}))
    id_a, id_b = gid_of(first, "a1"), gid_of(first, "b1")
    assert id_a != id_b
    merged = assign_golden_ids(
        current_frame({"AB": ["b1", "b2", "a1", "a2", "a3"]}), prior_of(first)
    )

    assert set(merged.records["golden_id"]) == {id_a}
    reason = by_key(merged, "change_reason")
    assert {k: reason[k] for k in ("a1", "a2", "a3")} == dict.fromkeys(
        ("a1", "a2", "a3"), "unchanged"
    )
    assert reason["b1"] == reason["b2"] == "merged"
    assignments = by_key(merged, "assignments")
    assert assignments["a1"] == 1
    assert assignments["b1"] == assignments["b2"] == 2
    assert merged.redirects.to_dict("records") == [
        {"old_golden_id": id_b, "new_golden_id": id_a, "reason": "merged", "records_moved": 2}
    ]


@pytest.mark.parametrize(
    ("prior_ids", "winner", "loser"),
    [
        # Equal overlap (2 each): the ID that named more records before wins ("gone" is a
        # record deleted since), even though the other ID sorts first.
        ({"gid-z": ["a1", "a2", "gone"], "gid-a": ["b1", "b2"]}, "gid-z", "gid-a"),
        ({"gid-z": ["a1", "a2"], "gid-a": ["b1", "b2", "gone"]}, "gid-a", "gid-z"),
        # Equal overlap and size: the smaller ID wins.
        ({"gid-2": ["a1", "a2"], "gid-1": ["b1", "b2"]}, "gid-1", "gid-2"),
        ({"gid-1": ["a1", "a2"], "gid-2": ["b1", "b2"]}, "gid-1", "gid-2"),
    ],
)
def test_merge_ties(prior_ids: dict[str, list[str]], winner: str, loser: str) -> None:
    result = assign_golden_ids(
        current_frame({"m": ["a1", "a2", "b1", "b2"]}), handmade_prior(prior_ids)
    )
    assert set(result.records["golden_id"]) == {winner}
    moved = set(prior_ids[loser]) - {"gone"}
    reason = by_key(result, "change_reason")
    assert {k for k, r in reason.items() if r == "merged"} == moved
    assert {k for k, r in reason.items() if r == "unchanged"} == {"a1", "a2", "b1", "b2"} - moved
    assert result.redirects.to_dict("records") == [
        {"old_golden_id": loser, "new_golden_id": winner, "reason": "merged", "records_moved": 2}
    ]


def test_split_largest_part_keeps_id_others_get_new_ones() -> None:
    first = assign_golden_ids(current_frame({"G": ["a", "b", "c", "d", "e", "f"]}))
    gid = gid_of(first, "a")
    assert gid == new_golden_id("a", 0)
    # The anchor "a" and the smallest keys end up in the smaller parts.
    split = assign_golden_ids(
        current_frame({"p1": ["a", "b"], "p2": ["c", "d", "e"], "p3": ["f"]}), prior_of(first)
    )
    g = by_key(split, "golden_id")
    reason = by_key(split, "change_reason")
    assert g["c"] == g["d"] == g["e"] == gid
    assert reason["c"] == reason["d"] == reason["e"] == "unchanged"
    assert g["a"] == g["b"] != gid
    assert g["f"] not in {gid, g["a"]}
    assert {reason[k] for k in ("a", "b", "f")} == {"split"}
    # "a" anchored the old ID; its new one is its second.
    assert g["a"] == new_golden_id("a", 1)
    assert by_key(split, "assignments")["a"] == 2
    assert split.redirects.empty


def test_merge_and_split_keeps_both_ids() -> None:
    # A splits; one of its records joins B.
    prior = handmade_prior({"gid-a": ["a1", "a2", "a3", "a4"], "gid-b": ["b1", "b2"]})
    result = assign_golden_ids(
        current_frame({"x": ["a1", "a2", "a3"], "y": ["a4", "b1", "b2"]}), prior
    )
    g, reason = by_key(result, "golden_id"), by_key(result, "change_reason")
    assert g["a1"] == g["a2"] == g["a3"] == "gid-a"
    assert g["a4"] == g["b1"] == g["b2"] == "gid-b"
    assert reason["a4"] == "split"
    assert {reason[k] for k in ("a1", "a2", "a3", "b1", "b2")} == {"unchanged"}
    assert result.redirects.empty


def test_merge_and_split_where_the_bigger_part_takes_over() -> None:
    # A splits 1 + 3 and its 3 join B's 2: the merged cluster holds more of A than of B,
    # so it keeps A's ID, B is redirected, and A's lone record gets a new ID.
    prior = handmade_prior({"gid-a": ["a1", "a2", "a3", "a4"], "gid-b": ["b1", "b2"]})
    result = assign_golden_ids(
        current_frame({"x": ["a1"], "y": ["a2", "a3", "a4", "b1", "b2"]}), prior
    )
    g, reason = by_key(result, "golden_id"), by_key(result, "change_reason")
    assert {g[k] for k in ("a2", "a3", "a4", "b1", "b2")} == {"gid-a"}
    assert g["a1"] not in {"gid-a", "gid-b"}
    assert reason["a1"] == "split"
    assert reason["b1"] == reason["b2"] == "merged"
    assert {reason[k] for k in ("a2", "a3", "a4")} == {"unchanged"}
    assert result.redirects.to_dict("records") == [
        {"old_golden_id": "gid-b", "new_golden_id": "gid-a", "reason": "merged", "records_moved": 2}
    ]


def test_new_record_joining_a_cluster_takes_its_id() -> None:
    first = assign_golden_ids(current_frame({"c": ["a", "b"]}))
    gid = gid_of(first, "a")
    # "n" is seen before everybody and has the smallest key: it still takes the old ID.
    second = assign_golden_ids(
        current_frame({"c": ["a", "b", "0n"], "s": ["m"]}, {"0n": -10, "a": 0, "b": 1, "m": 2}),
        prior_of(first),
    )
    g, reason = by_key(second, "golden_id"), by_key(second, "change_reason")
    assert g["a"] == g["b"] == g["0n"] == gid
    assert reason["0n"] == "new_record"
    assert reason["a"] == reason["b"] == "unchanged"
    assert g["m"] == new_golden_id("m", 0)
    assert reason["m"] == "new_record"
    assert by_key(second, "assignments") == {"0n": 1, "a": 1, "b": 1, "m": 1}
    assert second.redirects.empty


def test_reanchored_record_gets_a_never_issued_id() -> None:
    # "a" anchors the first ID; later it is the anchor of new clusters again and again.
    runs = [
        {"c": ["a", "x", "y"]},
        {"c1": ["x", "y"], "c2": ["a"]},  # split: a's part is smaller, new ID anchored on a
        {"c": ["a", "x", "y"]},  # merge back: a's second ID is redirected
        {"c1": ["x", "y"], "c2": ["a"]},  # split again
    ]
    issued: list[str] = []
    prior = None
    for clusters in runs:
        result = assign_golden_ids(current_frame(clusters, {"a": 0, "x": 1, "y": 2}), prior)
        new_ids = set(result.records["golden_id"]) - set(issued)
        if prior is not None:
            assert new_ids.isdisjoint(set(prior["golden_id"]))
        issued.extend(sorted(new_ids))
        prior = prior_of(result)
    assert issued == [
        new_golden_id("a", 0),
        new_golden_id("a", 1),
        new_golden_id("a", 3),
    ]
    assert len(set(issued)) == 3
    assert by_key(result, "assignments") == {"a": 4, "x": 1, "y": 1}


def test_inconsistent_prior_takes_the_next_free_id_instead_of_reissuing_one() -> None:
    # The prior says "a" anchored an ID, yet "a" itself is missing from it (count 0), as in
    # a prior rebuilt from an exported file: the next free n is used, the same on every run.
    prior = handmade_prior({new_golden_id("a", 0): ["x"]})
    current = current_frame({"c1": ["x"], "c2": ["a"]})
    first = assign_golden_ids(current, prior)
    again = assign_golden_ids(current.sample(frac=1, random_state=3), prior)
    ids = by_key(first, "golden_id")
    assert ids["x"] == new_golden_id("a", 0)
    assert ids["a"] == new_golden_id("a", 1)
    assert by_key(again, "golden_id") == ids
    # "a" moves past the n it took, so it can never anchor new_golden_id("a", 1) again.
    assert by_key(first, "assignments")["a"] == 2


def _random_partition(rng: np.random.Generator, keys: list[str]) -> dict[str, list[str]]:
    k = max(1, len(keys) // int(rng.integers(1, 5)))
    labels = rng.integers(0, k, size=len(keys))
    clusters: dict[str, list[str]] = {}
    for key, label in zip(keys, labels, strict=True):
        clusters.setdefault(f"comp{label:03d}", []).append(key)
    return clusters


@pytest.mark.parametrize("seed", range(6))
def test_invariants_over_random_increments(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = [f"r{i:03d}" for i in range(40)]
    seen = {k: int(rng.integers(0, 1000)) for k in keys}
    issued: set[str] = set()
    prior: pd.DataFrame | None = None
    for step in range(8):
        if step:
            keys = keys + [f"r{len(keys) + i:03d}" for i in range(int(rng.integers(0, 8)))]
            seen.update({k: 1000 + step for k in keys if k not in seen})
        clusters = _random_partition(rng, keys)
        current = current_frame(clusters, seen)
        result = assign_golden_ids(current, prior)
        recs = result.records.merge(current[["record_key", "component"]], on="record_key")

        # One ID per cluster and one cluster per ID.
        assert (recs.groupby("component")["golden_id"].nunique() == 1).all()
        assert (recs.groupby("golden_id")["component"].nunique() == 1).all()
        assert recs["golden_id"].nunique() == len(clusters)

        prior_ids = set() if prior is None else set(prior["golden_id"])
        current_ids = set(recs["golden_id"])
        # A new ID is never one issued before; an inherited one is a prior ID.
        assert (current_ids - prior_ids).isdisjoint(issued)
        issued |= current_ids

        # Reasons agree with the IDs.
        same = recs["golden_id"] == recs["previous_golden_id"]
        assert (recs.loc[same, "change_reason"] == "unchanged").all()
        assert (recs.loc[recs["previous_golden_id"].isna(), "change_reason"] == "new_record").all()
        moved = recs[recs["previous_golden_id"].notna() & ~same]
        lost = prior_ids - current_ids
        assert set(moved.loc[moved["change_reason"] == "merged", "previous_golden_id"]) <= lost
        assert set(moved.loc[moved["change_reason"] == "split", "previous_golden_id"]).isdisjoint(
            lost
        )
        # Redirects: exactly the lost IDs, each to where most of its records went.
        red = result.redirects
        assert set(red["old_golden_id"]) == lost
        assert set(red["new_golden_id"]) <= current_ids
        for row in red.itertuples():
            went = recs.loc[recs["previous_golden_id"] == row.old_golden_id, "golden_id"]
            counts = went.value_counts()
            assert row.records_moved == counts.max()
            assert row.new_golden_id == min(counts[counts == counts.max()].index)
        # Assignments count the IDs a record has had.
        if prior is not None:
            before = recs.merge(prior, on="record_key", how="left", suffixes=("", "_before"))
            expected = before["assignments_before"].fillna(0) + (~same).to_numpy()
            assert (before["assignments"] == expected).all()
            # An ID changes only where the cluster of existing records changed.
            assert id_churn(prior, result.records).unnecessary == 0
        prior = prior_of(result)
