"""Matching on hand-made records (``identity.blocklist``, ``.edges``, ``.clustering``,
``.resolve``): junk and shared values link nobody, households stay apart, one typo links,
edges keep no PII, and a whole resolution gives the expected clusters."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from orchestration.identity.blocklist import blocked_values
from orchestration.identity.clustering import cluster_records
from orchestration.identity.edges import EDGE_COLUMNS, deterministic_edges
from orchestration.identity.frames import RECORD_COLUMNS
from orchestration.identity.resolve import Resolution, resolve
from orchestration.identity.settings import Settings, load_settings

SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "identity_blocklist.csv"
PRIORITY = {
    "shop_customer": 1,
    "login": 2,
    "loyalty": 3,
    "order": 4,
    "email": 5,
    "device": 6,
    "phone": 7,
}


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings()


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(":memory:")
    connection.execute(
        f"create table blocklist as select * from read_csv('{SEED}', header = true, all_varchar = true)"
    )
    yield connection
    connection.close()


def rec(key: str, first: str | None, **fields: Any) -> dict[str, Any]:
    """One record; ``ids`` = extra ``(identifier_type, value)`` pairs beyond email and phone."""
    row: dict[str, Any] = dict.fromkeys(RECORD_COLUMNS)
    row.update(
        record_key=key,
        source_system="crm",
        first_name_key=first,
        last_name_key="novak",
        country_code="CZ",
        created_at=pd.Timestamp("2024-01-01") + pd.Timedelta(hours=len(key) + sum(map(ord, key))),
        ids=(),
    )
    for name, value in fields.items():
        column = {
            "last": "last_name_key",
            "birth": "birth_date",
            "email": "email_canonical",
            "phone": "phone_e164",
            "street": "street_key",
            "postal": "postal_code_key",
            "city": "city_key",
        }.get(name, name)
        row[column] = value
    return row


def load(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """``records`` and ``identifiers`` tables from :func:`rec` rows."""
    frame = pd.DataFrame([{c: r[c] for c in RECORD_COLUMNS} for r in rows])
    ids = []
    for r in rows:
        if r["email_canonical"] is not None:
            ids.append((r["record_key"], "email", r["email_canonical"]))
        if r["phone_e164"] is not None:
            ids.append((r["record_key"], "phone", r["phone_e164"]))
        ids.extend((r["record_key"], t, v) for t, v in r["ids"])
    id_frame = pd.DataFrame(ids, columns=["record_key", "identifier_type", "identifier_value"])
    id_frame["identifier_priority"] = id_frame["identifier_type"].map(PRIORITY)
    con.register("records_df", frame)
    con.register("identifiers_df", id_frame)
    text = ", ".join(
        f"cast({c} as varchar) as {c}"
        for c in RECORD_COLUMNS
        if c not in {"birth_date", "created_at", "updated_at"}
    )
    con.execute(
        f"""
        create or replace table records as
        select {text},
            cast(birth_date as date) as birth_date,
            cast(created_at as timestamp) as created_at,
            cast(updated_at as timestamp) as updated_at
        from records_df
        """
    )
    con.execute(
        """
        create or replace table identifiers as
        select cast(record_key as varchar) as record_key,
            cast(identifier_type as varchar) as identifier_type,
            cast(identifier_value as varchar) as identifier_value,
            cast(identifier_priority as integer) as identifier_priority
        from identifiers_df
        """
    )
    con.unregister("records_df")
    con.unregister("identifiers_df")


def run_blocklist(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> dict[tuple[str, str], dict]:
    rel = blocked_values(con, "identifiers", "records", "blocklist", settings)
    con.execute(f"create or replace table blocked as {rel.sql_query()}")
    frame = con.sql("select * from blocked").df()
    return {(r["identifier_type"], r["identifier_value"]): r for r in frame.to_dict("records")}


def run_edges(con: duckdb.DuckDBPyConnection, settings: Settings) -> pd.DataFrame:
    run_blocklist(con, settings)
    rel = deterministic_edges(con, "identifiers", "records", "blocked")
    con.execute(f"create or replace table det_edges as {rel.sql_query()}")
    return con.sql("select * from det_edges order by all").df()


def pairs(edges: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(edges["record_key_left"], edges["record_key_right"], strict=True))


def clusters_of(result: Resolution) -> set[frozenset[str]]:
    recs = result.assignment.records
    return {frozenset(g["record_key"]) for _, g in recs.groupby("golden_id")}


def deterministic_resolution(con: duckdb.DuckDBPyConnection, settings: Settings) -> Resolution:
    return resolve(con, "records", "identifiers", "blocklist", settings, probabilistic=False)


# --- blocklist ------------------------------------------------------------------------------


def junk_records() -> list[dict[str, Any]]:
    # Pairs share a first name (and birth date): without the blocklist they would be linked.
    return [
        rec("j01", "anna", birth="1980-01-01", email="test@test.com"),
        rec("j02", "anna", birth="1980-01-01", email="test@test.com"),
        rec("j03", "boris", email="test@test.com"),
        rec("j04", "cyril", email="TEST@test.com"),
        rec("j05", "dana", email="test@tset.com"),
        rec("j06", "dana", email="test@tset.com"),
        rec("j07", "emil", email="info@ifno.cz"),  # one typo off the exact entry info@info.cz
        rec("j08", "emil", email="info@ifno.cz"),
        rec("j09", "filip", phone="+420111111111"),
        rec("j10", "filip", phone="+420111111111"),
        rec("j11", "gita", phone="+420111111111"),
        rec("j12", "hana", phone="+420123456789"),
        rec("j13", "hana", phone="+420123456789"),
        rec("j14", "ivo", ids=[("shop_customer", "0")]),
        rec("j15", "ivo", ids=[("shop_customer", "0")]),
        rec("j16", "jakub", ids=[("login", "guest")]),
        rec("j17", "jakub", ids=[("login", "guest")]),
    ]


def test_junk_values_are_blocked_with_their_rule(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    load(con, junk_records())
    blocked = run_blocklist(con, settings)
    assert blocked[("email", "test@test.com")]["block_rule"] == "blocklist"
    assert blocked[("email", "test@test.com")]["records_affected"] == 3
    assert blocked[("email", "test@test.com")]["distinct_names"] == 2
    assert blocked[("email", "TEST@test.com")]["block_rule"] == "blocklist"
    # The typo of test@test.com is caught (by the local-part pattern, the first rule to fire).
    assert blocked[("email", "test@tset.com")]["block_rule"].startswith("blocklist")
    assert blocked[("email", "info@ifno.cz")]["block_rule"] == "blocklist_variant"
    assert "info@info.cz" in blocked[("email", "info@ifno.cz")]["block_reason"]
    assert blocked[("phone", "+420111111111")]["block_rule"] == "blocklist_pattern"
    assert "repeated digit" in blocked[("phone", "+420111111111")]["block_reason"]
    assert blocked[("phone", "+420123456789")]["block_rule"] == "blocklist_pattern"
    assert blocked[("shop_customer", "0")]["block_rule"] == "blocklist_pattern"
    assert blocked[("login", "guest")]["block_rule"] == "blocklist"
    assert set(blocked) == {
        ("email", "test@test.com"),
        ("email", "TEST@test.com"),
        ("email", "test@tset.com"),
        ("email", "info@ifno.cz"),
        ("phone", "+420111111111"),
        ("phone", "+420123456789"),
        ("shop_customer", "0"),
        ("login", "guest"),
    }
    for row in blocked.values():
        assert row["block_reason"]


def test_junk_values_never_link(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    rows = junk_records()
    load(con, rows)
    assert run_edges(con, settings).empty
    result = deterministic_resolution(con, settings)
    assert clusters_of(result) == {frozenset({r["record_key"]}) for r in rows}
    assert result.edges.num_rows == 0


def test_real_values_are_not_blocked(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    load(
        con,
        [
            rec("r1", "tereza", email="tereza.novakova@seznam.cz", phone="+420602123457"),
            rec("r2", "tereza", email="tereza.novakova@seznam.cz", phone="+420602123457"),
            rec("r3", "ondrej", email="ondrej@firma.cz", phone="+420777123456"),
        ],
    )
    assert run_blocklist(con, settings) == {}
    assert pairs(run_edges(con, settings)) == {("r1", "r2")}


def test_value_naming_too_many_people_is_shared(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    assert settings.max_names_per_value["email"] == 3
    assert settings.max_names_per_value["shop_customer"] == 1
    load(
        con,
        [
            # Four people on one family mailbox: over the email cap of 3.
            rec("f1", "anna", email="novakovi@seznam.cz"),
            rec("f2", "anna", email="novakovi@seznam.cz"),
            rec("f3", "boris", email="novakovi@seznam.cz"),
            rec("f4", "cyril", email="novakovi@seznam.cz"),
            rec("f5", "dana", email="novakovi@seznam.cz"),
            # Three people (marek and his typo are one): at the cap, not over it.
            rec("g1", "marek", email="rodina@seznam.cz"),
            rec("g2", "maerk", email="rodina@seznam.cz"),
            rec("g3", "olga", email="rodina@seznam.cz"),
            rec("g4", "pavel", email="rodina@seznam.cz"),
            # A shop account is one person's.
            rec("s1", "eva", ids=[("shop_customer", "S1")]),
            rec("s2", "olga", ids=[("shop_customer", "S1")]),
            rec("s3", "eva", ids=[("shop_customer", "S2")]),
            rec("s4", "eva", ids=[("shop_customer", "S2")]),
        ],
    )
    blocked = run_blocklist(con, settings)
    family = blocked[("email", "novakovi@seznam.cz")]
    assert family["block_rule"] == "shared_value"
    assert family["distinct_names"] == 4
    assert family["records_affected"] == 5
    assert "cap 3" in family["block_reason"]
    assert ("email", "rodina@seznam.cz") not in blocked
    assert blocked[("shop_customer", "S1")]["block_rule"] == "shared_value"
    assert ("shop_customer", "S2") not in blocked

    linked = pairs(run_edges(con, settings))
    # Even the two annas: a shared value is no evidence for anyone.
    assert ("f1", "f2") not in linked
    assert ("g1", "g2") in linked  # one typo apart, on a value at the cap
    assert ("s3", "s4") in linked
    assert not {p for p in linked if "s1" in p or "s2" in p}
    assert linked == {("g1", "g2"), ("s3", "s4")}


def test_value_on_too_many_records_is_blocked(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    cap = settings.max_records_per_value["order"]
    load(con, [rec(f"o{i:02d}", "jan", ids=[("order", "ORD-1")]) for i in range(cap + 1)])
    row = run_blocklist(con, settings)[("order", "ORD-1")]
    assert row["block_rule"] == "too_many_records"
    assert row["records_affected"] == cap + 1
    assert row["distinct_names"] == 1
    assert run_edges(con, settings).empty


def test_personal_address_near_a_blocklist_entry_is_not_blocked(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    """Typos of junk are junk; real mailboxes two edits from a junk entry are not.

    emil@gmail.com is two edits from email@email.com, nela@email.cz and nemec@email.cz two
    from nemam@email.cz (email.cz is a major Czech provider).
    """
    load(
        con,
        [
            rec("e1", "emil", email="emil@gmail.com"),
            rec("e2", "emil", email="emil@gmail.com"),
            rec("e3", "nela", email="nela@email.cz"),
            rec("e4", "nela", email="nela@email.cz"),
            rec("e5", "josef", last="nemec", email="nemec@email.cz"),
            rec("e6", "josef", last="nemec", email="nemec@email.cz"),
        ],
    )
    blocked = run_blocklist(con, settings)
    assert sorted(blocked) == []
    assert pairs(run_edges(con, settings)) == {("e1", "e2"), ("e3", "e4"), ("e5", "e6")}


# --- deterministic edges --------------------------------------------------------------------


def test_household_phone_links_nobody_across_names(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    load(
        con,
        [
            rec("h1", "jan", birth="1980-01-01", phone="+420601000001"),
            rec("h2", "jana", birth="1982-02-02", phone="+420601000001"),
            rec("h3", "jan", birth="1980-01-01", phone="+420601000001"),
            rec("h4", "jan", birth="2010-05-05", phone="+420601000001"),  # the son: other birth
            rec("h5", "petr", phone="+420601000002"),
            rec("h6", "petra", phone="+420601000002"),
            rec("h7", "ivan", phone="+420601000003"),
            rec("h8", "ivana", phone="+420601000003"),
        ],
    )
    blocked = run_blocklist(con, settings)
    assert ("phone", "+420601000001") not in blocked  # two names: under the phone cap
    assert pairs(run_edges(con, settings)) == {("h1", "h3")}


def test_one_typo_first_name_links(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    load(
        con,
        [
            rec("t1", "marek", birth="1985-03-03", email="marek.n@seznam.cz"),
            rec("t2", "maerk", birth="1985-03-03", email="marek.n@seznam.cz"),
            rec("t3", "katerina", email="kata@seznam.cz"),
            rec("t4", "katerna", email="kata@seznam.cz"),
            # Short names: one edit is another name.
            rec("t5", "jan", email="jn@seznam.cz"),
            rec("t6", "jen", email="jn@seznam.cz"),
            # Two typos apart.
            rec("t7", "marek", email="m.k@seznam.cz"),
            rec("t8", "maker", email="m.k@seznam.cz"),
        ],
    )
    assert pairs(run_edges(con, settings)) == {("t1", "t2"), ("t3", "t4")}


def test_edges_store_a_hash_never_the_value(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    email, phone = "lucie.dvorakova@seznam.cz", "+420603111222"
    load(
        con,
        [
            rec("d1", "lucie", email=email, phone=phone, ids=[("loyalty", "LOY-77")]),
            rec("d2", "lucie", email=email, phone=phone),
            rec("d3", "lucie", ids=[("loyalty", "LOY-77")]),
        ],
    )
    edges = run_edges(con, settings)
    assert list(edges.columns) == list(EDGE_COLUMNS)
    by_type = {
        (r["record_key_left"], r["record_key_right"], r["identifier_type"]): r
        for r in edges.to_dict("records")
    }
    assert set(by_type) == {("d1", "d2", "email"), ("d1", "d2", "phone"), ("d1", "d3", "loyalty")}
    for (_, _, kind), row in by_type.items():
        value = {"email": email, "phone": phone, "loyalty": "LOY-77"}[kind]
        assert row["evidence_sha256"] == hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()
        assert row["edge_kind"] == "deterministic"
        assert row["rule"] == f"shared_{kind}"
        assert row["strength"] == PRIORITY[kind]
        assert row["match_probability"] == 1.0
        assert pd.isna(row["match_weight"])
        for cell in row.values():
            assert value not in str(cell)


def test_unnamed_record_on_a_contested_value_stays_apart(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    load(
        con,
        [
            # A household phone (jan and jana) and a device record that only knows the phone.
            rec("n1", "jan", phone="+420604000001"),
            rec("n2", "jana", phone="+420604000001"),
            rec("n3", None, last=None, phone="+420604000001"),
            # The same with a phone only karel uses: the unnamed record is his.
            rec("n4", "karel", phone="+420604000002"),
            rec("n5", None, last=None, phone="+420604000002"),
            # A typo'd name does not make a value contested.
            rec("n6", "zdenek", email="zd@seznam.cz"),
            rec("n7", "zdnek", email="zd@seznam.cz"),
            rec("n8", None, last=None, email="zd@seznam.cz"),
        ],
    )
    assert pairs(run_edges(con, settings)) == {
        ("n4", "n5"),
        ("n6", "n7"),
        ("n6", "n8"),
        ("n7", "n8"),
    }


def test_unnamed_device_does_not_chain_a_household(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    """A shared family device: jan signs in on it, jana buys from it.

    Each value alone is uncontested (one name each), so the device links to both, and the
    cluster then holds two incompatible first names — the household the edge rules keep
    apart value by value. No birth dates, so the birth-date cannot-link does not help.
    """
    load(
        con,
        [
            rec("shop:jan", "jan", ids=[("login", "L-jan")]),
            rec("shop:jana", "jana", ids=[("order", "O-1")]),
            rec("web:dev", None, last=None, ids=[("login", "L-jan"), ("order", "O-1")]),
        ],
    )
    result = deterministic_resolution(con, settings)
    together = [c for c in clusters_of(result) if {"shop:jan", "shop:jana"} <= c]
    assert not together, f"jan and jana resolved to one person: {sorted(together[0])}"


def test_cluster_size_guard_drops_probabilistic_edges(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    load(con, [rec(k, "vera") for k in ("a", "b", "c", "d", "e", "f")])
    run_blocklist(con, settings)
    con.execute(
        """
        create table guard_edges as select * from (values
            ('a', 'b', 'deterministic', 5, 1.0),
            ('b', 'c', 'deterministic', 5, 1.0),
            ('c', 'd', 'probabilistic', 100, 0.9995),
            ('d', 'e', 'deterministic', 7, 1.0)
        ) as t(record_key_left, record_key_right, edge_kind, strength, match_probability)
        """
    )
    small = dataclasses.replace(settings, max_cluster_size=3)
    result = cluster_records(con, "records", "identifiers", "blocked", "guard_edges", small)
    labels = dict(
        zip(
            result.labels.column("record_key").to_pylist(),
            result.labels.column("component").to_pylist(),
            strict=True,
        )
    )
    assert labels == {"a": "a", "b": "a", "c": "a", "d": "d", "e": "d", "f": "f"}
    assert result.oversized_clusters == 1
    assert con.sql("select count(*) from guard_edges").fetchall()[0][0] == 4
    # Under the cap nothing is dropped.
    kept = cluster_records(con, "records", "identifiers", "blocked", "guard_edges", settings)
    assert kept.oversized_clusters == 0
    assert set(kept.labels.column("component").to_pylist()) == {"a", "f"}


# --- clustering and a whole run -------------------------------------------------------------


def world() -> list[dict[str, Any]]:
    return [
        # One person across three systems, linked by email and phone in a chain.
        rec("crm:1", "tomas", birth="1979-04-04", email="tomas.k@seznam.cz"),
        rec("shop:1", "tomas", email="tomas.k@seznam.cz", phone="+420605000001"),
        rec("esp:1", "tmoas", phone="+420605000001"),
        # The household: his wife shares the phone, and her own mailbox links her records.
        rec("crm:2", "jana", birth="1981-08-08", phone="+420605000001", email="jana.k@seznam.cz"),
        rec("shop:2", "jana", email="jana.k@seznam.cz"),
        # A device that only knows the household phone: contested, stays alone.
        rec("web:1", None, last=None, phone="+420605000001"),
        # Junk shared by strangers.
        rec("crm:3", "alena", email="test@test.com"),
        rec("shop:3", "alena", email="test@test.com"),
        # Loyalty cards are exclusive: a chain joining two cards is split at its weakest edge.
        rec("crm:4", "pavel", email="pavel.s@seznam.cz", ids=[("loyalty", "L-1")]),
        rec("shop:4", "pavel", email="pavel.s@seznam.cz", phone="+420605000004"),
        rec("esp:4", "pavel", phone="+420605000004", ids=[("loyalty", "L-2")]),
        # Birth dates are exclusive too (the middle record has none).
        rec("crm:5", "lenka", birth="1990-01-01", email="lenka@seznam.cz"),
        rec("shop:5", "lenka", email="lenka@seznam.cz", phone="+420605000005"),
        rec("esp:5", "lenka", birth="1991-01-01", phone="+420605000005"),
        # Nothing shared.
        rec("crm:6", "rudolf", email="rudolf@seznam.cz"),
    ]


EXPECTED = {
    frozenset({"crm:1", "shop:1", "esp:1"}),
    frozenset({"crm:2", "shop:2"}),
    frozenset({"web:1"}),
    frozenset({"crm:3"}),
    frozenset({"shop:3"}),
    frozenset({"crm:4", "shop:4"}),
    frozenset({"esp:4"}),
    frozenset({"crm:5", "shop:5"}),
    frozenset({"esp:5"}),
    frozenset({"crm:6"}),
}


def test_cluster_records_applies_cannot_link(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    load(con, world())
    edges = run_edges(con, settings)
    before = len(edges)
    result = cluster_records(con, "records", "identifiers", "blocked", "det_edges", settings)
    labels = dict(
        zip(
            result.labels.column("record_key").to_pylist(),
            result.labels.column("component").to_pylist(),
            strict=True,
        )
    )
    groups: dict[str, set[str]] = {}
    for key, comp in labels.items():
        groups.setdefault(comp, set()).add(key)
    assert {frozenset(g) for g in groups.values()} == EXPECTED
    # Labels are the smallest key of each cluster.
    assert all(comp == min(members) for comp, members in groups.items())
    assert result.conflicted_clusters == 2
    assert "cannot_link" in result.method
    refused = set(
        zip(
            result.refused_edges.column("record_key_left").to_pylist(),
            result.refused_edges.column("record_key_right").to_pylist(),
            strict=True,
        )
    )
    # The phone edges (priority 7) are weaker than the email edges (5).
    assert refused == {("esp:4", "shop:4"), ("esp:5", "shop:5")}
    assert result.oversized_clusters == 0
    # The edge relation handed in is not modified.
    assert con.sql("select count(*) from det_edges").fetchall()[0][0] == before


def test_resolve_deterministic_end_to_end(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    load(con, world())
    tables_before = set(con.execute("select table_name from duckdb_tables()").fetchall())
    result = deterministic_resolution(con, settings)

    assert clusters_of(result) == EXPECTED
    assert result.scored_pairs.num_rows == 0
    assert result.possible_matches.num_rows == 0
    assert set(result.assignment.records["change_reason"]) == {"new_record"}
    assert result.assignment.records["record_key"].tolist() == sorted(
        r["record_key"] for r in world()
    )
    assert {row["identifier_value"] for row in result.blocked.to_pylist()} == {"test@test.com"}
    assert set(result.edges.column("edge_kind").to_pylist()) == {"deterministic"}
    assert {
        "blocklist",
        "deterministic_edges",
        "splink_scoring",
        "probabilistic_edges",
        "clustering",
        "golden_ids",
        "possible_matches",
    } <= set(result.timings)
    assert set(con.execute("select table_name from duckdb_tables()").fetchall()) == tables_before

    # A second run over the same records with the first map as prior changes no ID.
    prior = result.assignment.records[["record_key", "golden_id", "assignments"]]
    again = resolve(
        con, "records", "identifiers", "blocklist", settings, prior=prior, probabilistic=False
    )
    assert again.assignment.records["golden_id"].tolist() == prior["golden_id"].tolist()
    assert set(again.assignment.records["change_reason"]) == {"unchanged"}
    assert again.assignment.redirects.empty

    # The union-find method gives the same clusters.
    uf = resolve(
        con,
        "records",
        "identifiers",
        "blocklist",
        settings,
        probabilistic=False,
        components_method="union_find",
    )
    assert clusters_of(uf) == EXPECTED


def test_resolve_rejects_incomplete_inputs(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    load(con, world())
    con.execute("create table thin as select record_key, first_name_key from records")
    with pytest.raises(ValueError, match="lacks column"):
        resolve(con, "thin", "identifiers", "blocklist", settings, probabilistic=False)


def test_resolve_with_the_packaged_splink_model(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> None:
    addr = {"street": "dlouha 12", "postal": "11000", "city": "praha"}
    load(
        con,
        [
            # The same person with two mailboxes and no shared identifier: only Splink sees it.
            rec(
                "crm:1",
                "marek",
                last="svoboda",
                birth="1984-07-07",
                email="marek.svoboda@seznam.cz",
                **addr,
            ),
            rec(
                "shop:1",
                "marek",
                last="svoboda",
                birth="1984-07-07",
                email="msvoboda@gmail.com",
                **addr,
            ),
            # His wife at the same address and phone: a different first name, never an edge.
            rec(
                "crm:2",
                "marketa",
                last="svobodova",
                birth="1986-02-02",
                phone="+420606000001",
                **addr,
            ),
            rec(
                "shop:2", "marek", last="svoboda", birth="1984-07-07", phone="+420606000002", **addr
            ),
            # A namesake elsewhere, no birth date: the name alone corroborates nothing.
            rec(
                "esp:3",
                "marek",
                last="svoboda",
                email="marek.svoboda@post.cz",
                postal="60200",
                street="kounicova 3",
                city="brno",
            ),
        ],
    )
    result = resolve(con, "records", "identifiers", "blocklist", settings)
    prob = [e for e in result.edges.to_pylist() if e["edge_kind"] == "probabilistic"]
    assert prob, "Splink proposed no edge for the same person"
    for edge in prob:
        assert edge["match_probability"] >= settings.match_probability
        assert edge["evidence_sha256"] is None
        assert edge["rule"] == f"splink_person_v{settings.version}"
    clusters = clusters_of(result)
    assert frozenset({"crm:1", "shop:1", "shop:2"}) in clusters
    assert frozenset({"crm:2"}) in clusters
    assert frozenset({"esp:3"}) in clusters
    # Whatever Splink scored between clusters is in the review queue.
    for row in result.possible_matches.to_pylist():
        assert row["component_left"] != row["component_right"]
        assert row["match_probability"] >= settings.review_probability
