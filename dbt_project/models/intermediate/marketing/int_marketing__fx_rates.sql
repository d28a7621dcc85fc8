{#
    Dated exchange rates into the reporting currency (`reporting_currency` var), one row per
    currency and validity interval: a rate holds from its `valid_from` until the next one.
    The reporting currency itself converts at 1 from the beginning of time.
#}

with

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

intervals as (

    select
        upper(currency_code) as currency_code,
        cast(valid_from as date) as valid_from,
        lead(cast(valid_from as date)) over (
            partition by upper(currency_code) order by cast(valid_from as date)
        ) as valid_to,
        cast(rate_to_reporting as decimal(18, 6)) as rate_to_reporting
    from fx_rates
    where upper(currency_code) <> '{{ var("reporting_currency") }}'

)

select * from intervals
union all
select
    '{{ var("reporting_currency") }}' as currency_code,
    cast('1900-01-01' as date) as valid_from,
    cast(null as date) as valid_to,
    cast(1 as decimal(18, 6)) as rate_to_reporting
