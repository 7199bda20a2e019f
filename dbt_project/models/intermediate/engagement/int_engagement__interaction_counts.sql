-- Each fan's own interactions by channel and type over 7, 30 and 90 days and in total, up to the
-- reporting day. Kept by fan: a daily build rebuilds the fans touched since the last one and
-- those with an event that crossed a window's edge as the reporting day moved
-- (interaction_edge_fans); fan_interaction_counts is a view over it. Rebuilt whole every day, it
-- wrote 1.8M rows at 1M people.
-- depends_on: {{ ref('int_identity__fan_assignments') }} {{ ref('int_privacy__erased_records') }}
-- depends_on: {{ ref('orders') }}
{{ config(
    meta={'publish_key': 'fan_id', 'changed_at': 'refreshed_at'},
    materialized=kept_by_key(),
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_touched_fans(touched_fans(watermark('refreshed_at')) ~ ' union ' ~ interaction_edge_fans()) }}",
    post_hook="{{ record_reporting_day() }}",
) }}
with

{% if is_incremental() %}
touched as (
    select fan_id from {{ touched_fans_table() }}
),
{% endif %}

interactions as {{ selected_first() }} (
    select * from {{ ref('interactions') }}
    {% if is_incremental() %}
    where fan_id in (select touched.fan_id from touched)
    {% endif %}
),

as_of as (
    select * from {{ ref('int_calendar__as_of') }}
),

events as (
    select
        interactions.fan_id,
        interactions.platform,
        interactions.event_type,
        interactions.event_at,
        {{ days_since('interactions.event_at') }} as days_ago
    from interactions
    cross join as_of
    where
        interactions.fan_id is not null
        and not interactions.is_brand_reply
        and cast(interactions.event_at as date) <= as_of.as_of_date
),

final as (
    select
        fan_id,
        platform,
        event_type,
        sum(case when days_ago < 7 then 1 else 0 end) as interactions_7d,
        sum(case when days_ago < 30 then 1 else 0 end) as interactions_30d,
        sum(case when days_ago < 90 then 1 else 0 end) as interactions_90d,
        count(*) as interactions_total,
        max(event_at) as last_interaction_at,
        {{ run_started() }} as refreshed_at
    from events
    group by fan_id, platform, event_type
)

select * from final
