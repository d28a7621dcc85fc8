"""The world as the emulator serves it: lazily loaded, cached per world version.

A :class:`WorldStore` stats ``world.json`` on every request (one ``os.stat``); when its
mtime or size changed it re-reads the manifest, and when ``version`` changed it swaps in a
fresh :class:`Snapshot`. Requests in flight keep the snapshot they started with, so a reload
never mixes two versions in one response.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sandbox.emulator.paging import SortedView, to_us

log = logging.getLogger(__name__)
T = TypeVar("T")

# table -> timestamp column that must be <= as_of for a row to exist yet
_CUTOFF = {
    "crm/contacts": "createdate",
    "crm/companies": "createdate",
    "crm/deals": "createdate",
    "crm/owners": "createdAt",
    "crm/campaigns": "createdAt",
    "esp/profiles": "created",
    "esp/lists": "created",
    "esp/list_members": "joined_at",
    "esp/campaigns": "created_at",
    "esp/flows": "created",
    "esp/metrics": "created",
    "esp/events": "datetime",
    "helpdesk/users": "created_at",
    "helpdesk/tickets": "created_at",
    "helpdesk/satisfaction_ratings": "created_at",
    "helpdesk/nps_responses": "created_at",
}


class Snapshot:
    """One world version: manifest plus memoised tables and views."""

    def __init__(self, world_dir: Path, manifest: dict[str, Any]) -> None:
        self.world_dir = world_dir
        self.manifest = manifest
        self.version = int(manifest.get("version", 0))
        self.as_of_us = to_us(manifest["as_of"]) if manifest.get("as_of") else None
        self._cache: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def cached(self, name: str, build: Callable[[], T]) -> T:
        """Build ``name`` once per snapshot (concurrent callers wait for the first build)."""
        try:
            return self._cache[name]  # type: ignore[no-any-return]
        except KeyError:
            pass
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._cache:
                self._cache[name] = build()
            return self._cache[name]  # type: ignore[no-any-return]

    def table(self, name: str) -> pa.Table:
        """Rows of ``<system>/<table>`` that exist at ``as_of`` (empty if the file is absent)."""
        return self.cached(f"table:{name}", lambda: self._load(name))

    def view(
        self,
        name: str,
        key: str,
        tie: str | None = "id",
        where: Callable[[pa.Table], pa.Table] | None = None,
        tag: str = "",
    ) -> SortedView:
        """A :class:`SortedView` of a table, memoised by ``(name, key, tie, tag)``.

        ``where`` pre-filters rows (e.g. archived vs active); ``tag`` names that filter.
        """
        if tie == key:
            tie = None  # one cache entry whether callers pass the unique key as tie or not

        def build() -> SortedView:
            t = self.table(name)
            if where is not None and t.num_rows:
                t = where(t)
            return SortedView(t, key, tie)

        return self.cached(f"view:{name}:{key}:{tie}:{tag}", build)

    def _load(self, name: str) -> pa.Table:
        path = self.world_dir / f"{name}.parquet"
        if not path.exists():
            log.warning("world file missing: %s (serving it empty)", path)
            return pa.table({})
        table = pq.read_table(path)
        # Normalise every timestamp to µs UTC so formatting and comparisons are uniform.
        cols = []
        for f in table.schema:
            col = table.column(f.name)
            if pa.types.is_timestamp(f.type) and (f.type.unit != "us" or f.type.tz is None):
                col = pc.cast(col, pa.timestamp("us", tz="UTC"))
            cols.append(col)
        table = pa.table(cols, names=table.column_names)
        cut = _CUTOFF.get(name)
        if self.as_of_us is not None and cut in table.column_names and table.num_rows:
            ts = pc.cast(pc.cast(table.column(cut), pa.timestamp("us", tz="UTC")), pa.int64())
            keep = pc.or_kleene(pc.less_equal(ts, self.as_of_us), pc.is_null(ts))
            if not pc.all(keep).as_py():
                table = table.filter(keep)
        return table.combine_chunks()


class WorldStore:
    """Hands out the current :class:`Snapshot`, reloading when ``world.json`` changes.

    Args:
        world_dir: the world directory.
        on_new_snapshot: called (in the requesting thread) with each snapshot after a reload,
            e.g. to start warming its views in the background.
    """

    def __init__(
        self, world_dir: Path, on_new_snapshot: Callable[[Snapshot], None] | None = None
    ) -> None:
        self.world_dir = Path(world_dir)
        self._manifest_path = self.world_dir / "world.json"
        self._lock = threading.Lock()
        self._stat: tuple[float, int] | None = None
        self._snapshot: Snapshot | None = None
        self._on_new = on_new_snapshot
        self.reloads = 0
        self.current()

    def current(self) -> Snapshot:
        """The snapshot for the world as it is on disk now."""
        try:
            st = os.stat(self._manifest_path)
            sig: tuple[float, int] | None = (st.st_mtime, st.st_size)
        except FileNotFoundError:
            sig = None
        snap = self._snapshot
        if snap is not None and sig == self._stat:
            return snap
        fresh: Snapshot | None = None
        with self._lock:
            if self._snapshot is not None and sig == self._stat:
                return self._snapshot
            manifest = self._read_manifest()
            if manifest is None:
                # world.json is being rewritten: keep serving the old snapshot, look again later.
                assert self._snapshot is not None
                return self._snapshot
            if self._snapshot is None or manifest != self._snapshot.manifest:
                if self._snapshot is not None:
                    self.reloads += 1
                    log.info("world version %s -> reloading", manifest.get("version"))
                self._snapshot = fresh = Snapshot(self.world_dir, manifest)
            self._stat = sig
            current = self._snapshot
        if fresh is not None and self._on_new is not None:
            self._on_new(fresh)
        return current

    def _read_manifest(self) -> dict[str, Any] | None:
        try:
            return json.loads(self._manifest_path.read_text())  # type: ignore[no-any-return]
        except FileNotFoundError:
            if self._snapshot is None:
                log.warning("no world.json in %s; serving an empty world", self.world_dir)
            return {"version": 0}
        except json.JSONDecodeError:
            if self._snapshot is not None:
                return None
            raise
