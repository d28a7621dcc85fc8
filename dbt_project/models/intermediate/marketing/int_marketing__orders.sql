{#
    Every shop order of a golden customer, in the reporting currency at the rate of the day it
    was placed. Cancelled orders stay (for reporting) but are flagged: they are not purchases.
    `order_value` is the merchandise value (subtotal after line discounts, before shipping
    and refunds), the spend per purchase the CLV model describes; `net_revenue` is what the
    customer finally paid: total minus refunds.
#}

with

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

refunds as (

    select * from {{ ref('stg_shop__refunds') }}

),

customer_keys as (

    select * from {{ ref('int_marketing__customer_keys') }}
    where source_system = 'shop' and source_table = 'customers'

),

fx_rates as (

    select * from {{ ref('int_marketing__fx_rates') }}

),

order_refunds as (

    select
        shop_order_id,
        sum(amount) as refunded_amount,
        max(refunded_at) as last_refunded_at
    from refunds
    group by 1

),

converted as (

    select
        orders.shop_order_id,
        customer_keys.golden_id,
        orders.shop_customer_id,
        orders.order_number,
        orders.order_status,
        orders.placed_at,
        orders.currency as original_currency,
        fx_rates.rate_to_reporting as fx_rate,
        order_refunds.last_refunded_at,
        orders.discount_code,
        orders.utm_source,
        orders.utm_medium,
        orders.utm_campaign,
        orders.gclid,
        orders.fbclid,
        cast(orders.placed_at as date) as placed_date,
        orders.order_status = 'cancelled' as is_cancelled,
        orders.subtotal_amount * fx_rates.rate_to_reporting as order_value,
        orders.total_amount * fx_rates.rate_to_reporting as total_value,
        coalesce(order_refunds.refunded_amount, 0) * fx_rates.rate_to_reporting as refunded_value
    from orders
    left join customer_keys on orders.shop_customer_id = customer_keys.source_record_id
    left join order_refunds on orders.shop_order_id = order_refunds.shop_order_id
    left join fx_rates
        on
            orders.currency = fx_rates.currency_code
            and cast(orders.placed_at as date) >= fx_rates.valid_from
            and (fx_rates.valid_to is null or cast(orders.placed_at as date) < fx_rates.valid_to)

)

select
    *,
    total_value - refunded_value as net_revenue,
    -- The process of purchases: every order that was not cancelled, in time order per person.
    case
        when not is_cancelled
            then row_number() over (
                partition by golden_id, is_cancelled order by placed_at, shop_order_id
            )
    end as customer_order_seq_number
from converted
