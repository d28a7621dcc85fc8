{#
    Whether a seeded fit rule (seeds lead_fit_rules, account_fit_rules) matches an attribute.
    `rule` is the alias of the rule row; the attribute is given as text (`text_value`,
    compared lower-cased) and as a number (`number_value`); one of them is NULL. Match types:
    equals, like (a SQL LIKE pattern), range (min_value <= number < max_value, an empty bound
    is open), present (the attribute has a value), missing (it has none). An unknown match
    type never matches.
#}
{% macro fit_rule_matches(rule, text_value, number_value) -%}
    case {{ rule }}.match_type
        when 'equals' then lower({{ text_value }}) = lower({{ rule }}.match_value)
        when 'like' then lower({{ text_value }}) like lower({{ rule }}.match_value)
        when 'range'
            then
                {{ number_value }} >= coalesce({{ rule }}.min_value, {{ number_value }})
                and (
                    {{ rule }}.max_value is null
                    or {{ number_value }} < {{ rule }}.max_value
                )
        when 'present' then {{ text_value }} is not null or {{ number_value }} is not null
        when 'missing' then {{ text_value }} is null and {{ number_value }} is null
        else false
    end
{%- endmacro %}


{#-
    Fit points per scored entity: the select of one row per `key` with the points of the
    first matching rule of each rule group (by rule_order, then rule_id) summed, and the
    matched rule IDs listed. `attributes` is the relation of (`key`, attribute_name,
    text_value, number_value) rows, `rules` the seeded fit rules.
-#}
{% macro fit_rule_points(attributes, rules, key) -%}
    select
        {{ key }},
        sum(points) as fit_points,
        {{ dbt.listagg('rule_id', "','", 'order by rule_id') }} as fit_rules_matched
    from (
        select
            {{ attributes }}.{{ key }},
            {{ rules }}.rule_id,
            {{ rules }}.points,
            row_number() over (
                partition by {{ attributes }}.{{ key }}, {{ rules }}.rule_group
                order by {{ rules }}.rule_order, {{ rules }}.rule_id
            ) as match_rank
        from {{ attributes }}
        inner join {{ rules }}
            on
                {{ attributes }}.attribute_name = {{ rules }}.attribute
                and {{ fit_rule_matches(
                    rules, attributes ~ '.text_value', attributes ~ '.number_value'
                ) }}
    ) as fit_matches
    where match_rank = 1
    group by 1
{%- endmacro %}
