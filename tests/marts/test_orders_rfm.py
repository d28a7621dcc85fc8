"""Customer order marts and RFM against the shop and the world's truth.

The summary's totals must reconcile with the shop's own database (orders and refunds,
converted at the seeded rates), purchase counts with the generator's count per person
wherever the golden record is exactly one person, and the RFM scores must not depend on the
physical row order of the input: the test shuffles the orders on a copy of the warehouse,
rebuilds the marts there and expects the identical result.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from tests.marts.conftest import BuiltWarehouse

# The seeded rates into the reporting currency (CZK); constant over the world's history.
RATES = {"CZK": 1.0, "EUR": 25.0, "PLN": 5.8}

RF_SEGMENTS = {
    "champions",
    "loyal_customers",
    "potential_loyalists",
    "new_customers",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose",
    "hibernating",
}

# Relations rebuilt on the shuffled copy, with the key that orders their rows.
REBUILT = {
    "marts.customer_orders": "shop_order_id",
    "marts.customer_summary": "golden_id",
    "marts.customer_rfm": "golden_id",
    "marts.customer_cohorts": "customer_cohort_id",
}


def _shop_orders(world_dir: Path) -> list[tuple[str, str, str, float, float]]:
    """(order id, status, currency, total, refunded) for every order in the shop database."""
    con = sqlite3.connect(world_dir / "shop" / "shop.sqlite")
    try:
        return con.execute(
            """
            select
                cast(o.id as text), o.status, o.currency, o.total,
                coalesce(r.refunded, 0)
            from orders as o
            left join (
                select order_id, sum(amount) as refunded from refunds group by order_id
            ) as r on r.order_id = o.id
            """
        ).fetchall()
    finally:
        con.close()


def test_summary_totals_reconcile_with_the_shop(marts_warehouse: BuiltWarehouse) -> None:
    orders = _shop_orders(marts_warehouse.world_dir)
    purchases = [o for o in orders if o[1] != "cancelled"]
    spent = sum(total * RATES[currency] for _, _, currency, total, _ in purchases)
    refunded = sum(refund * RATES[currency] for _, _, currency, _, refund in purchases)
    assert refunded > 0
    [(n_purchases, n_cancelled, n_refunded, total_spent, total_refunded, total_net)] = (
        marts_warehouse.rows(
            """
            select
                sum(lifetime_count_orders),
                sum(lifetime_count_cancelled_orders),
                sum(lifetime_count_refunded_orders),
                sum(lifetime_total_spent),
                sum(lifetime_total_refunded),
                sum(lifetime_total_net)
            from marts.customer_summary
            """
        )
    )
    assert n_purchases == len(purchases)
    assert n_cancelled == len(orders) - len(purchases)
    assert n_refunded == sum(1 for o in purchases if o[4] > 0)
    assert float(total_spent) == pytest.approx(spent, abs=0.01)
    assert float(total_refunded) == pytest.approx(refunded, abs=0.01)
    assert float(total_net) == pytest.approx(spent - refunded, abs=0.01)


def test_every_golden_customer_has_one_summary_row(marts_warehouse: BuiltWarehouse) -> None:
    [(customers, summaries, buyers, buyers_in_orders)] = marts_warehouse.rows(
        """
        select
            (select count(*) from marts.customers),
            (select count(distinct golden_id) from marts.customer_summary),
            (select count(*) from marts.customer_summary where lifetime_count_orders > 0),
            (select count(distinct golden_id) from marts.customer_orders where not is_cancelled)
        """
    )
    assert summaries == customers
    assert buyers == buyers_in_orders > 0


def test_purchase_counts_match_the_truth(marts_warehouse: BuiltWarehouse) -> None:
    """Where a golden customer's orders are exactly one person's orders, its purchase count is
    that person's true number of purchases (the generator's process excludes cancellations)."""
    truth = marts_warehouse.world_dir / "truth"
    with duckdb.connect() as con:
        owner = dict(
            con.execute(
                f"""
                select record_id, person_id
                from read_parquet('{truth / "records.parquet"}')
                where system = 'shop' and "table" = 'orders'
                """
            ).fetchall()
        )
        true_purchases = dict(
            con.execute(
                f"select person_id, n_purchases from read_parquet('{truth / 'people.parquet'}')"
            ).fetchall()
        )
    order_goldens = marts_warehouse.rows(
        "select shop_order_id, golden_id from marts.customer_orders"
    )
    assert {order_id for order_id, _ in order_goldens} <= owner.keys()
    people_of: dict[str, set[int]] = defaultdict(set)
    goldens_of: dict[int, set[str]] = defaultdict(set)
    for order_id, golden_id in order_goldens:
        people_of[golden_id].add(owner[order_id])
        goldens_of[owner[order_id]].add(golden_id)
    exact = {
        golden_id: next(iter(people))
        for golden_id, people in people_of.items()
        if len(people) == 1 and len(goldens_of[next(iter(people))]) == 1
    }
    # Identity resolution merges or splits few buyers; the comparison must cover nearly all.
    assert len(exact) >= 0.95 * len(people_of)
    counts = dict(
        marts_warehouse.rows("select golden_id, lifetime_count_orders from marts.customer_summary")
    )
    wrong = {
        golden_id: (counts[golden_id], true_purchases[person_id])
        for golden_id, person_id in exact.items()
        if counts[golden_id] != true_purchases[person_id]
    }
    assert wrong == {}
    assert sum(counts.values()) == sum(true_purchases.values())


def test_every_buyer_has_exactly_one_segment(marts_warehouse: BuiltWarehouse) -> None:
    [(buyers,)] = marts_warehouse.rows(
        "select count(*) from marts.customer_summary where lifetime_count_orders > 0"
    )
    [(rows, customers, segmented)] = marts_warehouse.rows(
        "select count(*), count(distinct golden_id), count(rfm_segment) from marts.customer_rfm"
    )
    assert rows == customers == segmented == buyers
    sizes = dict(
        marts_warehouse.rows("select rfm_segment, count(*) from marts.customer_rfm group by 1")
    )
    assert set(sizes) <= RF_SEGMENTS | {"lost"}
    # A marketing-usable distribution: most segments populated, none holding half the buyers.
    assert len(sizes) >= 8
    assert max(sizes.values()) < 0.5 * buyers
    # The segment is the seeded map's, except `lost`, which only overrides cell 11.
    [(off_map, bad_lost)] = marts_warehouse.rows(
        """
        select
            count(*) filter (where rfm.rf_segment <> map.segment),
            count(*) filter (
                where rfm.rfm_segment = 'lost'
                and not (
                    rfm.r_score = 1
                    and rfm.f_score = 1
                    and rfm.days_since_last_order > settings.setting_value
                )
            )
        from marts.customer_rfm as rfm
        inner join seeds.rfm_segments as map using (r_score, f_score)
        inner join seeds.rfm_settings as settings on settings.setting_name = 'lost_after_days'
        """
    )
    assert (off_map, bad_lost) == (0, 0)


@pytest.mark.parametrize(
    ("value", "score", "better"),
    [
        ("days_since_last_order", "r_score", "<"),
        ("order_count", "f_score", ">"),
        ("total_spend", "m_score", ">"),
    ],
)
def test_scores_are_monotone_and_equal_on_ties(
    marts_warehouse: BuiltWarehouse, value: str, score: str, better: str
) -> None:
    [(tied_apart, inverted)] = marts_warehouse.rows(
        f"""
        with values_scores as (
            select distinct {value} as v, {score} as s from marts.customer_rfm
        )
        select
            (select count(*) from (
                select v from values_scores group by v having count(*) > 1
            ) as t),
            (select count(*) from values_scores as a
             inner join values_scores as b on a.v {better} b.v and a.s < b.s)
        """
    )
    assert (tied_apart, inverted) == (0, 0)


def test_rfm_does_not_depend_on_input_row_order(
    marts_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    """Shuffle the shared orders table physically (multi-threaded), rebuild the order marts and
    RFM on that copy: every row must come out identical."""
    copy = BuiltWarehouse(marts_warehouse.world_dir, tmp_path / "shuffled.duckdb", tmp_path)
    shutil.copyfile(marts_warehouse.path, copy.path)
    scan = "select shop_order_id from intermediate.int_marketing__orders"
    with duckdb.connect(str(copy.path)) as con:
        con.execute("set threads = 4")
        before = con.execute(scan).fetchall()
        con.execute(
            """
            create or replace table intermediate.int_marketing__orders as
            select * from intermediate.int_marketing__orders order by random()
            """
        )
        after = con.execute(scan).fetchall()
    assert sorted(after) == sorted(before)
    assert after != before
    copy.dbt("run", "--select", " ".join(name.split(".")[1] for name in REBUILT))
    for relation, key in REBUILT.items():
        query = f"select * from {relation} order by {key}"
        assert copy.rows(query) == marts_warehouse.rows(query), relation
