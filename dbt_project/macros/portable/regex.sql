{#
    Regular expressions without engine-specific operators in models. `pattern` and
    `replacement` are plain strings (not SQL); they are quoted here. Keep patterns to the
    common subset of RE2 (DuckDB) and POSIX ARE (Postgres): character classes such as
    [0-9] and [.], anchors, alternation; no lookaround, no \d in bracket expressions.
#}
{% macro regex_matches(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'closedloop')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(expr, pattern) -%}
    regexp_matches({{ expr }}, '{{ dbt.escape_single_quotes(pattern) }}')
{%- endmacro %}

{% macro postgres__regex_matches(expr, pattern) -%}
    ({{ expr }} ~ '{{ dbt.escape_single_quotes(pattern) }}')
{%- endmacro %}

{% macro spark__regex_matches(expr, pattern) -%}
    ({{ expr }} rlike '{{ dbt.escape_single_quotes(pattern) }}')
{%- endmacro %}


{#- Replace every match (DuckDB and Postgres replace only the first without the 'g' flag). -#}
{% macro regex_replace_all(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace_all', 'closedloop')(expr, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regex_replace_all(expr, pattern, replacement) -%}
    regexp_replace(
        {{ expr }},
        '{{ dbt.escape_single_quotes(pattern) }}',
        '{{ dbt.escape_single_quotes(replacement) }}',
        'g'
    )
{%- endmacro %}

{% macro spark__regex_replace_all(expr, pattern, replacement) -%}
    regexp_replace(
        {{ expr }},
        '{{ dbt.escape_single_quotes(pattern) }}',
        '{{ dbt.escape_single_quotes(replacement) }}'
    )
{%- endmacro %}
