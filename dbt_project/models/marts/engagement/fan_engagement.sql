-- Engagement per fan: windowed counts, recency, active days and the engagement score.
{%- set cfg = var('engagement') %}
{%- set event_weights = cfg['event_weights'] %}
{%- set weights = cfg['weights'] %}
with

fans as (
    select * from {{ ref('fans') }}
),

interactions as (
    select * from {{ ref('interactions') }}
),

fan_rfm as (
    select * from {{ ref('fan_rfm') }}
),

as_of as (
    select * from {{ ref('int_calendar__as_of') }}
),

events as (
    select
        interactions.*,
        {{ dbt.datediff('cast(interactions.event_at as date)', 'as_of.as_of_date', 'day') }} as days_ago  -- noqa: LT05
    from interactions
    cross join as_of
    where
        interactions.fan_id is not null
        and cast(interactions.event_at as date) <= as_of.as_of_date
),

replied as (
    select distinct reply_to_event_id as event_id
    from events
    where is_brand_reply
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
        max(event_at) as last_interaction_at,
        min(days_ago) as days_since_last_interaction
    from fan_events
    group by fan_id
),

components as (
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
        activity.days_since_last_interaction,
        fan_rfm.r_score,
        fan_rfm.f_score,
        fan_rfm.m_score,
        100.0 * least(
            1.0,
            ln(1 + coalesce(activity.weighted_interactions_90d, 0)) / ln(1 + {{ cfg['weighted_interactions_cap'] }})
        ) as interactions_component,
        coalesce(100.0 * greatest(0.0, 1 - cast(activity.days_since_last_interaction as double) / 90), 0)
            as recency_component,
        100.0 * least(1.0, cast(coalesce(active_days.active_days_90d, 0) as double) / {{ cfg['active_days_cap'] }})
            as active_days_component,
        coalesce(100.0 * cast(fan_rfm.r_score + fan_rfm.f_score + fan_rfm.m_score - 3 as double) / 12, 0)
            as purchases_component
    from fans
    left join activity
        on fans.fan_id = activity.fan_id
    left join active_days
        on fans.fan_id = active_days.fan_id
    left join fan_rfm
        on fans.fan_id = fan_rfm.fan_id
),

scored as (
    select
        *,
        round(
            {{ weights['interactions'] }} * interactions_component
            + {{ weights['recency'] }} * recency_component
            + {{ weights['active_days'] }} * active_days_component
            + {{ weights['purchases'] }} * purchases_component,
            1
        ) as engagement_score
    from components
),

final as (
    select
        *,
        case
            when engagement_score >= {{ cfg['tiers']['high'] }} then 'high'
            when engagement_score >= {{ cfg['tiers']['medium'] }} then 'medium'
            when engagement_score > 0 then 'low'
            else 'dormant'
        end as engagement_tier
    from scored
)

select * from final
