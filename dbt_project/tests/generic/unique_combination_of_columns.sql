{% test unique_combination_of_columns(model, combination_of_columns) %}
{#- Fails with one row per duplicated combination (the dbt-utils test of the same name). -#}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_records
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
