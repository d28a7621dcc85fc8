"""E-shop database specifics: types survive, whole-second cursors miss nothing."""

from __future__ import annotations

import sqlite3

from pipelines import factory

from .conftest import Sandbox
from .support import last_row_counts, query


def test_types_are_kept_and_timestamps_are_utc(sandbox: Sandbox) -> None:
    factory.run("shop")

    types = dict(
        query(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'raw_shop' and table_name = 'orders'"
        )
    )
    assert types["total"] == "DECIMAL(12,2)"
    assert types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["phone_e164"] == "VARCHAR"
    assert types["phone_is_valid"] == "BOOLEAN"
    # The shop stores UTC wall-clock text; it must land as the same instant.
    with sqlite3.connect(sandbox.world / "shop" / "shop.sqlite") as con:
        shop_first = con.execute("select updated_at from orders order by id limit 1").fetchone()
    raw_first = query(
        "select strftime(updated_at at time zone 'UTC', '%Y-%m-%d %H:%M:%S')"
        " from raw_shop.orders order by id limit 1"
    )
    assert raw_first == [shop_first]


def test_a_row_written_in_the_same_second_as_the_cursor_is_not_skipped(
    sandbox: Sandbox,
) -> None:
    factory.run("shop")
    database = sandbox.world / "shop" / "shop.sqlite"
    with sqlite3.connect(database) as con:
        (last,) = con.execute("select max(updated_at) from orders").fetchone()
        (next_id,) = con.execute("select max(id) + 1 from orders").fetchone()
        # The shop commits another order within the second the last run stopped at.
        con.execute(
            "insert into orders (id, order_number, status, currency, total, created_at,"
            " updated_at) values (?, 'LATE-1', 'pending', 'CZK', 10.00, ?, ?)",
            (next_id, last, last),
        )

    factory.run("shop")

    assert query("select order_number from raw_shop.orders where id = ?", [next_id]) == [
        ("LATE-1",)
    ]
    assert last_row_counts("shop").get("orders", 0) >= 1
