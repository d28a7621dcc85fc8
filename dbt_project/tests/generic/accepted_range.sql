{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
{#- Fails with the rows whose value lies outside the range (the dbt-utils test of the same
    name); NULLs pass, as in dbt-utils: pair it with not_null where a value is required. -#}
select {{ column_name }}
from {{ model }}
where
    1 = 2
    {%- if min_value is not none %}
        or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
    {%- endif %}
    {%- if max_value is not none %}
        or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
    {%- endif %}
{% endtest %}
