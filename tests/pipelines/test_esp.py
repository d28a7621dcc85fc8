"""Klaviyo specifics: late events, consent from subscriptions, JSON:API flattening."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines import factory
from sandbox.world import advance

from .conftest import Sandbox
from .support import query


def _attach(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"attach '{factory.warehouse_path()}' as wh (read_only)")


def _deliver_late_events(world: Path, before: datetime, count: int = 25) -> set[str]:
    """Append events dated up to two days before ``before``, as Klaviyo delivers late ones.

    The world's own ``advance`` does this too, but in a small world it rarely picks an event
    older than the pipeline's cursor; this makes the case certain. The version bump makes
    the emulator reload.
    """
    path = world / "esp" / "events.parquet"
    events = pq.read_table(path)
    late = events.slice(0, count).to_pylist()
    for i, event in enumerate(late):
        event["id"] = f"LATE{i:022d}"
        event["uuid"] = f"00000000-0000-4000-8000-{i:012d}"
        event["datetime"] = before - timedelta(hours=1 + i)
    pq.write_table(pa.concat_tables([events, pa.Table.from_pylist(late, events.schema)]), path)
    manifest_path = world / "world.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["version"] += 1
    manifest_path.write_text(json.dumps(manifest))
    return {e["id"] for e in late}


@pytest.mark.parametrize("lag_days", [0, 3])
def test_late_events_are_caught_by_the_lag_window(lag_days: int, sandbox: Sandbox) -> None:
    factory.run("esp", events_lag_days=lag_days)
    cursor = query("select max(datetime) from raw_esp.events")[0][0]
    assert isinstance(cursor, datetime)
    late = _deliver_late_events(sandbox.world, cursor)

    factory.run("esp", events_lag_days=lag_days)

    loaded = {r[0] for r in query("select id from raw_esp.events where id like 'LATE%'")}
    # Without a lag the cursor has moved past them; the default 3 days catches them all.
    assert loaded == (set() if lag_days == 0 else late)


def test_consent_and_relationships_are_flattened(sandbox: Sandbox) -> None:
    factory.run("esp")
    advance(sandbox.world, 30)  # unsubscribes change consent on existing profiles
    factory.run("esp")

    with duckdb.connect() as con:
        _attach(con)
        consent_mismatch = con.execute(
            f"""
            select count(*) from '{sandbox.world}/esp/profiles.parquet' w
            join wh.raw_esp.profiles r using (id)
            where w.email_consent is distinct from r.email_consent
               or w.sms_consent is distinct from r.sms_consent
               or w.country is distinct from r.country
            """
        ).fetchone()
        relation_mismatch = con.execute(
            f"""
            select count(*) from '{sandbox.world}/esp/events.parquet' w
            join wh.raw_esp.events r using (id)
            where w.profile_id is distinct from r.profile_id
               or w.metric_id is distinct from r.metric_id
               or w.campaign_id is distinct from r.campaign_id
               or w.bounce_type is distinct from r.bounce_type
            """
        ).fetchone()
    assert consent_mismatch == (0,)
    assert relation_mismatch == (0,)
    unsubscribed = query(
        "select count(*) from raw_esp.profiles where email_consent = 'UNSUBSCRIBED'"
    )[0][0]
    assert isinstance(unsubscribed, int)
    assert unsubscribed > 0
