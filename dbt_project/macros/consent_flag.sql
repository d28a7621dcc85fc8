{% macro consent_flag(column) -%}
    {#- A CMP decision as a boolean; anything but granted/denied stays unknown (null). -#}
    case
        when {{ column }} = 'granted' then true
        when {{ column }} = 'denied' then false
    end
{%- endmacro %}
