{#
    Every shop order of a golden customer, in the shape of Shopify's `__orders` mart: amounts
    in the reporting currency, the customer's purchase sequence, new vs repeat and the days
    since the customer's previous purchase. Cancelled orders are listed for reporting but
    are not purchases: no sequence number, no gap, and no net revenue (nothing was paid).
    All loaded orders are here; the customer-level marts stop at the as-of moment.
#}

with

orders as (

    select * from {{ ref('int_marketing__orders') }}

),

-- The previous purchase in the order of customer_order_seq_number (time, then order ID).
with_previous as (

    select
        *,
        lag(placed_at) over (
            partition by golden_id, is_cancelled order by placed_at, shop_order_id
        ) as lagged_placed_at
    from orders

),

final as (

    select
        shop_order_id,
        golden_id,
        shop_customer_id,
        order_number,
        order_status,
        placed_at,
        placed_date,
        original_currency,
        fx_rate,
        is_cancelled,
        customer_order_seq_number,
        order_value,
        total_value,
        refunded_value,
        last_refunded_at,
        discount_code,
        utm_source,
        utm_medium,
        utm_campaign,
        gclid,
        fbclid,
        cast({{ dbt.date_trunc('month', 'placed_at') }} as date) as order_month,
        case
            when customer_order_seq_number = 1 then 'new'
            when customer_order_seq_number > 1 then 'repeat'
        end as new_vs_repeat,
        case when not is_cancelled then lagged_placed_at end as previous_order_at,
        case
            when not is_cancelled then {{ dbt.datediff('lagged_placed_at', 'placed_at', 'day') }}
        end as days_since_previous_order,
        not is_cancelled and refunded_value > 0 as has_refund,
        cast(
            case when is_cancelled then 0 else net_revenue end as {{ dbt.type_numeric() }}
        ) as net_revenue
    from with_previous

)

select * from final
