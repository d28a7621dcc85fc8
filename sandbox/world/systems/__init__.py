"""Per-system builders: each turns true people into source records with noise."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa


@dataclass
class Rows:
    """Column arrays of one table (internal types: epoch-µs int64 with 0 = null, object strings)."""

    cols: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        if not self.cols:
            return 0
        return int(next(iter(self.cols.values())).shape[0])

    def __getitem__(self, key: str) -> np.ndarray:
        return self.cols[key]

    def __setitem__(self, key: str, value: np.ndarray) -> None:
        self.cols[key] = value

    def take(self, idx: np.ndarray) -> Rows:
        """Rows at ``idx`` (e.g. a sort order)."""
        return Rows({k: v[idx] for k, v in self.cols.items()})


@dataclass
class Records:
    """Truth mapping collected from builders: source record → cohort person index."""

    system: list[str] = field(default_factory=list)
    table: list[str] = field(default_factory=list)
    ids: list[np.ndarray] = field(default_factory=list)  # object arrays of record ids (str)
    person_idx: list[np.ndarray] = field(default_factory=list)

    def add(self, system: str, table: str, ids: np.ndarray, person_idx: np.ndarray) -> None:
        """Register records; integer ids stay int64 until written (as strings)."""
        self.system.append(system)
        self.table.append(table)
        self.ids.append(
            np.asarray(ids) if np.asarray(ids).dtype != object else np.asarray(ids, dtype=object)
        )
        self.person_idx.append(np.asarray(person_idx, dtype=np.int64))

    def id_array(self, i: int) -> pa.Array:
        """Record ids of batch ``i`` as an arrow string array."""
        ids = self.ids[i]
        if ids.dtype == object:
            return pa.array(ids, pa.string())
        return pa.array(ids.astype(np.int64)).cast(pa.string())


class Ids:
    """Allocator of consecutive integer ids per table (continues from the existing maximum)."""

    def __init__(self, start: dict[str, int] | None = None) -> None:
        self.next: dict[str, int] = dict(start or {})

    def take(self, table: str, n: int) -> np.ndarray:
        """Allocate ``n`` new ids for ``table``."""
        first = self.next.get(table, 1)
        self.next[table] = first + n
        return np.arange(first, first + n, dtype=np.int64)
