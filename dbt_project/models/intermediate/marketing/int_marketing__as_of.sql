{#
    The moment every marketing mart is computed as of: one row. Recency, decay windows,
    tenure and the CLV calibration end are all measured from here, so a rebuild of the same
    data gives the same scores whatever the wall clock says. Set the `marketing_as_of` var
    (an ISO timestamp, UTC) to score as of another moment; by default it is the latest
    activity loaded from the sources (orders, email events, site events, tickets).
#}

{%- set pinned = 'cast(null as timestamp)' -%}
{%- if var('marketing_as_of', none) -%}
    {%- set pinned = "cast('" ~ var('marketing_as_of') ~ "' as timestamp)" -%}
{%- endif %}

with

latest as (

    select max(placed_at) as activity_at from {{ ref('stg_shop__orders') }}
    union all
    select max(event_at) as activity_at from {{ ref('stg_esp__events') }}
    union all
    select max(event_at) as activity_at from {{ ref('stg_web__events') }}
    union all
    select max(created_at) as activity_at from {{ ref('stg_helpdesk__tickets') }}

)

select
    coalesce({{ pinned }}, max(activity_at)) as as_of_at,
    cast(coalesce({{ pinned }}, max(activity_at)) as date) as as_of_date,
    {{ "'var'" if var('marketing_as_of', none) else "'latest_activity'" }} as as_of_source
from latest
