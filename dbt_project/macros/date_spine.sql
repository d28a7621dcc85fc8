{#
    One row per period from `start_date` to `end_date` (both included), as a select with one
    date column `date_<datepart>` (e.g. `date_month`). The bounds are SQL expressions, e.g.
    scalar subqueries on a CTE, evaluated by the query itself: unlike dbt_utils' spine there
    is no `run_query` at compile time, which would read the real warehouse inside unit tests.
    Periods are numbered by a cross join of digit lists rather than a recursive CTE: plain
    set SQL on every warehouse, and no date/timestamp type drift between the recursion's
    terms on Postgres. `max_periods` bounds the spine (10,000 months, or 27 years of days).
#}
{% macro date_spine(datepart, start_date, end_date, max_periods=10000) -%}
    {#- Enough digit lists to count from 0 to max_periods - 1. -#}
    {%- set digits = (max_periods - 1) | string | length -%}
    select
        cast(
            {{ dbt.dateadd(datepart, 'spine_numbers.period_number', start_date) }} as date
        ) as date_{{ datepart }}
    from (
        select
            {% for position in range(digits) -%}
                {{ ' + ' if not loop.first }}{{ 10 ** position }} * digits_{{ position }}.digit
            {%- endfor %} as period_number
        from
            {% for position in range(digits) -%}
                {{ 'cross join ' if not loop.first -}}
                (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9))
                    as digits_{{ position }} (digit)
            {% endfor %}
    ) as spine_numbers
    where spine_numbers.period_number <= {{ dbt.datediff(start_date, end_date, datepart) }}
{%- endmacro %}
