"""The same sources into the second warehouse: a Postgres destination lands the same rows."""

from __future__ import annotations

import dlt
import psycopg2
import pytest

from pipelines import factory
from tests.dbt.postgres import PostgresServer

from .conftest import Sandbox
from .support import servable_counts

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def postgres(pg_server: PostgresServer) -> PostgresServer:
    """The session's throw-away server with this module's database."""
    pg_server.create_database("warehouse")
    return pg_server


def _counts(dsn: str, role: str) -> dict[str, int]:
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute(
            "select table_name from information_schema.tables"
            " where table_schema = %s and table_name not like '\\_dlt%%'",
            (f"raw_{role}",),
        )
        tables = [r[0] for r in cur.fetchall()]
        counts = {}
        for table in tables:
            cur.execute(f'select count(*) from "raw_{role}"."{table}"')
            row = cur.fetchone()
            counts[table] = int(row[0]) if row else 0
    con.close()
    return counts


@pytest.mark.parametrize("role", factory.ROLES)
def test_postgres_destination_lands_the_world(
    role: str, sandbox: Sandbox, postgres: PostgresServer
) -> None:
    dsn = postgres.dsn("warehouse")
    destination = dlt.destinations.postgres(credentials=dsn)
    # one schema set per test: drop what an earlier parametrisation left
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute(f'drop schema if exists "raw_{role}" cascade')
        cur.execute(f'drop schema if exists "raw_{role}_staging" cascade')
    con.close()

    factory.run(role, destination=destination)
    factory.run(role, destination=destination)

    assert _counts(dsn, role) == servable_counts(sandbox.world, role)
