"""HubSpot specifics: the 10,000-result search cap, archiving, associations."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pipelines import factory
from pipelines._common.http import RetryPolicy, make_client
from pipelines.crm.helpers import iter_search
from sandbox.world import advance

from .conftest import Sandbox
from .support import as_of, query


def _world_rows(sandbox: Sandbox, sql: str) -> set[tuple[object, ...]]:
    with duckdb.connect() as con:
        return set(con.execute(sql.format(world=sandbox.world)).fetchall())


def test_search_requeries_from_the_last_modified_date_at_the_cap(sandbox: Sandbox) -> None:
    # A cap of 45 with pages of 20 forces a new query every 40 results; each re-query
    # starts at the last modification time seen and must neither skip nor repeat records.
    client = make_client(
        f"{sandbox.emulator.url}/hubspot",
        retry=RetryPolicy(),
        headers={"Authorization": "Bearer pat-sandbox-crm"},
    )
    pages = list(
        iter_search(
            client,
            "contacts",
            modified_property="lastmodifieddate",
            since_ms=0,
            properties=["lastmodifieddate"],
            page_size=20,
            result_cap=45,
        )
    )
    ids = [r["id"] for page in pages for r in page]
    live = _world_rows(
        sandbox,
        "select cast(id as varchar) from '{world}/crm/contacts.parquet' where not archived",
    )
    assert len(ids) == len(set(ids)), "a re-query repeated records"
    assert {(i,) for i in ids} == live
    searches = sandbox.emulator.stats()["requests"]["hubspot.search"]
    assert searches > len(live) / 20, "paging past the cap should take extra queries"


def test_increments_through_search_survive_the_cap(sandbox: Sandbox) -> None:
    factory.run("crm")
    before = as_of(sandbox.world)
    advance(sandbox.world, 30)
    changed = _world_rows(
        sandbox,
        "select id from '{world}/crm/contacts.parquet'"
        f" where not archived and lastmodifieddate > timestamptz '{before.isoformat()}'",
    )
    assert len(changed) > 12, "too few changes to run into the (lowered) cap"

    factory.run("crm", search_page_size=5, search_result_cap=12)

    for table in ("contacts", "companies", "deals"):
        world = _world_rows(sandbox, f"select id, archived from '{{world}}/crm/{table}.parquet'")
        raw = set(query(f"select id, archived from raw_crm.{table}"))
        assert raw == world, table


def test_archiving_flags_the_row_already_loaded(sandbox: Sandbox) -> None:
    factory.run("crm")
    live_before = {r[0] for r in query("select id from raw_crm.contacts where not archived")}

    advance(sandbox.world, 30)
    factory.run("crm")

    archived_now = _world_rows(
        sandbox, "select id from '{world}/crm/contacts.parquet' where archived"
    )
    newly_archived = {r[0] for r in archived_now} & live_before
    assert newly_archived, "the advance should archive some contacts loaded before"
    rows = query(
        "select id, archived, archived_at from raw_crm.contacts where id in"
        f" ({', '.join(map(str, newly_archived))})"
    )
    assert len(rows) == len(newly_archived)
    assert all(archived and archived_at is not None for _, archived, archived_at in rows)


@pytest.mark.parametrize("days", [0, 30])
def test_associations_are_exactly_the_current_ones(days: int, sandbox: Sandbox) -> None:
    factory.run("crm")
    if days:
        advance(sandbox.world, days)
        factory.run("crm")

    world = _world_rows(
        sandbox,
        "select from_type, from_id, to_type, to_id from '{world}/crm/associations.parquet'",
    )
    raw = set(query("select from_type, from_id, to_type, to_id from raw_crm.associations"))
    assert raw == world


def test_properties_are_typed_and_phones_normalised(sandbox: Sandbox) -> None:
    factory.run("crm")

    types = dict(
        query(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'raw_crm' and table_name = 'contacts'"
        )
    )
    assert types["id"] == "BIGINT"
    assert types["lastmodifieddate"] == "TIMESTAMP WITH TIME ZONE"
    assert types["archived"] == "BOOLEAN"
    assert {"phone_e164", "phone_is_valid", "mobilephone_e164", "mobilephone_is_valid"} <= set(
        types
    )
    valid = query(
        "select count(*) filter (where phone_e164 like '+%'),"
        " count(*) filter (where phone is not null) from raw_crm.contacts"
    )[0]
    # Typed phones are mostly readable; the few junk values ("000000000") are not.
    assert valid[0] >= 0.8 * valid[1]


def test_associations_removed_in_hubspot_are_removed(sandbox: Sandbox) -> None:
    factory.run("crm")
    # A contact leaves its company and all its campaigns (the world's own `advance` only
    # adds associations): its next change must take its old rows away.
    crm = sandbox.world / "crm"
    associations = pq.read_table(crm / "associations.parquet")
    contacts = pq.read_table(crm / "contacts.parquet")
    live = set(contacts.filter(pc.invert(contacts.column("archived"))).column("id").to_pylist())
    from_ids = associations.filter(pc.equal(associations.column("from_type"), "contacts"))
    leaver = next(i for i in from_ids.column("from_id").to_pylist() if int(i) in live)
    gone = pc.and_(
        pc.equal(associations.column("from_type"), "contacts"),
        pc.equal(associations.column("from_id"), leaver),
    )
    assert query(
        "select count(*) from raw_crm.associations where from_type = 'contacts' and from_id = ?",
        [leaver],
    )[0][0]
    pq.write_table(associations.filter(pc.invert(gone)), crm / "associations.parquet")
    touched = pc.equal(contacts.column("id"), int(leaver))
    modified = pc.if_else(
        touched,
        pa.scalar(as_of(sandbox.world), contacts.schema.field("lastmodifieddate").type),
        contacts.column("lastmodifieddate"),
    )
    contacts = contacts.set_column(
        contacts.schema.get_field_index("lastmodifieddate"), "lastmodifieddate", modified
    )
    pq.write_table(contacts, crm / "contacts.parquet")
    manifest = json.loads((sandbox.world / "world.json").read_text())
    manifest["version"] += 1
    (sandbox.world / "world.json").write_text(json.dumps(manifest))

    factory.run("crm")

    world = _world_rows(
        sandbox,
        "select from_type, from_id, to_type, to_id from '{world}/crm/associations.parquet'",
    )
    raw = set(query("select from_type, from_id, to_type, to_id from raw_crm.associations"))
    assert raw == world
    assert not any(r[0] == "contacts" and r[1] == leaver for r in raw)
