{#
    Value normalisation shared by the staging models. Each macro renders one portable
    expression (no joins), so staging keeps its two-CTE shape and its grain.
#}

{#- Email as the person typed it, made comparable: trimmed, lower-cased, '' becomes NULL. -#}
{% macro normalize_email(expr) -%}
    nullif(lower(trim({{ expr }})), '')
{%- endmacro %}


{#-
    Canonical mailbox for identity matching: `+tag` removed from the local part, and for
    Gmail (which ignores dots) dots removed and googlemail.com folded into gmail.com.
    The split is at the last '@'; values without one are returned normalised but unchanged.
-#}
{% macro email_canonical(expr) -%}
    {%- set email = normalize_email(expr) -%}
    {%- set local_part = regex_replace_all(regex_replace_all(email, '@[^@]*$', ''), '[+].*$', '') -%}
    {%- set domain = regex_replace_all(email, '^.*@', '') -%}
    case
        when {{ email }} like '%_@_%'
            then
                case
                    when {{ domain }} in ('gmail.com', 'googlemail.com')
                        then replace({{ local_part }}, '.', '') || '@gmail.com'
                    else {{ local_part }} || '@' || {{ domain }}
                end
        else {{ email }}
    end
{%- endmacro %}


{#-
    A point in time as a UTC wall-clock `timestamp` (no zone), from whatever the loader
    landed: a timestamptz, a zone-less timestamp, or ISO-8601 text with or without an offset.
    Zone-less values are taken as UTC (the sources' contract); values with an offset are
    converted. Going through text makes the result independent of the column's type and of
    the session time zone, which differ between engines, machines and loaders (dlt lands
    JSON timestamps as timestamptz, SQLite's as plain text or naive timestamps).
-#}
{% macro to_utc_timestamp(expr) -%}
    {%- set as_text = "trim(cast(" ~ expr ~ " as " ~ dbt.type_string() ~ "))" -%}
    {%- set with_offset = '[0-9]:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)? ?([Zz]|UTC|[+-][0-9]{2}(:?[0-9]{2})?)$' -%}
    case
        when {{ regex_matches(as_text, with_offset) }}
            then ({{ safe_cast(as_text, 'timestamp with time zone') }} at time zone 'UTC')
        else {{ safe_cast(as_text, dbt.type_timestamp()) }}
    end
{%- endmacro %}


{#-
    A calendar date typed by a person or exported by a tool: ISO `YYYY-MM-DD` (optionally
    followed by a time), or day-first `D.M.YYYY` / `DD.MM.YYYY` / `DD/MM/YYYY` with optional
    spaces, as Czech, Slovak and Polish forms write it. Anything else becomes NULL; so does an
    impossible date on DuckDB (Postgres rejects it: keep the patterns strict).
-#}
{% macro parse_date(expr) -%}
    {%- set value = "trim(cast(" ~ expr ~ " as " ~ dbt.type_string() ~ "))" -%}
    {%- set dotted = regex_replace_all(regex_replace_all(value, ' ', ''), '/', '.') -%}
    {%- set year = dbt.split_part(dotted, "'.'", 3) -%}
    {%- set month = "lpad(" ~ dbt.split_part(dotted, "'.'", 2) ~ ", 2, '0')" -%}
    {%- set day = "lpad(" ~ dbt.split_part(dotted, "'.'", 1) ~ ", 2, '0')" -%}
    case
        when {{ regex_matches(value, '^[0-9]{4}-[0-9]{2}-[0-9]{2}') }}
            then {{ safe_cast('substr(' ~ value ~ ', 1, 10)', 'date') }}
        when {{ regex_matches(dotted, '^[0-9]{1,2}[.][0-9]{1,2}[.][0-9]{4}$') }}
            then {{ safe_cast(year ~ " || '-' || " ~ month ~ " || '-' || " ~ day, 'date') }}
    end
{%- endmacro %}


{#-
    ISO-3166-1 alpha-2 for a free-text country ("Czech Republic", "Česko", "cz", "Polska"),
    looked up in the `country_codes` seed; NULL when unknown. A scalar subquery rather than a
    join keeps staging models one-CTE-per-step and cannot fan out (the variant is unique).
    The seed's column names are chosen not to clash with source columns: an unqualified
    `expr` naming a seed column would bind to the seed and correlate with itself.
    Postgres lower() folds non-ASCII letters only under a UTF-8 ctype (C.UTF-8 in CI).
-#}
{% macro country_iso2(expr) -%}
    (
        select country_codes.iso_3166_alpha2
        from {{ ref('country_codes') }} as country_codes
        where country_codes.country_variant = lower(trim({{ expr }}))
    )
{%- endmacro %}


{#- ISO-4217 for a currency code, symbol or name (Kč, €, zł, czk); NULL when unknown. -#}
{% macro currency_iso4217(expr) -%}
    (
        select currency_codes.iso_4217_code
        from {{ ref('currency_codes') }} as currency_codes
        where currency_codes.currency_variant = lower(trim({{ expr }}))
    )
{%- endmacro %}
