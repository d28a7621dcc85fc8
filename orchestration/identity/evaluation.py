"""Cluster quality against a truth column: pairwise precision, recall and F1.

A pair of records is *predicted* when both are in one cluster and *true* when both belong to
one real entity. Counting through cluster sizes (Σ n·(n−1)/2) rather than enumerating pairs
keeps this O(records) even for clusters of thousands.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PairwiseMetrics:
    """Pairwise cluster metrics plus the shape of the clustering."""

    records: int
    true_entities: int
    clusters: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    f1: float
    largest_cluster: int
    largest_true_entity: int
    # Records a cluster holds beyond its biggest true entity, worst cluster: chaining shows here.
    largest_excess: int

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict (for JSON reports and rich tables)."""
        return asdict(self)


def _pairs(sizes: np.ndarray) -> int:
    s = sizes.astype(np.int64)
    return int((s * (s - 1) // 2).sum())


def pairwise_metrics(
    predicted: pd.Series | np.ndarray, truth: pd.Series | np.ndarray
) -> PairwiseMetrics:
    """Compare cluster labels with truth labels of the same records.

    Args:
        predicted: Cluster label per record (any hashable; missing = its own singleton).
        truth: True entity per record (missing = its own singleton: a record nobody owns).

    Returns:
        The metrics; precision (recall) is 1.0 when nothing is predicted (true) to match.
    """
    frame = pd.DataFrame({"p": pd.Series(predicted).to_numpy(), "t": pd.Series(truth).to_numpy()})
    n = len(frame)
    idx = pd.Series(np.arange(n)).map(lambda i: f"\x00singleton{i}")
    frame["p"] = frame["p"].astype(object).where(frame["p"].notna(), idx)
    frame["t"] = frame["t"].astype(object).where(frame["t"].notna(), idx)
    p_sizes = frame.groupby("p", sort=False).size()
    t_sizes = frame.groupby("t", sort=False).size()
    cells = frame.groupby(["p", "t"], sort=False).size()
    predicted_pairs, true_pairs = _pairs(p_sizes.to_numpy()), _pairs(t_sizes.to_numpy())
    correct = _pairs(cells.to_numpy())
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    biggest_cell = cells.groupby(level=0).max()
    excess = (p_sizes - biggest_cell.reindex(p_sizes.index)).max() if n else 0
    return PairwiseMetrics(
        records=n,
        true_entities=int(t_sizes.shape[0]),
        clusters=int(p_sizes.shape[0]),
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct,
        precision=round(precision, 6),
        recall=round(recall, 6),
        f1=round(f1, 6),
        largest_cluster=int(p_sizes.max()) if n else 0,
        largest_true_entity=int(t_sizes.max()) if n else 0,
        largest_excess=int(excess),
    )


@dataclass(frozen=True)
class IdChurn:
    """How many existing records changed golden ID between two runs, and whether they had to.

    A change is *necessary* when the record's cluster truly changed: it merged with another
    cluster of existing records or split. Any other change (the same existing records, perhaps
    joined by new ones, under a new ID) is *unnecessary* — what min-record-id schemes produce.
    """

    existing_records: int
    changed: int
    necessary: int
    unnecessary: int

    def as_dict(self) -> dict[str, int]:
        """Plain dict (for JSON reports)."""
        return asdict(self)


def id_churn(before: pd.DataFrame, after: pd.DataFrame) -> IdChurn:
    """Compare two ``record_key, golden_id`` maps (records only in ``after`` are new).

    Clusters are compared on existing records only: a record's cluster is unchanged when the
    existing records sharing its ID after are exactly those sharing its ID before.
    """
    both = before[["record_key", "golden_id"]].merge(
        after[["record_key", "golden_id"]], on="record_key", suffixes=("_before", "_after")
    )
    # Signature of a cluster = its sorted existing members; equal signatures = same cluster.
    sig_before = both.groupby("golden_id_before")["record_key"].transform(
        lambda keys: hash(tuple(sorted(keys)))
    )
    sig_after = both.groupby("golden_id_after")["record_key"].transform(
        lambda keys: hash(tuple(sorted(keys)))
    )
    changed = both["golden_id_before"] != both["golden_id_after"]
    same_cluster = sig_before == sig_after
    return IdChurn(
        existing_records=int(both.shape[0]),
        changed=int(changed.sum()),
        necessary=int((changed & ~same_cluster).sum()),
        unnecessary=int((changed & same_cluster).sum()),
    )
