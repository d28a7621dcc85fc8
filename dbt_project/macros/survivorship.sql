{#
    Survivorship: which record of a golden record supplies each attribute. The rules are data,
    in the `survivorship` var of dbt_project.yml; these macros render them into SQL, so a rule
    changes in YAML and every model using them follows. The ranking itself (valid, complete,
    rule, agreement, record_key) is in golden_attribute_lineage, the one model that ranks.
#}

{#- The configured attributes, checked once: a typo in the YAML fails the build, not the data. -#}
{% macro survivorship_attributes() -%}
    {%- set settings = var('survivorship') -%}
    {%- set checks = ['not_null', 'any_not_null', 'email_address', 'not_blocklisted', 'date_between'] -%}
    {%- set owners = {} -%}
    {%- for name, attribute in settings['attributes'].items() -%}
        {%- if attribute.get('rule') not in ['source_priority', 'recency'] -%}
            {{ exceptions.raise_compiler_error(
                "survivorship attribute " ~ name ~ ": rule must be source_priority or recency, not "
                ~ attribute.get('rule')) }}
        {%- endif -%}
        {%- if not attribute.get('columns') -%}
            {{ exceptions.raise_compiler_error("survivorship attribute " ~ name ~ ": no columns") }}
        {%- endif -%}
        {#- A column is a lineage row's name: it can survive under one attribute only. -#}
        {%- for column in attribute['columns'] -%}
            {%- if column in owners -%}
                {{ exceptions.raise_compiler_error(
                    "survivorship column " ~ column ~ " is in both " ~ owners[column] ~ " and " ~ name) }}
            {%- endif -%}
            {%- do owners.update({column: name}) -%}
        {%- endfor -%}
        {%- for check in attribute.get('valid_when', []) -%}
            {%- if check.get('check') not in checks -%}
                {{ exceptions.raise_compiler_error(
                    "survivorship attribute " ~ name ~ ": unknown check " ~ check.get('check')
                    ~ " (known: " ~ checks | join(', ') ~ ")") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(settings['attributes']) }}
{%- endmacro %}


{#- Every record column some attribute takes its value from, in configuration order. -#}
{% macro survivorship_columns() -%}
    {%- set columns = [] -%}
    {%- for attribute in survivorship_attributes().values() -%}
        {%- for column in attribute['columns'] if column not in columns -%}
            {%- do columns.append(column) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}


{#- The most columns any one attribute has: the width of the long shape's value columns. -#}
{% macro survivorship_width() -%}
    {%- set widths = [] -%}
    {%- for attribute in survivorship_attributes().values() -%}
        {%- do widths.append(attribute['columns'] | length) -%}
    {%- endfor -%}
    {{ return(widths | max) }}
{%- endmacro %}


{#- One `valid_when` check as a boolean expression on a record of `candidates`. -#}
{% macro survivorship_check(check, candidates, junk_values) -%}
    {%- set kind = check['check'] -%}
    {%- set column = candidates ~ '.' ~ check.get('column') -%}
    {%- if kind == 'not_null' -%}
        {{ column }} is not null
    {%- elif kind == 'any_not_null' -%}
        (
        {%- for name in check['columns'] -%}
        {{ candidates }}.{{ name }} is not null{% if not loop.last %} or {% endif %}
        {%- endfor -%}
        )
    {%- elif kind == 'email_address' -%}
        {#- One '@', text either side, a dot in the domain, no spaces: a deliverable shape. -#}
        ({{ column }} like '%_@_%._%'
        and {{ column }} not like '%@%@%'
        and {{ column }} not like '% %')
    {%- elif kind == 'not_blocklisted' -%}
        {#- The placeholders identity resolution refuses to link on are no person's value either. -#}
        not exists (
            select 1
            from {{ junk_values }} as junk_values
            where
                junk_values.identifier_type = '{{ check['identifier_type'] }}'
                and junk_values.identifier_value = {{ column }}
        )
    {%- elif kind == 'date_between' -%}
        ({{ column }} >= cast('{{ check['min'] }}' as date)
        and {{ column }} <=
        {%- if check.get('max') %} cast('{{ check['max'] }}' as date){% else %} current_date{% endif -%}
        )
    {%- endif -%}
{%- endmacro %}


{#-
    The candidates of every attribute in one long shape, one row per (record, attribute): the
    attribute's columns as text (`value_1`…, in configured order), validity, whether the
    record has a value at all, completeness, the rule's sort keys and the value's comparison
    key. Carrying the values avoids joining the winners back to the records. Only the
    columns of the attribute's rule are filled (`source_rank` or `recency_at`), so one ORDER BY
    ranks every attribute. `candidates` is a relation with `golden_id` and the records' columns;
    `junk_values` one of (`identifier_type`, `identifier_value`) that no check may accept.
-#}
{% macro survivorship_candidates(candidates, junk_values) -%}
    {%- set settings = var('survivorship') -%}
    {%- for name, attribute in survivorship_attributes().items() -%}
        {%- set priority = attribute.get('source_priority', settings['source_priority']) -%}
        {%- set recency_column = attribute.get('recency_column', settings.get('recency_column', 'updated_at')) -%}
        {%- set checks = attribute.get('valid_when', [{'check': 'not_null', 'column': attribute['columns'][0]}]) -%}
        {%- set complete_when = attribute.get('complete_when', attribute['columns']) -%}
        {%- set same_value = attribute.get('same_value', attribute['columns']) %}
    select
        {{ candidates }}.golden_id,
        {{ candidates }}.record_key,
        {{ candidates }}.source_system,
        {{ candidates }}.updated_at as source_updated_at,
        '{{ name }}' as attribute_group,
        '{{ attribute['rule'] }}' as survivorship_rule,
        {% for position in range(survivorship_width()) -%}
        {% if position < attribute['columns'] | length -%}
        cast({{ candidates }}.{{ attribute['columns'][position] }} as {{ dbt.type_string() }})
        {%- else -%}
        cast(null as {{ dbt.type_string() }})
        {%- endif %} as value_{{ position + 1 }},
        {% endfor -%}
        case
            when
                {% for check in checks -%}
                {{ survivorship_check(check, candidates, junk_values) }}{% if not loop.last %} and {% endif %}
                {% endfor %}
                then 1
            else 0
        end as is_valid,
        case
            when
                {% for column in attribute['columns'] -%}
                {{ candidates }}.{{ column }} is not null{% if not loop.last %} or {% endif %}
                {% endfor %}
                then 1
            else 0
        end as has_value,
        {% for column in complete_when -%}
        case when {{ candidates }}.{{ column }} is not null then 1 else 0 end
        {%- if not loop.last %} + {% endif %}
        {%- endfor %} as completeness,
        {% if attribute['rule'] == 'source_priority' -%}
        case {{ candidates }}.source_system
            {% for system in priority -%}
            when '{{ system }}' then {{ loop.index }}
            {% endfor -%}
            else {{ priority | length + 1 }}
        end
        {%- else -%}
        cast(null as {{ dbt.type_int() }})
        {%- endif %} as source_rank,
        {% if attribute['rule'] == 'recency' -%}
        cast({{ candidates }}.{{ recency_column }} as {{ dbt.type_timestamp() }})
        {%- else -%}
        cast(null as {{ dbt.type_timestamp() }})
        {%- endif %} as recency_at,
        {% for column in same_value -%}
        coalesce(cast({{ candidates }}.{{ column }} as {{ dbt.type_string() }}), '')
        {%- if not loop.last %} || '|' || {% endif %}
        {%- endfor %} as value_key
    from {{ candidates }}
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}
{%- endmacro %}


{#-
    The survived values, one row per (golden record, column): `winners` holds one row per
    (golden record, attribute) with the winning record's `value_1`… The columns of an
    attribute come from one record, so an address is never assembled from several.
-#}
{% macro survivorship_values(winners) -%}
    {%- for name, attribute in survivorship_attributes().items() -%}
        {%- set outer = loop -%}
        {%- for column in attribute['columns'] %}
    select
        golden_id,
        '{{ column }}' as attribute,
        attribute_group,
        value_{{ loop.index }} as attribute_value,
        source_system,
        record_key,
        survivorship_rule,
        decided_by,
        candidates_considered,
        valid_candidates,
        agreeing_records,
        source_updated_at
    from {{ winners }}
    where attribute_group = '{{ name }}'
    {% if not (outer.last and loop.last) %}
    union all
    {% endif %}
        {%- endfor -%}
    {%- endfor %}
{%- endmacro %}


{#- One column per survived value, typed as configured, from the long lineage shape. -#}
{% macro survivorship_pivot(lineage) -%}
    {%- for name, attribute in survivorship_attributes().items() -%}
        {%- set outer = loop -%}
        {%- for column in attribute['columns'] %}
        {%- set value = "max(case when " ~ lineage ~ ".attribute = '" ~ column ~ "' then "
            ~ lineage ~ ".attribute_value end)" %}
        {% if attribute.get('data_type') -%}
        cast({{ value }} as {{ attribute['data_type'] }})
        {%- else -%}
        {{ value }}
        {%- endif %} as {{ column }}{% if not (outer.last and loop.last) %},{% endif %}
        {%- endfor -%}
    {%- endfor %}
{%- endmacro %}
