"""Row counts read from the world's files: what a correct full ingestion must land."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pyarrow.parquet as pq

from sandbox.world.core import WorldError

PARQUET_TABLES = {
    "crm": ("contacts", "companies", "deals", "owners", "campaigns", "associations"),
    "esp": ("profiles", "lists", "list_members", "campaigns", "flows", "metrics", "events"),
    "helpdesk": ("users", "tickets", "satisfaction_ratings", "nps_responses"),
}
SHOP_TABLES = (
    "customers",
    "addresses",
    "categories",
    "products",
    "orders",
    "order_lines",
    "refunds",
    "carts",
)


def table_counts(world: Path) -> dict[str, int]:
    """Rows per parquet/SQLite table (archived and deleted rows included)."""
    counts: dict[str, int] = {}
    for system, tables in PARQUET_TABLES.items():
        for t in tables:
            counts[f"{system}.{t}"] = int(
                pq.ParquetFile(world / system / f"{t}.parquet").metadata.num_rows
            )
    con = sqlite3.connect(f"file:{world / 'shop' / 'shop.sqlite'}?mode=ro", uri=True)
    try:
        for t in SHOP_TABLES:
            counts[f"shop.{t}"] = int(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
    finally:
        con.close()
    return counts


def web_counts(world: Path) -> dict[str, int]:
    """Distinct well-formed ids per web kind and the number of malformed lines.

    A line is well-formed when it parses as a JSON object carrying its id key.
    """
    out = {"web.events": 0, "web.consent": 0, "web.quarantine": 0}
    bad = 0
    for kind, key in (("events", "event_id"), ("consent", "consent_id")):
        seen: set[str] = set()
        for path in sorted((world / "web" / kind).glob("dt=*/part-*.jsonl")):
            with path.open("rb") as fh:
                for raw in fh:
                    try:
                        obj = json.loads(raw)
                    except ValueError:
                        bad += 1
                        continue
                    if not isinstance(obj, dict) or not isinstance(obj.get(key), str):
                        bad += 1
                        continue
                    seen.add(obj[key])
        out[f"web.{kind}"] = len(seen)
    out["web.quarantine"] = bad
    return out


def expected_counts(world: Path) -> dict[str, int]:
    """What a correct full ingestion of the world must land, read from the files.

    Args:
        world: World directory.

    Returns:
        ``{"crm.contacts": n, ..., "shop.orders": n, ..., "web.events": distinct event ids,
        "web.consent": distinct consent ids, "web.quarantine": malformed lines}``.

    Raises:
        WorldError: ``world`` is not a world directory.
    """
    world = Path(world)
    if not (world / "world.json").is_file():
        raise WorldError(f"{world} is not a world (no world.json)")
    counts = table_counts(world)
    counts.update(web_counts(world))
    return dict(sorted(counts.items()))
