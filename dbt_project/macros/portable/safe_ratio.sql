{#
    A ratio rounded half up to `scale` decimals, as decimal(`precision`, `scale`); NULL
    unless the denominator is positive. DuckDB divides decimals in double precision and
    rounds unlike Postgres, so both engines take one path: divide in double precision, then
    floor(x + 0.5) on the last kept digit. `percent` rounds the ratio times 100.
#}
{% macro safe_ratio(numerator, denominator, scale=4, precision=12, percent=false) -%}
    {{ return(adapter.dispatch('safe_ratio', 'closedloop')(
        numerator, denominator, scale, precision, percent
    )) }}
{%- endmacro %}

{% macro default__safe_ratio(numerator, denominator, scale, precision, percent) -%}
    {%- set unit = 10 ** scale -%}
    case
        when {{ denominator }} > 0
            then cast(
                floor(
                    cast({{ numerator }} as double precision)
                    / cast({{ denominator }} as double precision)
                    * {{ unit * 100 if percent else unit }} + 0.5
                ) / {{ unit }} as decimal({{ precision }}, {{ scale }})
            )
    end
{%- endmacro %}
