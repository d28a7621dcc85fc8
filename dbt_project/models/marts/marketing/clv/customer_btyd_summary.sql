{#
    The input of the CLV models ("buy 'til you die": BG/NBD + Gamma-Gamma), one row per
    golden customer with a purchase up to the as-of moment, which is the calibration end.

    A purchase is an order that was not cancelled. Orders, not purchase days: on generated
    worlds counting days biased the fitted purchase rate (α +4 %, r +1.8 % on 1M people)
    while counting orders recovered it (benchmarks/clv.py). Times are continuous, in days
    (seconds / 86,400), from the first purchase:

    - frequency (x) = purchases − 1, the repeat purchases;
    - recency (t_x) = last purchase − first purchase;
    - customer_age (T) = calibration end − first purchase;
    - monetary_value (zbar) = mean order value of the repeat purchases only (the first is
      left out, as the Gamma-Gamma model expects; 0 without a repeat purchase).

    The same definitions as `closedloop clv fit` (orchestration/clv/summary.py).
#}

with

orders as (

    select * from {{ ref('int_marketing__orders') }}

),

as_of as (

    select * from {{ ref('int_marketing__as_of') }}

),

purchases as (

    select
        orders.golden_id,
        orders.placed_at,
        orders.order_value,
        orders.net_revenue,
        as_of.as_of_at as calibration_end_at,
        row_number() over (
            partition by orders.golden_id
            order by orders.placed_at, orders.shop_order_id
        ) as purchase_number
    from orders
    cross join as_of
    where
        not orders.is_cancelled
        and orders.placed_at <= as_of.as_of_at

),

per_customer as (

    select
        golden_id,
        calibration_end_at,
        count(*) as order_count,
        min(placed_at) as first_order_at,
        max(placed_at) as last_order_at,
        avg(
            case when purchase_number > 1 then order_value end
        ) as repeat_order_value_avg,
        sum(order_value) as total_order_value,
        sum(net_revenue) as net_revenue
    from purchases
    group by 1, 2

)

select
    golden_id,
    calibration_end_at,
    order_count,
    first_order_at,
    last_order_at,
    -- One money type on both engines, whatever precision the sums came out with.
    cast(total_order_value as {{ dbt.type_numeric() }}) as total_order_value,
    cast(net_revenue as {{ dbt.type_numeric() }}) as net_revenue,
    order_count - 1 as frequency,
    -- Double precision on both engines (dbt's type_float is single precision on DuckDB).
    cast(
        {{ dbt.datediff('first_order_at', 'last_order_at', 'second') }}
        as double precision
    ) / 86400 as recency,
    cast(
        {{ dbt.datediff('first_order_at', 'calibration_end_at', 'second') }}
        as double precision
    ) / 86400 as customer_age,
    cast(
        coalesce(repeat_order_value_avg, 0) as double precision
    ) as monetary_value,
    'days' as time_unit,
    '{{ var("reporting_currency") }}' as currency
from per_customer
