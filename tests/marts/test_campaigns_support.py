"""Campaign closed loop and support signals, checked against the world's own exports.

The world's parquet files are what the vendors hold; the marts are built from what the
pipelines loaded. Email counts, won revenue and open tickets must agree with them, and
attribution must respect its window and credit every order at most once.
"""

from __future__ import annotations

from decimal import Decimal

from tests.marts.conftest import BuiltWarehouse

OPEN_STATUSES = "('new', 'open', 'pending', 'hold')"


def _parquet(marts_warehouse: BuiltWarehouse, system: str, table: str) -> str:
    return f"read_parquet('{marts_warehouse.world_dir / system / f'{table}.parquet'}')"


def test_email_campaign_counts_match_the_esp_export(marts_warehouse: BuiltWarehouse) -> None:
    events = _parquet(marts_warehouse, "esp", "events")
    metrics = _parquet(marts_warehouse, "esp", "metrics")
    campaigns = _parquet(marts_warehouse, "esp", "campaigns")
    expected = {
        row[0]: row[1:]
        for row in marts_warehouse.rows(
            f"""
            select
                c.id,
                count(case when m.name = 'Sent Email' then 1 end),
                count(case when m.name = 'Received Email' then 1 end),
                count(case when m.name = 'Bounced Email' then 1 end),
                count(case when m.name = 'Bounced Email' and e.bounce_type = 'hard' then 1 end),
                count(case when m.name = 'Bounced Email' and e.bounce_type = 'soft' then 1 end),
                count(case when m.name = 'Opened Email' then 1 end),
                count(distinct case when m.name = 'Opened Email' then e.profile_id end),
                count(case when m.name = 'Clicked Email' then 1 end),
                count(distinct case when m.name = 'Clicked Email' then e.profile_id end),
                count(case when m.name = 'Marked Email as Spam' then 1 end)
            from {campaigns} as c
            left join {events} as e on e.campaign_id = c.id
            left join {metrics} as m on e.metric_id = m.id
            group by 1
            """
        )
    }
    actual = {
        row[0]: row[1:]
        for row in marts_warehouse.rows(
            """
            select
                esp_campaign_id, total_sends, total_deliveries, total_bounces,
                total_hard_bounces, total_soft_bounces, total_opens, total_unique_opens,
                total_clicks, total_unique_clicks, total_spam_reports
            from marts.email_campaigns
            """
        )
    }
    assert actual == expected
    assert sum(counts[0] for counts in actual.values()) > 0
    assert sum(counts[7] for counts in actual.values()) > 0

    [(bad_rates,)] = marts_warehouse.rows(
        """
        select count(*) from marts.email_campaigns
        where
            open_rate <> round(cast(total_unique_opens as double) / total_deliveries, 4)
            or click_to_open_rate
            <> round(cast(total_unique_clicks as double) / total_unique_opens, 4)
        """
    )
    assert bad_rates == 0


def test_every_order_is_credited_once_to_its_last_touch(marts_warehouse: BuiltWarehouse) -> None:
    [(orders, distinct_orders, outside_window)] = marts_warehouse.rows(
        """
        select
            count(*),
            count(distinct shop_order_id),
            count(case when hours_after_touch < 0 or hours_after_touch > lookback_hours then 1 end)
        from marts.email_attributed_conversions
        where conversion_type = 'order'
        """
    )
    assert orders > 0
    assert distinct_orders == orders
    assert outside_window == 0

    [(credited,)] = marts_warehouse.rows(
        """
        select
            (select sum(attributed_order_count) from marts.email_campaigns)
            + (select sum(attributed_order_count) from marts.email_flows)
        """
    )
    assert credited == orders

    # No later open or click of the same person falls between the credited touch and the order.
    [(overtaken,)] = marts_warehouse.rows(
        """
        with touches as (
            select k.golden_id, e.event_at
            from staging.stg_esp__events as e
            inner join staging.stg_esp__metrics as m using (esp_metric_id)
            inner join intermediate.int_marketing__customer_keys as k
                on k.source_system = 'esp' and k.source_record_id = e.esp_profile_id
            where
                m.metric_name in ('Opened Email', 'Clicked Email')
                and (e.esp_campaign_id is not null or e.esp_flow_id is not null)
        )
        select count(*)
        from marts.email_attributed_conversions as a
        where exists (
            select 1 from touches as t
            where
                t.golden_id = a.golden_id
                and t.event_at > a.touched_at
                and t.event_at <= a.converted_at
        )
        """
    )
    assert overtaken == 0


def test_attributed_revenue_stays_within_the_orders_in_the_window(
    marts_warehouse: BuiltWarehouse,
) -> None:
    rows = marts_warehouse.rows(
        """
        with touches as (
            select distinct e.esp_campaign_id, k.golden_id, e.event_at
            from staging.stg_esp__events as e
            inner join staging.stg_esp__metrics as m using (esp_metric_id)
            inner join intermediate.int_marketing__customer_keys as k
                on k.source_system = 'esp' and k.source_record_id = e.esp_profile_id
            where
                m.metric_name in ('Opened Email', 'Clicked Email')
                and e.esp_campaign_id is not null
        ),
        window_orders as (
            select distinct t.esp_campaign_id, o.shop_order_id, o.total_value
            from touches as t
            inner join intermediate.int_marketing__orders as o
                on
                    o.golden_id = t.golden_id
                    and not o.is_cancelled
                    and o.placed_at >= t.event_at
                    and o.placed_at <= t.event_at + interval 120 hour
        ),
        window_revenue as (
            select esp_campaign_id, count(*) as n, sum(total_value) as revenue
            from window_orders
            group by 1
        )
        select
            c.esp_campaign_id,
            c.attributed_order_count,
            c.attributed_revenue,
            coalesce(w.n, 0),
            coalesce(w.revenue, 0)
        from marts.email_campaigns as c
        left join window_revenue as w using (esp_campaign_id)
        """
    )
    assert sum(row[1] for row in rows) > 0
    too_many = [row for row in rows if row[1] > row[3]]
    too_much = [row for row in rows if row[2] > round(Decimal(row[4]), 2) + Decimal("0.01")]
    assert too_many == []
    assert too_much == []
    [(total_attributed, total_revenue)] = marts_warehouse.rows(
        """
        select
            (select sum(attributed_revenue) from marts.email_campaigns)
            + (select sum(attributed_revenue) from marts.email_flows),
            (select sum(total_value) from intermediate.int_marketing__orders where not is_cancelled)
        """
    )
    assert 0 < total_attributed < total_revenue


def test_campaign_won_revenue_matches_the_crm_deals(marts_warehouse: BuiltWarehouse) -> None:
    deals = _parquet(marts_warehouse, "crm", "deals")
    campaigns = _parquet(marts_warehouse, "crm", "campaigns")
    expected = {
        row[0]: (row[1], round(Decimal(row[2]), 2))
        for row in marts_warehouse.rows(
            f"""
            select
                c.id,
                count(d.id),
                coalesce(sum(d.amount * fx.rate_to_reporting), 0)
            from {campaigns} as c
            left join {deals} as d
                on
                    d.hs_campaign = c.id
                    and d.dealstage = 'closedwon'
                    and not coalesce(d.archived, false)
            left join intermediate.int_marketing__fx_rates as fx
                on
                    fx.currency_code = d.deal_currency_code
                    and cast(timezone('UTC', d.closedate) as date) >= fx.valid_from
                    and (
                        fx.valid_to is null
                        or cast(timezone('UTC', d.closedate) as date) < fx.valid_to
                    )
            group by 1
            """
        )
    }
    actual = {
        row[0]: (row[1], row[2])
        for row in marts_warehouse.rows(
            "select crm_campaign_id, won_deal_count, won_revenue from marts.campaigns"
        )
    }
    assert actual == expected
    assert sum(count for count, _ in actual.values()) > 0

    [(bad_roi,)] = marts_warehouse.rows(
        """
        select count(*) from marts.campaigns
        where
            (campaign_cost = 0 and roi is not null)
            or (
                campaign_cost > 0
                and abs(roi - (won_revenue - campaign_cost) / campaign_cost) > 0.00005
            )
            or (new_customer_count = 0 and cac is not null)
            or (
                new_customer_count > 0
                and abs(cac - campaign_cost / new_customer_count) > 0.005
            )
        """
    )
    assert bad_roi == 0


def test_open_ticket_flags_match_the_helpdesk_export(marts_warehouse: BuiltWarehouse) -> None:
    tickets = _parquet(marts_warehouse, "helpdesk", "tickets")
    expected = dict(
        marts_warehouse.rows(
            f"""
            select k.golden_id, count(*)
            from {tickets} as t
            inner join intermediate.int_marketing__customer_keys as k
                on
                    k.source_system = 'helpdesk'
                    and k.source_table = 'users'
                    and k.source_record_id = cast(t.requester_id as varchar)
            where t.status in {OPEN_STATUSES}
            group by 1
            """
        )
    )
    actual = dict(
        marts_warehouse.rows(
            "select golden_id, open_ticket_count from marts.customer_support where has_open_ticket"
        )
    )
    assert expected
    assert actual == expected

    [(customers, helpdesk_people)] = marts_warehouse.rows(
        """
        select
            (select count(*) from marts.customer_support),
            (
                select count(distinct k.golden_id)
                from intermediate.int_marketing__customer_keys as k
                inner join staging.stg_helpdesk__users as u
                    on k.source_record_id = u.helpdesk_user_id
                where k.source_system = 'helpdesk' and not u.is_agent
            )
        """
    )
    assert customers == helpdesk_people
