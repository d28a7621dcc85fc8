"""Engagement, lead and account scores on a built world: recomputed here from staging and the
intermediate events, so a model that drifts from its documented rules fails."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from tests.marts.conftest import BuiltWarehouse

PAST_MQL_STAGES = ("salesqualifiedlead", "opportunity", "customer")


def frame(warehouse: BuiltWarehouse, sql: str) -> pd.DataFrame:
    with warehouse.connect() as con:
        return con.execute(sql).df()


def settings(warehouse: BuiltWarehouse, seed: str) -> dict[str, float]:
    rows = warehouse.rows(f"select setting_name, setting_value from seeds.{seed}")
    return {name: float(value) for name, value in rows}


def engagement_scores(
    events: pd.DataFrame, as_of_date: pd.Timestamp, half_life: float, window: float
) -> pd.Series:
    """The documented lead engagement score: daily caps per type, hard window, decay, clamp."""
    daily = events.groupby(["crm_contact_id", "event_type", "event_date"], as_index=False).agg(
        points=("points", "sum"), cap=("daily_cap", "max")
    )
    capped = np.where(
        daily["cap"].isna(),
        daily["points"],
        np.sign(daily["points"]) * np.minimum(daily["points"].abs(), daily["cap"]),
    )
    age = (as_of_date - pd.to_datetime(daily["event_date"])).dt.days
    inside = (age >= 0) & (age < window)
    decayed = pd.Series(capped * 0.5 ** (age / half_life), index=daily.index)[inside]
    total = decayed.groupby(daily.loc[inside, "crm_contact_id"]).sum()
    return total.clip(0, 100)


def test_one_lead_score_row_per_live_contact(marts_warehouse: BuiltWarehouse) -> None:
    live = {
        r[0]
        for r in marts_warehouse.rows(
            "select crm_contact_id from staging.stg_crm__contacts where not is_archived"
        )
    }
    scored = [r[0] for r in marts_warehouse.rows("select crm_contact_id from marts.lead_scores")]
    assert len(scored) == len(set(scored))
    assert set(scored) == live
    archived = marts_warehouse.rows(
        "select count(*) from staging.stg_crm__contacts where is_archived"
    )[0][0]
    assert archived > 0


def test_scores_stay_within_their_ranges(marts_warehouse: BuiltWarehouse) -> None:
    [row] = marts_warehouse.rows(
        """
        select min(fit_score), max(fit_score), min(engagement_score), max(engagement_score),
            count(distinct lead_grade)
        from marts.lead_scores
        """
    )
    assert 0 <= row[0] <= row[1] <= 100
    assert 0 <= row[2] <= row[3] <= 100
    assert row[4] > 3  # the grid is used, not one cell
    [row] = marts_warehouse.rows(
        """
        select min(account_score), max(account_score), min(fit_score), max(fit_score),
            min(buying_group_engagement_score), max(buying_group_engagement_score)
        from marts.account_scores
        """
    )
    assert all(0 <= v <= 100 for v in row)
    [(lowest,)] = marts_warehouse.rows(
        "select min(engagement_score) from marts.customer_engagement"
    )
    assert lowest >= 0


def test_engagement_score_follows_caps_window_and_decay(marts_warehouse: BuiltWarehouse) -> None:
    cfg = settings(marts_warehouse, "lead_score_settings")
    [(as_of_at, as_of_date)] = marts_warehouse.rows(
        "select as_of_at, as_of_date from intermediate.int_marketing__as_of"
    )
    events = frame(
        marts_warehouse,
        f"""
        select crm_contact_id, event_type, event_date, points::double as points,
            daily_cap::double as daily_cap
        from intermediate.int_lead_score__events
        where event_at <= timestamp '{as_of_at}'
        """,
    )
    expected = engagement_scores(
        events, pd.Timestamp(as_of_date), cfg["half_life_days"], cfg["window_days"]
    )
    mart = frame(
        marts_warehouse, "select crm_contact_id, engagement_score from marts.lead_scores"
    ).set_index("crm_contact_id")["engagement_score"]
    expected = expected.reindex(mart.index, fill_value=0.0)
    assert (expected > 0).sum() > 20
    np.testing.assert_allclose(mart.to_numpy(), expected.to_numpy(), atol=1e-6)


def test_negative_events_lower_the_score(marts_warehouse: BuiltWarehouse) -> None:
    """Unsubscribes, hard bounces, spam complaints and careers pages only ever subtract."""
    cfg = settings(marts_warehouse, "lead_score_settings")
    [(as_of_at, as_of_date)] = marts_warehouse.rows(
        "select as_of_at, as_of_date from intermediate.int_marketing__as_of"
    )
    events = frame(
        marts_warehouse,
        f"""
        select crm_contact_id, event_type, event_date, points::double as points,
            daily_cap::double as daily_cap
        from intermediate.int_lead_score__events
        where event_at <= timestamp '{as_of_at}'
        """,
    )
    negative_types = set(events.loc[events["points"] < 0, "event_type"])
    assert {"email_unsubscribe", "email_hard_bounce"} <= negative_types
    age = (pd.Timestamp(as_of_date) - pd.to_datetime(events["event_date"])).dt.days
    in_window = events[(age >= 0) & (age < cfg["window_days"])]
    hit = set(in_window.loc[in_window["points"] < 0, "crm_contact_id"])
    assert hit, "no contact has a negative event inside the window"
    with_negatives = engagement_scores(
        events, pd.Timestamp(as_of_date), cfg["half_life_days"], cfg["window_days"]
    )
    without = engagement_scores(
        events[events["points"] >= 0],
        pd.Timestamp(as_of_date),
        cfg["half_life_days"],
        cfg["window_days"],
    )
    mart = dict(
        marts_warehouse.rows("select crm_contact_id, engagement_score from marts.lead_scores")
    )
    lowered = 0
    for contact in hit:
        otherwise = float(without.get(contact, 0.0))
        assert mart[contact] <= otherwise + 1e-9
        assert abs(mart[contact] - float(with_negatives.get(contact, 0.0))) < 1e-6
        lowered += mart[contact] < otherwise - 1e-9
    assert lowered > 0


def test_hand_raisers_are_mqls(marts_warehouse: BuiltWarehouse) -> None:
    """Every demo request of a contact not yet sales-qualified or customer makes an MQL."""
    rows = marts_warehouse.rows(
        """
        with requests as (
            select k.golden_id, min(w.event_at) as requested_at
            from staging.stg_web__events as w
            inner join intermediate.int_marketing__customer_keys as k
                on k.source_system = 'web' and k.source_record_id = w.anonymous_id
            where w.event_name = 'form_submit' and w.form_id = 'b2b-demo-request'
            group by 1
        )
        select l.crm_contact_id, r.requested_at, l.is_hand_raiser, l.is_mql, l.mql_at
        from marts.lead_scores as l
        inner join staging.stg_crm__contacts as c using (crm_contact_id)
        inner join requests as r on l.golden_id = r.golden_id
        cross join intermediate.int_marketing__as_of as a
        where r.requested_at <= a.as_of_at
            and coalesce(
                least(c.became_sales_qualified_lead_at, c.became_opportunity_at,
                    c.became_customer_at),
                timestamp '9999-01-01'
            ) > r.requested_at
        """
    )
    assert len(rows) > 10
    for contact, requested_at, is_hand_raiser, is_mql, mql_at in rows:
        assert is_hand_raiser, contact
        assert is_mql, contact
        assert mql_at <= requested_at, contact
    sources = dict(
        marts_warehouse.rows(
            "select mql_source, count(*) from marts.lead_scores where is_mql group by 1"
        )
    )
    assert sources.get("hand_raiser", 0) > 0
    assert sources.get("crm", 0) > 0


def test_sql_comes_from_crm_status_only(marts_warehouse: BuiltWarehouse) -> None:
    rows = marts_warehouse.rows(
        f"""
        select l.crm_contact_id, l.is_sql,
            coalesce(c.lifecycle_stage in {PAST_MQL_STAGES}
                or c.became_sales_qualified_lead_at is not null, false) as crm_says,
            l.meets_mql_threshold
        from marts.lead_scores as l
        inner join staging.stg_crm__contacts as c using (crm_contact_id)
        """
    )
    assert all(is_sql == crm_says for _, is_sql, crm_says, _ in rows)
    # High scorers that sales never qualified stay non-SQL.
    assert any(meets and not is_sql for _, is_sql, _, meets in rows)
    assert any(is_sql for _, is_sql, _, _ in rows)


def test_sla_breaches_are_mqls_without_a_response_in_time(
    marts_warehouse: BuiltWarehouse,
) -> None:
    hours = settings(marts_warehouse, "lead_score_settings")["sla_response_hours"]
    mqls = frame(
        marts_warehouse,
        """
        select l.crm_contact_id, l.mql_at, c.first_sales_engagement_at,
            c.became_sales_qualified_lead_at, c.became_opportunity_at, c.became_customer_at,
            a.as_of_at
        from marts.lead_scores as l
        inner join staging.stg_crm__contacts as c using (crm_contact_id)
        cross join intermediate.int_marketing__as_of as a
        where l.is_mql
        """,
    )
    as_of = mqls["as_of_at"]
    responses = mqls[
        ["first_sales_engagement_at", "became_sales_qualified_lead_at", "became_opportunity_at"]
    ].where(lambda frame_: frame_.le(as_of, axis=0))
    response = responses.min(axis=1)
    due = mqls["mql_at"] + pd.Timedelta(hours=hours)
    customer = mqls["became_customer_at"].where(mqls["became_customer_at"] <= as_of)
    met = response <= due
    converted = (customer >= mqls["mql_at"]) & (customer <= due)
    late_or_waiting = response.notna() | (as_of > due)
    expected = set(mqls.loc[~met & ~converted & late_or_waiting, "crm_contact_id"])
    listed = frame(
        marts_warehouse,
        "select crm_contact_id, hours_over_sla, is_awaiting_response from marts.lead_sla_breaches",
    )
    assert expected, "the world has no breached MQL"
    assert set(listed["crm_contact_id"]) == expected
    assert (listed["hours_over_sla"] > 0).all()
    assert listed["is_awaiting_response"].any()
    assert not listed["is_awaiting_response"].all()


def test_owner_first_engagement_reaches_staging(marts_warehouse: BuiltWarehouse) -> None:
    """The generator's first-engagement date arrives through the API and dlt unchanged."""
    world = pq.read_table(
        marts_warehouse.world_dir / "crm" / "contacts.parquet",
        columns=["id", "hs_sa_first_engagement_date"],
    ).to_pandas()
    world = world.dropna().set_index(world.dropna()["id"].astype(str))
    staged = frame(
        marts_warehouse,
        """
        select crm_contact_id, first_sales_engagement_at
        from staging.stg_crm__contacts
        where first_sales_engagement_at is not null
        """,
    ).set_index("crm_contact_id")
    assert len(world) > 50
    assert set(staged.index) == set(world.index)
    truth = world["hs_sa_first_engagement_date"]
    if truth.dt.tz is not None:
        truth = truth.dt.tz_convert("UTC").dt.tz_localize(None)
    delta = (staged["first_sales_engagement_at"] - truth.reindex(staged.index)).abs()
    assert (delta < pd.Timedelta(milliseconds=1)).all()


def test_email_status_follows_klaviyo_rules(marts_warehouse: BuiltWarehouse) -> None:
    """Recomputed from the ESP's raw events: receipts, human opens, clicks, profiles."""
    cfg = settings(marts_warehouse, "engagement_settings")
    events = frame(
        marts_warehouse,
        """
        select k.golden_id, e.esp_event_id, e.esp_profile_id,
            coalesce(e.esp_campaign_id, '') || '|' || coalesce(e.esp_flow_id, '') as message,
            m.metric_name, e.event_at
        from staging.stg_esp__events as e
        inner join staging.stg_esp__metrics as m using (esp_metric_id)
        inner join intermediate.int_marketing__customer_keys as k
            on k.source_system = 'esp' and k.source_record_id = e.esp_profile_id
        cross join intermediate.int_marketing__as_of as a
        where e.event_at <= a.as_of_at
        """,
    )
    [(as_of,)] = marts_warehouse.rows("select as_of_at from intermediate.int_marketing__as_of")
    as_of = pd.Timestamp(as_of)
    received = events[events["metric_name"] == "Received Email"]
    opens = events[events["metric_name"] == "Opened Email"]
    pairs = opens.merge(received, on=["esp_profile_id", "message"], suffixes=("", "_r"))
    seconds = (pairs["event_at"] - pairs["event_at_r"]).dt.total_seconds()
    machine = set(
        pairs.loc[(seconds >= 0) & (seconds <= cfg["machine_open_max_seconds"]), "esp_event_id"]
    )
    human = events[
        (events["metric_name"] == "Clicked Email")
        | ((events["metric_name"] == "Opened Email") & ~events["esp_event_id"].isin(machine))
    ]

    def age(at: pd.Series) -> pd.Series:
        return (as_of - at).dt.total_seconds() / 86400

    last_touch = age(human["event_at"]).groupby(human["golden_id"]).min()
    received_total = received.groupby("golden_id").size()
    received_30d = received[age(received["event_at"]) < 30].groupby("golden_id").size()
    added = frame(
        marts_warehouse,
        """
        select k.golden_id, min(p.created_at) as added_at
        from staging.stg_esp__profiles as p
        inner join intermediate.int_marketing__customer_keys as k
            on k.source_system = 'esp' and k.source_record_id = p.esp_profile_id
        group by 1
        """,
    ).set_index("golden_id")["added_at"]
    mart = frame(
        marts_warehouse, "select golden_id, email_engagement_status from marts.customer_engagement"
    ).set_index("golden_id")["email_engagement_status"]

    def status(golden_id: str) -> str:
        touch = last_touch.get(golden_id)
        daily = received_30d.get(golden_id, 0) >= cfg["daily_recipient_min_received_30d"]
        window = cfg["daily_recipient_engaged_window_days"] if daily else cfg["engaged_window_days"]
        if touch is not None and touch < window:
            return "engaged"
        added_at = added.get(golden_id)
        if (
            added_at is not None
            and 0 <= (as_of - added_at).total_seconds() / 86400 < cfg["new_after_added_days"]
        ):
            return "new"
        total = received_total.get(golden_id, 0)
        if total >= cfg["unengaged_min_received"] and (
            touch is None or touch >= cfg["unengaged_window_days"]
        ):
            return "unengaged"
        return "never_sent" if total == 0 else "neutral"

    expected = pd.Series({g: status(g) for g in mart.index})
    counts = expected.value_counts()
    assert {"engaged", "unengaged", "never_sent", "neutral"} <= set(counts.index)
    mismatched = expected[expected != mart]
    assert mismatched.empty, mismatched.head(10).to_dict()


def test_one_engagement_row_per_customer(marts_warehouse: BuiltWarehouse) -> None:
    [(customers, rows, distinct, dormant)] = marts_warehouse.rows(
        """
        select (select count(*) from marts.customers), count(*), count(distinct golden_id),
            count(case when is_dormant then 1 end)
        from marts.customer_engagement
        """
    )
    assert rows == distinct == customers
    assert 0 < dormant < rows


def test_account_buying_groups_and_tiers(marts_warehouse: BuiltWarehouse) -> None:
    cfg = settings(marts_warehouse, "account_score_settings")
    rows = frame(
        marts_warehouse,
        """
        select a.crm_company_id, a.account_score, a.account_tier, a.contact_count,
            (select count(distinct m.crm_contact_id) from (
                select crm_contact_id from marts.lead_scores
                where crm_company_id = a.crm_company_id
                union
                select s.from_crm_object_id from staging.stg_crm__associations as s
                inner join marts.lead_scores as l on l.crm_contact_id = s.from_crm_object_id
                where s.from_object_type = 'contacts' and s.to_object_type = 'companies'
                    and s.to_crm_object_id = a.crm_company_id
            ) as m) as members
        from marts.account_scores as a
        """,
    )
    live = marts_warehouse.rows(
        "select count(*) from staging.stg_crm__companies where not is_archived"
    )[0][0]
    assert len(rows) == live == rows["crm_company_id"].nunique()
    assert (rows["contact_count"] == rows["members"]).all()
    assert rows["contact_count"].sum() > 0
    tier = np.where(
        rows["account_score"] >= cfg["hot_min_score"],
        "hot",
        np.where(rows["account_score"] >= cfg["warm_min_score"], "warm", "cold"),
    )
    assert (rows["account_tier"] == tier).all()
