"""Helpers for the pipeline tests: what the world says should land, and what did land."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from pipelines import factory
from sandbox.world import expected_counts, load_manifest

# Merge keys per raw table where they are not `id`.
KEYS: dict[str, tuple[str, ...]] = {
    "crm.associations": ("from_type", "from_id", "to_type", "to_id"),
    "esp.list_members": ("list_id", "profile_id"),
    "web.events": ("event_id",),
    "web.consent": ("consent_id",),
    "web.quarantine": ("file_name", "line_number"),
}

# Rows the sandbox does not serve (sandbox/README.md, "The world's clock"): rows that only
# come into existence after `as_of` (column per table, as the emulator's store applies it),
# and rows Zendesk's incremental exports hide for one minute after they changed.
_EXISTS_FROM: dict[str, str] = {
    "crm.contacts": "createdate",
    "crm.companies": "createdate",
    "crm.deals": "createdate",
    "crm.owners": "createdAt",
    "crm.campaigns": "createdAt",
    "esp.profiles": "created",
    "esp.lists": "created",
    "esp.list_members": "joined_at",
    "esp.campaigns": "created_at",
    "esp.flows": "created",
    "esp.metrics": "created",
    "esp.events": "datetime",
    "helpdesk.users": "created_at",
    "helpdesk.tickets": "created_at",
    "helpdesk.satisfaction_ratings": "created_at",
    "helpdesk.nps_responses": "created_at",
}
_ZENDESK_EXPORTS = ("helpdesk.users", "helpdesk.tickets", "helpdesk.nps_responses")


def key_of(qualified: str) -> tuple[str, ...]:
    """Merge key of ``<role>.<table>``."""
    return KEYS.get(qualified, ("id",))


def as_of(world: Path) -> datetime:
    """The world's clock."""
    text = str(load_manifest(world)["as_of"]).replace("Z", "+00:00")
    return datetime.fromisoformat(text).astimezone(UTC)


def servable_counts(world: Path, role: str) -> dict[str, int]:
    """Rows per raw table a correct ingestion of ``role`` lands from the sandbox.

    ``sandbox.world.expected_counts`` counts every row in the world's files; the emulator
    does not serve rows that exist only after ``as_of`` or that Zendesk hides for a minute,
    so those are subtracted (counted from the same files).

    Args:
        world: World directory.
        role: Source role.

    Returns:
        ``{table: rows}``.
    """
    clock = as_of(world)
    counts = {k: v for k, v in expected_counts(world).items() if k.startswith(f"{role}.")}
    with duckdb.connect() as con:
        for qualified in counts:
            system, table = qualified.split(".")
            path = world / system / f"{table}.parquet"
            conditions: list[str] = []
            params: list[object] = []
            if qualified in _EXISTS_FROM:
                conditions.append(f'"{_EXISTS_FROM[qualified]}" > ?')
                params.append(clock)
            if qualified in _ZENDESK_EXPORTS:
                conditions.append('"updated_at" > ?')
                params.append(clock - timedelta(minutes=1))
            if not conditions:
                continue
            hidden = con.execute(
                f"select count(*) from read_parquet('{path}') where {' or '.join(conditions)}",
                params,
            ).fetchone()
            counts[qualified] -= int(hidden[0]) if hidden else 0
    return {k.split(".", 1)[1]: v for k, v in counts.items()}


def warehouse_counts(role: str) -> dict[str, int]:
    """Rows per raw table of ``role`` in the warehouse (dlt's own tables left out)."""
    dataset = f"raw_{role}"
    with duckdb.connect(str(factory.warehouse_path()), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables"
                " where table_schema = ? and table_name not like '\\_dlt%' escape '\\'",
                [dataset],
            ).fetchall()
        ]
        counts = {}
        for table in tables:
            row = con.execute(f'select count(*) from "{dataset}"."{table}"').fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


def duplicate_keys(role: str) -> dict[str, int]:
    """Per raw table, how many key values occur more than once (should all be zero)."""
    dataset = f"raw_{role}"
    out = {}
    with duckdb.connect(str(factory.warehouse_path()), read_only=True) as con:
        for table in warehouse_counts(role):
            cols = ", ".join(f'"{c}"' for c in key_of(f"{role}.{table}"))
            row = con.execute(
                f'select count(*) from (select {cols} from "{dataset}"."{table}"'
                f" group by {cols} having count(*) > 1)"
            ).fetchone()
            out[table] = int(row[0]) if row else 0
    return out


def query(sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    """Run a read-only query against the warehouse."""
    with duckdb.connect(str(factory.warehouse_path()), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def last_row_counts(role: str) -> dict[str, int]:
    """Rows per table normalised by the last run of ``role`` (dlt's state row left out)."""
    trace = factory.make_pipeline(role).last_trace
    assert trace is not None
    assert trace.last_normalize_info is not None
    counts = dict(trace.last_normalize_info.row_counts)
    counts.pop("_dlt_pipeline_state", None)
    return counts
