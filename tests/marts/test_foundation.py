"""The shared marketing inputs: orders in one currency on the golden customer, the as-of clock."""

from __future__ import annotations

import sqlite3

from tests.marts.conftest import BuiltWarehouse


def test_every_shop_order_reaches_a_golden_customer(marts_warehouse: BuiltWarehouse) -> None:
    con = sqlite3.connect(marts_warehouse.world_dir / "shop" / "shop.sqlite")
    try:
        expected = con.execute("select count(*) from orders").fetchone()[0]
    finally:
        con.close()
    [(orders, attached, converted)] = marts_warehouse.rows(
        """
        select count(*), count(golden_id), count(order_value)
        from intermediate.int_marketing__orders
        """
    )
    assert orders == expected
    assert attached == orders
    assert converted == orders


def test_amounts_convert_at_the_seeded_rate_of_the_day(marts_warehouse: BuiltWarehouse) -> None:
    rows = marts_warehouse.rows(
        """
        select o.original_currency, o.order_value / s.subtotal_amount
        from intermediate.int_marketing__orders as o
        inner join staging.stg_shop__orders as s using (shop_order_id)
        where s.subtotal_amount > 0
        group by all
        """
    )
    rates = {currency: round(float(ratio), 6) for currency, ratio in rows}
    assert rates == {"CZK": 1.0, "EUR": 25.0, "PLN": 5.8}


def test_as_of_is_the_latest_activity(marts_warehouse: BuiltWarehouse) -> None:
    [(as_of, latest_order)] = marts_warehouse.rows(
        """
        select a.as_of_at, (select max(placed_at) from staging.stg_shop__orders)
        from intermediate.int_marketing__as_of as a
        """
    )
    assert as_of >= latest_order
