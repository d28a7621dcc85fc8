"""Sorted, immutable views over arrow tables with O(log n) keyset paging.

Every list endpoint pages a table sorted by ``(key, tie)`` (for example ``(updated_at, id)``).
A cursor is the last ``(key, tie)`` served, so paging is a binary search plus a slice: no
per-request scan, which keeps a 1M-people world (tens of millions of events) fast.
Predicates that are not a range on the sort key are evaluated vectorised on chunks of the
remaining range, and only until the page is full.
"""

from __future__ import annotations

import base64
import bisect
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Predicate = Callable[[pa.Table], pa.BooleanArray | pa.ChunkedArray]

US = 1_000_000
_SCAN_CHUNK = 65_536


# --------------------------------------------------------------------------- time helpers
def to_us(value: Any) -> int:
    """Convert an ISO-8601 string, epoch (s or ms, int/str) or datetime to epoch microseconds.

    Raises:
        ValueError: if the value cannot be read as a point in time.
    """
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(dt.timestamp() * US)
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return _epoch_to_us(float(value))
    text = str(value).strip()
    try:
        return _epoch_to_us(float(text))
    except ValueError:
        pass
    if len(text) > 6 and text[-6] == " " and text[-3] == ":":
        # "+00:00" sent unencoded in a query string arrives as " 00:00".
        text = text[:-6] + "+" + text[-5:]
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


def _epoch_to_us(v: float) -> int:
    # Heuristic used by HubSpot clients too: > 1e11 is milliseconds, else seconds.
    return int(v * 1000) if abs(v) > 1e11 else int(v * US)


def us_to_iso(us: int) -> str:
    """Format epoch microseconds as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.fromtimestamp(us // US, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ts_strings(arr: pa.Array | pa.ChunkedArray, style: str) -> list[str | None]:
    """Format a timestamp column vectorised.

    Args:
        arr: timestamp column (any unit, UTC).
        style: ``"ms"`` → ``2024-01-01T00:00:00.000Z`` (HubSpot), ``"s"`` →
            ``2024-01-01T00:00:00Z`` (Zendesk), ``"offset"`` → ``2024-01-01T00:00:00+00:00``
            (Klaviyo).
    """
    if len(arr) == 0:
        return []
    if style == "ms":
        ms = pc.cast(arr, pa.timestamp("ms", tz="UTC"), safe=False)
        out = pc.strftime(ms, format="%Y-%m-%dT%H:%M:%S", locale="C")
        return [None if s is None else s + "Z" for s in out.to_pylist()]
    secs = pc.cast(arr, pa.timestamp("s", tz="UTC"), safe=False)
    fmt = "%Y-%m-%dT%H:%M:%SZ" if style == "s" else "%Y-%m-%dT%H:%M:%S+00:00"
    return pc.strftime(secs, format=fmt, locale="C").to_pylist()


def ts_epoch_s(arr: pa.Array | pa.ChunkedArray) -> list[int | None]:
    """Epoch seconds of a timestamp column."""
    if len(arr) == 0:
        return []
    return pc.divide(
        pc.cast(pc.cast(arr, pa.timestamp("us", tz="UTC")), pa.int64()), US
    ).to_pylist()


def column(table: pa.Table, name: str) -> pa.ChunkedArray:
    """Return ``table[name]`` or an all-null column when the generator did not write it."""
    if name in table.column_names:
        return table.column(name)
    return pa.chunked_array([pa.nulls(table.num_rows)])


def pylist(table: pa.Table, name: str) -> list[Any]:
    """``column(table, name).to_pylist()``."""
    return column(table, name).to_pylist()


# ------------------------------------------------------------------------------- cursors
def encode_cursor(payload: dict[str, Any]) -> str:
    """Opaque, URL-safe cursor token."""
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> dict[str, Any]:
    """Inverse of :func:`encode_cursor`.

    Raises:
        ValueError: if the token was not produced by :func:`encode_cursor`.
    """
    try:
        pad = "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(token + pad))
    except Exception as exc:
        raise ValueError("invalid cursor") from exc
    if not isinstance(data, dict):
        raise ValueError("invalid cursor")
    return data


# ----------------------------------------------------------------------------- the view
def sort_key_array(col: pa.ChunkedArray) -> pa.Array:
    """Comparable, null-free key: timestamps → int64 µs, ints → int64, else strings."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    t = arr.type
    if pa.types.is_timestamp(t):
        arr = pc.cast(pc.cast(arr, pa.timestamp("us", tz="UTC")), pa.int64())
        return pc.fill_null(arr, np.iinfo(np.int64).min)
    if pa.types.is_date(t):
        arr = pc.cast(pc.cast(arr, pa.timestamp("us")), pa.int64())
        return pc.fill_null(arr, np.iinfo(np.int64).min)
    if pa.types.is_integer(t):
        return pc.fill_null(pc.cast(arr, pa.int64()), np.iinfo(np.int64).min)
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return pc.fill_null(pc.cast(arr, pa.float64()), -np.inf)
    if pa.types.is_boolean(t):
        return pc.fill_null(pc.cast(arr, pa.int64()), -1)
    return pc.fill_null(pc.cast(arr, pa.string()), "")


@dataclass
class Page:
    """One page of a view: the rows (in serving order) and whether more remain."""

    rows: pa.Table
    has_more: bool
    total: int | None = None

    def last_key(self, view: SortedView) -> tuple[Any, Any] | None:
        """``(key, tie)`` of the last row served, for the next cursor."""
        if self.rows.num_rows == 0:
            return None
        i = self.rows.num_rows - 1
        key = self.rows.column("__k")[i].as_py()
        tie = self.rows.column(view.tie)[i].as_py() if view.tie else None
        return key, tie


class SortedView:
    """A table sorted ascending by ``(key, tie)`` with binary-search cursors.

    Args:
        table: source rows (any order).
        key: column to sort by.
        tie: unique column breaking ties (``None`` when ``key`` is unique itself).
    """

    def __init__(self, table: pa.Table, key: str, tie: str | None = "id") -> None:
        if tie == key:
            tie = None
        self.key = key
        self.tie = tie
        if table.num_rows == 0 or key not in table.column_names:
            keys = (
                pa.array([], pa.int64())
                if table.num_rows == 0
                else sort_key_array(pa.chunked_array([pa.nulls(table.num_rows, pa.int64())]))
            )
        else:
            keys = sort_key_array(table.column(key))
        table = table.append_column("__k", keys) if "__k" not in table.column_names else table
        if table.num_rows and not self._is_sorted(table):
            order = [("__k", "ascending")] + ([(tie, "ascending")] if tie else [])
            table = table.take(pc.sort_indices(table, sort_keys=order))
        self.table = table.combine_chunks()
        kcol = self.table.column("__k").combine_chunks()
        self._numeric = pa.types.is_integer(kcol.type) or pa.types.is_floating(kcol.type)
        self._keys_np: np.ndarray | None = (
            kcol.to_numpy(zero_copy_only=False) if self._numeric else None
        )
        self._keys_pa = kcol
        self.num_rows = self.table.num_rows

    def _is_sorted(self, table: pa.Table) -> bool:
        k = table.column("__k").combine_chunks()
        if len(k) < 2:
            return True
        a, b = k.slice(0, len(k) - 1), k.slice(1)
        if not pc.all(pc.less_equal(a, b)).as_py():
            return False
        if self.tie is None:
            return True
        eq = pc.equal(a, b)
        if not pc.any(eq).as_py():
            return True
        t = table.column(self.tie).combine_chunks()
        ta, tb = t.slice(0, len(t) - 1), t.slice(1)
        bad = pc.and_(eq, pc.invert(pc.less(ta, tb)))
        return not pc.any(bad).as_py()

    # -- binary search --------------------------------------------------------------
    def bound(self, key: Any, side: str) -> int:
        """First index whose key is ``>= key`` (``side='left'``) or ``> key`` (``'right'``)."""
        if self._keys_np is not None:
            return int(np.searchsorted(self._keys_np, key, side=side))  # type: ignore[call-overload]
        arr = self._keys_pa
        fn = bisect.bisect_left if side == "left" else bisect.bisect_right
        return fn(arr, key, key=lambda s: s.as_py())  # type: ignore[arg-type]

    def position_after(self, key: Any, tie: Any) -> int:
        """Index of the first row strictly after ``(key, tie)``.

        With a unique key (no tie column) that is the first row ``> key``; with a tie column
        and ``tie=None`` it is the first row ``>= key`` (a start bound, not a cursor).
        """
        if self.tie is None:
            return self.bound(key, "right")
        lo = self.bound(key, "left")
        if tie is None:
            return lo
        hi = self.bound(key, "right")
        if hi <= lo:
            return lo
        # Equal-key runs are short (µs timestamps), so a Python bisect over the run is cheap.
        ties = self.table.column(self.tie).slice(lo, hi - lo).to_pylist()
        return lo + bisect.bisect_right(ties, tie)

    def position_before(self, key: Any, tie: Any) -> int:
        """Index one past the last row strictly before ``(key, tie)``."""
        lo = self.bound(key, "left")
        if self.tie is None or tie is None:
            return lo
        hi = self.bound(key, "right")
        if hi <= lo:
            return lo
        ties = self.table.column(self.tie).slice(lo, hi - lo).to_pylist()
        return lo + bisect.bisect_left(ties, tie)

    def range(
        self,
        lo: Any = None,
        lo_incl: bool = True,
        hi: Any = None,
        hi_incl: bool = True,
    ) -> tuple[int, int]:
        """Index range of rows with ``lo <(=) key <(=) hi``."""
        start = 0 if lo is None else self.bound(lo, "left" if lo_incl else "right")
        end = self.num_rows if hi is None else self.bound(hi, "right" if hi_incl else "left")
        return start, max(start, end)

    # -- paging ---------------------------------------------------------------------
    def page(
        self,
        start: int,
        end: int,
        limit: int,
        *,
        descending: bool = False,
        predicate: Predicate | None = None,
        count_total: bool = False,
    ) -> Page:
        """Up to ``limit`` rows of ``[start, end)`` matching ``predicate``, in sort order.

        Args:
            start: first candidate index.
            end: one past the last candidate index.
            limit: page size.
            descending: serve from ``end`` backwards.
            predicate: extra vectorised row filter.
            count_total: also count every matching row in ``[start, end)`` (search totals).
        """
        end = max(start, end)
        if predicate is None:
            total = end - start if count_total else None
            if not descending:
                stop = min(end, start + limit)
                return Page(self.table.slice(start, stop - start), stop < end, total)
            first = max(start, end - limit)
            rows = self.table.slice(first, end - first)
            return Page(_reverse(rows), first > start, total)
        if count_total:
            mask = predicate(self.table.slice(start, end - start))
            idx = pc.indices_nonzero(mask).to_numpy() + start
            total = len(idx)
            chosen = idx[::-1][:limit] if descending else idx[:limit]
            return Page(self.table.take(pa.array(chosen, pa.int64())), total > limit, total)
        picked: list[np.ndarray] = []
        n = 0
        chunk = max(_SCAN_CHUNK, limit * 8)
        pos = end if descending else start
        while n <= limit and (pos > start if descending else pos < end):
            if descending:
                lo = max(start, pos - chunk)
                hits = pc.indices_nonzero(predicate(self.table.slice(lo, pos - lo))).to_numpy()
                picked.append(hits[::-1] + lo)
                pos = lo
            else:
                hi = min(end, pos + chunk)
                hits = pc.indices_nonzero(predicate(self.table.slice(pos, hi - pos))).to_numpy()
                picked.append(hits + pos)
                pos = hi
            n += len(picked[-1])
        idx = np.concatenate(picked) if picked else np.array([], dtype=np.int64)
        has_more = len(idx) > limit
        return Page(self.table.take(pa.array(idx[:limit], pa.int64())), has_more)

    def lookup_last(self, keys: list[Any]) -> dict[Any, dict[str, Any]]:
        """For each key, the last row (highest tie) with that sort key, as a dict.

        Vectorised for numeric keys: one ``searchsorted`` for the whole page of keys.
        """
        wanted = [k for k in dict.fromkeys(keys) if k is not None]
        if not wanted or self.num_rows == 0:
            return {}
        if self._keys_np is None:
            out = {}
            for k in wanted:
                s, e = self.range(k, True, k, True)
                if e > s:
                    out[k] = self.table.slice(e - 1, 1).to_pylist()[0]
            return out
        ks = np.asarray(wanted, dtype=self._keys_np.dtype)
        pos = np.searchsorted(self._keys_np, ks, side="right") - 1
        ok = (pos >= 0) & (self._keys_np[np.maximum(pos, 0)] == ks)
        rows = self.table.take(pa.array(pos[ok], pa.int64())).to_pylist()
        return dict(zip(ks[ok].tolist(), rows, strict=True))

    def lookup(self, keys: list[Any]) -> pa.Table:
        """Rows whose sort key equals one of ``keys`` (the view must be sorted by a unique key)."""
        idx = []
        for k in keys:
            i = self.bound(k, "left")
            if i < self.num_rows and self._keys_pa[i].as_py() == k:
                idx.append(i)
        return self.table.take(pa.array(idx, pa.int64()))


def _reverse(table: pa.Table) -> pa.Table:
    n = table.num_rows
    return table.take(pa.array(np.arange(n - 1, -1, -1, dtype=np.int64))) if n > 1 else table
