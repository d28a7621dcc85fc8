"""Pairwise cluster metrics (``identity.evaluation.pairwise_metrics``) against hand counts and
a brute-force pair enumeration."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from orchestration.identity.evaluation import PairwiseMetrics, id_churn, pairwise_metrics
from orchestration.identity.golden_ids import assign_golden_ids


def brute_force(predicted: list[object], truth: list[object]) -> tuple[int, int, int]:
    """(predicted, true, correct) pairs by enumerating every pair; missing = singleton."""

    def same(labels: list[object], i: int, j: int) -> bool:
        a, b = labels[i], labels[j]
        return not (pd.isna(a) or pd.isna(b)) and a == b

    p = t = c = 0
    for i, j in combinations(range(len(predicted)), 2):
        in_p, in_t = same(predicted, i, j), same(truth, i, j)
        p += in_p
        t += in_t
        c += in_p and in_t
    return p, t, c


def test_hand_computed_example() -> None:
    # Clusters {0,1} (A,A), {2,3,4} (A,B,B), {5,6} (C,D).
    predicted = [1, 1, 2, 2, 2, 3, 3]
    truth = ["A", "A", "A", "B", "B", "C", "D"]
    m = pairwise_metrics(predicted, truth)
    assert m.records == 7
    assert m.clusters == 3
    assert m.true_entities == 4
    assert m.predicted_pairs == 1 + 3 + 1
    assert m.true_pairs == 3 + 1
    assert m.correct_pairs == 1 + 1
    assert m.precision == pytest.approx(0.4)
    assert m.recall == pytest.approx(0.5)
    assert m.f1 == pytest.approx(2 * 0.4 * 0.5 / 0.9, abs=1e-6)
    assert m.largest_cluster == 3
    assert m.largest_true_entity == 3
    assert m.largest_excess == 1


def test_perfect_clustering_scores_one_whatever_the_labels() -> None:
    truth = ["p1", "p1", "p2", "p3", "p3", "p3"]
    predicted = ["golden-9", "golden-9", "golden-1", "x", "x", "x"]
    m = pairwise_metrics(pd.Series(predicted), pd.Series(truth))
    assert (m.precision, m.recall, m.f1) == (1.0, 1.0, 1.0)
    assert m.correct_pairs == m.true_pairs == m.predicted_pairs == 1 + 3
    assert m.largest_excess == 0


def test_all_singletons_have_zero_recall() -> None:
    truth = ["a", "a", "b", "b", "b"]
    m = pairwise_metrics(np.arange(5), np.array(truth, dtype=object))
    assert m.predicted_pairs == 0
    assert m.true_pairs == 4
    assert m.recall == 0.0
    assert m.precision == 1.0  # nothing predicted to match, nothing wrong
    assert m.f1 == 0.0
    assert m.clusters == 5
    assert m.largest_cluster == 1
    assert m.largest_excess == 0


def test_one_big_cluster_shows_the_excess() -> None:
    truth = ["a", "a", "a", "b", "c", "c"]
    m = pairwise_metrics(["g"] * 6, truth)
    assert m.predicted_pairs == 15
    assert m.correct_pairs == m.true_pairs == 3 + 1
    assert m.recall == 1.0
    assert m.precision == pytest.approx(4 / 15, abs=1e-6)
    assert m.largest_excess == 3  # six records, the biggest true entity holds three


def test_missing_truth_counts_as_singletons() -> None:
    m = pairwise_metrics([1, 1, 1, 1], ["A", "A", None, np.nan])
    assert m.true_entities == 3
    assert m.true_pairs == 1
    assert m.predicted_pairs == 6
    assert m.correct_pairs == 1
    assert m.precision == pytest.approx(1 / 6, abs=1e-6)
    assert m.recall == 1.0
    assert m.largest_true_entity == 2
    assert m.largest_excess == 2
    # Two unowned records never make a true pair, even with one another.
    both_missing = pairwise_metrics([7, 7], [np.nan, np.nan])
    assert both_missing.true_pairs == 0
    assert both_missing.correct_pairs == 0
    assert both_missing.precision == 0.0
    assert both_missing.recall == 1.0


def test_missing_prediction_counts_as_singletons() -> None:
    m = pairwise_metrics([1, None, np.nan], ["A", "A", "A"])
    assert m.clusters == 3
    assert m.predicted_pairs == 0
    assert m.recall == 0.0


def test_labels_are_compared_by_position_not_index() -> None:
    predicted = pd.Series([1, 1, 2], index=[10, 11, 12])
    truth = pd.Series(["A", "A", "B"], index=[12, 11, 10])
    assert pairwise_metrics(predicted, truth).f1 == 1.0


def test_no_records() -> None:
    m = pairwise_metrics([], [])
    assert m.records == m.clusters == m.true_entities == 0
    assert (m.precision, m.recall) == (1.0, 1.0)
    assert m.largest_cluster == m.largest_excess == 0


def test_as_dict_has_every_field() -> None:
    d = pairwise_metrics([1, 1], ["a", "a"]).as_dict()
    assert set(d) == set(PairwiseMetrics.__dataclass_fields__)
    assert d["f1"] == 1.0


@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_brute_force_pairs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    predicted: list[object] = [f"c{v}" for v in rng.integers(0, 12, size=n)]
    truth: list[object] = [int(v) for v in rng.integers(0, 15, size=n)]
    for i in rng.choice(n, size=6, replace=False):
        truth[i] = None
    for i in rng.choice(n, size=4, replace=False):
        predicted[i] = None
    p, t, c = brute_force(predicted, truth)
    m = pairwise_metrics(pd.Series(predicted, dtype=object), pd.Series(truth, dtype=object))
    assert (m.predicted_pairs, m.true_pairs, m.correct_pairs) == (p, t, c)
    assert m.precision == pytest.approx(c / p, abs=1e-6)
    assert m.recall == pytest.approx(c / t, abs=1e-6)
    # Largest excess, directly: per cluster, its size minus its biggest true entity.
    frame = pd.DataFrame({"p": predicted, "t": truth}).dropna(subset=["p"])
    excess = 0
    for _, g in frame.groupby("p"):
        owned = g["t"].dropna().value_counts()
        excess = max(excess, len(g) - (int(owned.max()) if len(owned) else 1))
    assert m.largest_excess == excess


def id_map(ids: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(key, gid) for gid, keys in ids.items() for key in keys]
    return pd.DataFrame(rows, columns=["record_key", "golden_id"])


def test_id_churn_tells_necessary_from_unnecessary_changes() -> None:
    before = id_map({"G1": ["a", "b"], "G2": ["c"], "G3": ["d", "e"], "G4": ["f"]})
    after = id_map(
        {
            "G1": ["a", "b", "f"],  # f merged in: necessary; a, b keep their ID
            "X": ["c", "n1"],  # c alone among existing records, new ID: unnecessary
            "G3": ["d"],
            "G5": ["e"],  # e split off: necessary
            "G6": ["n2"],
        }
    )
    churn = id_churn(before, after)
    assert churn.as_dict() == {
        "existing_records": 6,
        "changed": 3,
        "necessary": 2,
        "unnecessary": 1,
    }


def test_id_churn_of_an_identical_map_is_zero() -> None:
    ids = id_map({"G1": ["a", "b"], "G2": ["c"]})
    assert id_churn(ids, ids.sample(frac=1, random_state=0)).as_dict() == {
        "existing_records": 3,
        "changed": 0,
        "necessary": 0,
        "unnecessary": 0,
    }


def test_min_record_key_ids_churn_and_golden_ids_do_not() -> None:
    # A new record with a smaller key joins a cluster: an ID taken from the smallest key
    # changes for records whose cluster did not; the golden ID does not.
    before = pd.DataFrame({"record_key": ["k5", "k7", "k9"], "component": ["k5", "k5", "k9"]})
    after = pd.DataFrame(
        {"record_key": ["k1", "k5", "k7", "k9"], "component": ["k1", "k1", "k1", "k9"]}
    )
    by_min = id_churn(
        before.rename(columns={"component": "golden_id"}),
        after.rename(columns={"component": "golden_id"}),
    )
    assert (by_min.changed, by_min.necessary, by_min.unnecessary) == (2, 0, 2)

    seen = pd.Timestamp("2024-01-01")
    first = assign_golden_ids(before.assign(first_seen=seen))
    second = assign_golden_ids(
        after.assign(first_seen=seen), first.records[["record_key", "golden_id", "assignments"]]
    )
    churn = id_churn(first.records, second.records)
    assert (churn.existing_records, churn.changed, churn.unnecessary) == (3, 0, 0)
