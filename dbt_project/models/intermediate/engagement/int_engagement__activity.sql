-- Each fan's own interactions up to the reporting day: counts in the 7/30/90-day windows,
-- totals, active days, first and last. Kept by fan: a daily build rebuilds the fans touched
-- since the last one and those with an event that crossed a window's edge as the reporting day
-- moved (crossed_window_edges); fan_engagement adds what moves with the day.
-- depends_on: {{ ref('int_identity__fan_assignments') }} {{ ref('int_privacy__erased_records') }}
-- depends_on: {{ ref('orders') }}
{%- set event_weights = var('engagement')['event_weights'] %}
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

fans as (
    select fan_id from {{ ref('fans') }}
    {% if is_incremental() %}
    where fan_id in (select touched.fan_id from touched)
    {% endif %}
),

own_interactions as {{ selected_first() }} (
    -- a daily build's fans; the brand's replies below are read from every interaction
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
        own_interactions.*,
        {{ days_since('own_interactions.event_at') }} as days_ago
    from own_interactions
    cross join as_of
    where
        own_interactions.fan_id is not null
        and cast(own_interactions.event_at as date) <= as_of.as_of_date
),

replied as (
    select distinct interactions.reply_to_event_id as event_id
    from {{ ref('interactions') }} as interactions
    cross join as_of
    where
        interactions.is_brand_reply
        and interactions.fan_id is not null
        and cast(interactions.event_at as date) <= as_of.as_of_date
),

fan_events as (
    select
        events.*,
        replied.event_id is not null as was_replied,
        case events.event_type
            {%- for event_type, weight in event_weights.items() %}
            when '{{ event_type }}' then {{ weight }}
            {%- endfor %}
            else 0
        end as event_weight
    from events
    left join replied
        on events.event_id = replied.event_id
    where not events.is_brand_reply
),

active_days as (
    -- days with an interaction in the windows: one row per fan and day, then counted (cheaper
    -- than a count(distinct) per window over every event)
    select
        fan_id,
        count(case when days_ago < 30 then 1 end) as active_days_30d,
        count(*) as active_days_90d
    from (
        select distinct
            fan_id,
            days_ago
        from fan_events
        where days_ago < 90
    ) as fan_days
    group by fan_id
),

activity as (
    select
        fan_id,
        sum(case when days_ago < 7 then 1 else 0 end) as interactions_7d,
        sum(case when days_ago < 30 then 1 else 0 end) as interactions_30d,
        sum(case when days_ago < 90 then 1 else 0 end) as interactions_90d,
        count(*) as interactions_total,
        sum(case when days_ago < 90 and platform = 'wechat' then 1 else 0 end) as wechat_interactions_90d,
        sum(case when days_ago < 90 and platform = 'weibo' then 1 else 0 end) as weibo_interactions_90d,
        {%- for event_type in event_weights %}
        sum(case when days_ago < 90 and event_type = '{{ event_type }}' then 1 else 0 end) as {{ event_type }}s_90d,
        {%- endfor %}
        sum(case when event_type = 'complaint' then 1 else 0 end) as complaints_total,
        sum(case when days_ago < 90 then event_weight else 0 end) as weighted_interactions_90d,
        sum(case when days_ago < 90 and event_type = 'message' and was_replied then 1 else 0 end)
            as two_way_interactions_90d,
        sum(case when event_type = 'message' then 1 else 0 end) as messages_total,
        sum(case when event_type = 'message' and was_replied then 1 else 0 end) as replied_messages_total,
        min(event_at) as first_interaction_at,
        max(event_at) as last_interaction_at
    from fan_events
    group by fan_id
),

final as (
    select
        fans.fan_id,
        coalesce(activity.interactions_7d, 0) as interactions_7d,
        coalesce(activity.interactions_30d, 0) as interactions_30d,
        coalesce(activity.interactions_90d, 0) as interactions_90d,
        coalesce(activity.interactions_total, 0) as interactions_total,
        coalesce(activity.wechat_interactions_90d, 0) as wechat_interactions_90d,
        coalesce(activity.weibo_interactions_90d, 0) as weibo_interactions_90d,
        {%- for event_type in event_weights %}
        coalesce(activity.{{ event_type }}s_90d, 0) as {{ event_type }}s_90d,
        {%- endfor %}
        coalesce(activity.complaints_total, 0) as complaints_total,
        coalesce(activity.weighted_interactions_90d, 0) as weighted_interactions_90d,
        coalesce(active_days.active_days_30d, 0) as active_days_30d,
        coalesce(active_days.active_days_90d, 0) as active_days_90d,
        coalesce(activity.two_way_interactions_90d, 0) as two_way_interactions_90d,
        coalesce(activity.messages_total, 0) as messages_total,
        coalesce(activity.replied_messages_total, 0) as replied_messages_total,
        activity.first_interaction_at,
        activity.last_interaction_at,
        {{ run_started() }} as refreshed_at
    from fans
    left join activity
        on fans.fan_id = activity.fan_id
    left join active_days
        on fans.fan_id = active_days.fan_id
)

select * from final
