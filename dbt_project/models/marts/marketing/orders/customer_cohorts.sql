{#
    Customer × month cohort mart in the shape of Shopify's `__customer_cohorts`: one row per
    buyer for every month from the month of their first purchase (the cohort) to the as-of
    month, with purchases and net revenue in the month and cumulated to it. Months without a
    purchase are rows too, which is what makes retention countable. Purchases (not cancelled
    orders) placed up to the as-of moment; net revenue is counted in the month the order was
    placed, refunds included whenever they happened.
#}

with

customer_orders as (

    select * from {{ ref('customer_orders') }}

),

as_of as (

    select * from {{ ref('int_marketing__as_of') }}

),

purchases as (

    select
        customer_orders.golden_id,
        customer_orders.order_month,
        customer_orders.net_revenue
    from customer_orders
    cross join as_of
    where
        not customer_orders.is_cancelled
        and customer_orders.placed_at <= as_of.as_of_at

),

cohorts as (

    select
        golden_id,
        min(order_month) as cohort_month
    from purchases
    group by 1

),

months as (

    {{ date_spine(
        'month',
        '(select min(cohort_month) from cohorts)',
        '(select cast(' ~ dbt.date_trunc('month', 'as_of_at') ~ ' as date) from as_of)'
    ) }}

),

customer_months as (

    select
        cohorts.golden_id,
        cohorts.cohort_month,
        months.date_month
    from cohorts
    inner join months on cohorts.cohort_month <= months.date_month

),

monthly_purchases as (

    select
        golden_id,
        order_month as date_month,
        count(*) as order_count_in_month,
        sum(net_revenue) as net_revenue_in_month
    from purchases
    group by 1, 2

),

joined as (

    select
        customer_months.golden_id,
        customer_months.cohort_month,
        customer_months.date_month,
        coalesce(monthly_purchases.order_count_in_month, 0) as order_count_in_month,
        cast(
            coalesce(monthly_purchases.net_revenue_in_month, 0) as {{ dbt.type_numeric() }}
        ) as net_revenue_in_month,
        cast({{ dbt.datediff(
            'customer_months.cohort_month', 'customer_months.date_month', 'month'
        ) }} as {{ dbt.type_int() }}) as months_since_first_order
    from customer_months
    left join monthly_purchases
        on
            customer_months.golden_id = monthly_purchases.golden_id
            and customer_months.date_month = monthly_purchases.date_month

),

final as (

    select
        golden_id || ':' || cast(date_month as {{ dbt.type_string() }}) as customer_cohort_id,
        golden_id,
        cohort_month,
        date_month,
        -- Shopify numbers the cohort month 1; months_since_first_order counts from 0.
        months_since_first_order + 1 as cohort_month_number,
        months_since_first_order,
        order_count_in_month,
        cast(sum(order_count_in_month) over (
            partition by golden_id
            order by date_month rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as order_count_lifetime,
        net_revenue_in_month,
        cast(sum(net_revenue_in_month) over (
            partition by golden_id
            order by date_month rows between unbounded preceding and current row
        ) as {{ dbt.type_numeric() }}) as net_revenue_lifetime,
        order_count_in_month > 0 as is_active_in_month
    from joined

)

select * from final
