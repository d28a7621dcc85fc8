{#
    Exact schema names: a model configured with `+schema: staging` lands in `staging`, not in
    `<target schema>_staging`. Every target shares the warehouse layout (raw_<role>, staging,
    intermediate, marts), so dev/CI isolation comes from a separate warehouse file or database,
    never from schema prefixes.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
