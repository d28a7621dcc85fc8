{#
    Email program performance shared by email_campaigns and email_flows (a program is an ESP
    campaign or flow).

    `email_program_counts` renders the select of one row per program with the counts of the
    events the ESP tagged with it, from the model's `events` (already restricted to tagged
    events) and `metrics` CTEs; `program_id` is the events' program column (esp_campaign_id,
    esp_flow_id). Unsubscribes are only the tagged ones: the marts add those last-touch
    attribution credits to the program.
#}
{% macro email_program_counts(program_id, events='events', metrics='metrics') -%}
    select
        {{ events }}.{{ program_id }},
        count(distinct {{ events }}.esp_profile_id) as profile_count,
        count(case when {{ metrics }}.metric_name = 'Sent Email' then 1 end) as total_sends,
        count(case when {{ metrics }}.metric_name = 'Received Email' then 1 end)
            as total_deliveries,
        count(case when {{ metrics }}.metric_name = 'Bounced Email' then 1 end) as total_bounces,
        {% for bounce_type in ['hard', 'soft'] %}
            count(
                case
                    when
                        {{ metrics }}.metric_name = 'Bounced Email'
                        and {{ events }}.bounce_type = '{{ bounce_type }}'
                        then 1
                end
            ) as total_{{ bounce_type }}_bounces,
        {% endfor %}
        count(case when {{ metrics }}.metric_name = 'Opened Email' then 1 end) as total_opens,
        count(
            distinct case
                when {{ metrics }}.metric_name = 'Opened Email' then {{ events }}.esp_profile_id
            end
        ) as total_unique_opens,
        count(case when {{ metrics }}.metric_name = 'Clicked Email' then 1 end) as total_clicks,
        count(
            distinct case
                when {{ metrics }}.metric_name = 'Clicked Email' then {{ events }}.esp_profile_id
            end
        ) as total_unique_clicks,
        count(case when {{ metrics }}.metric_name = 'Unsubscribed' then 1 end)
            as tagged_unsubscribes,
        count(case when {{ metrics }}.metric_name = 'Marked Email as Spam' then 1 end)
            as total_spam_reports,
        min({{ events }}.event_at) as first_event_at,
        max({{ events }}.event_at) as last_event_at
    from {{ events }}
    inner join {{ metrics }} on {{ events }}.esp_metric_id = {{ metrics }}.esp_metric_id
    group by 1
{%- endmacro %}


{#-
    `email_rates` renders the rate columns of a program row as Klaviyo defines them:
    delivered emails are the denominator, except the bounce rate (sent) and the
    click-to-open rate (unique opens); revenue per recipient is the attributed revenue per
    delivered email. NULL when the denominator is zero.
-#}
{% macro email_rates() -%}
    {{ safe_ratio('total_deliveries', 'total_sends', 4) }} as delivery_rate,
    {{ safe_ratio('total_bounces', 'total_sends', 4) }} as bounce_rate,
    {{ safe_ratio('total_unique_opens', 'total_deliveries', 4) }} as open_rate,
    {{ safe_ratio('total_unique_clicks', 'total_deliveries', 4) }} as click_rate,
    {{ safe_ratio('total_unique_clicks', 'total_unique_opens', 4) }} as click_to_open_rate,
    {{ safe_ratio('total_unsubscribes', 'total_deliveries', 4) }} as unsubscribe_rate,
    {{ safe_ratio('total_spam_reports', 'total_deliveries', 4) }} as spam_complaint_rate,
    {{ safe_ratio('attributed_revenue', 'total_deliveries', 2, 18) }} as revenue_per_recipient
{%- endmacro %}
