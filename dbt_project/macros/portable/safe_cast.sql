{#
    Casts that return NULL instead of failing on bad input. Both override dbt's own
    `safe_cast` dispatch (dbt-duckdb ships none, Postgres has no try_cast), so models call
    `{{ safe_cast(expr, type) }}` and `dbt.safe_cast` alike.

    Postgres guards each cast with a pattern of what the type accepts, and takes integers via
    numeric so '1.5' and '1e3' round the way DuckDB's try_cast does. Anything the guard lets
    through that the type still rejects (e.g. 2024-02-30) fails loudly on Postgres: rare in
    API data, and better than a silent NULL that DuckDB would not produce either.
#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{% macro postgres__safe_cast(field, type) -%}
    {%- set base_type = (type | string | lower).split('(')[0] | trim -%}
    {%- set as_text = "trim(cast(" ~ field ~ " as text))" -%}
    {%- set number_pattern = "^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$" -%}
    {%- set timestamp_pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)? ?(Z|z|UTC|[+-][0-9]{2}(:?[0-9]{2})?)?$" -%}
    {%- if base_type in ('integer', 'int', 'int4', 'bigint', 'int8', 'smallint', 'int2') -%}
        case
            when {{ as_text }} ~ '{{ number_pattern }}'
                then cast(cast({{ as_text }} as numeric) as {{ type }})
        end
    {%- elif base_type in ('numeric', 'decimal', 'double precision', 'double', 'float', 'float8', 'real', 'float4') -%}
        case when {{ as_text }} ~ '{{ number_pattern }}' then cast({{ as_text }} as {{ type }}) end
    {%- elif base_type.startswith('timestamp') or base_type == 'date' -%}
        case when {{ as_text }} ~ '{{ timestamp_pattern }}' then cast({{ as_text }} as {{ type }}) end
    {%- elif base_type in ('boolean', 'bool') -%}
        case
            when lower({{ as_text }}) in ('true', 't', 'yes', 'y', '1', 'on')
                then true
            when lower({{ as_text }}) in ('false', 'f', 'no', 'n', '0', 'off')
                then false
        end
    {%- else -%}
        cast({{ field }} as {{ type }})
    {%- endif -%}
{%- endmacro %}
