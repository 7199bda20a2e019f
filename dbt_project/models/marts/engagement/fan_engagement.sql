-- Engagement per fan: int_engagement__activity, kept by fan, with what moves with the reporting
-- day computed here (a view: a new day rewrites nothing): the days since the last interaction,
-- the components and the engagement score.
{%- set cfg = var('engagement') %}
{%- set event_weights = cfg['event_weights'] %}
{%- set weights = cfg['weights'] %}
{{ config(materialized=view_or_table(), meta={'changed_at': 'refreshed_at'}) }}
with

kept as (
    select * from {{ ref('int_engagement__activity') }}
),

purchases as (
    select * from {{ ref('int_engagement__purchases') }}
),

as_of as (
    select * from {{ ref('int_calendar__as_of') }}
),

activity as (
    select
        kept.*,
        {{ dbt.datediff('cast(kept.last_interaction_at as date)', 'as_of.as_of_date', 'day') }}
            as days_since_last_interaction
    from kept
    cross join as_of
),

components as (
    select
        activity.fan_id,
        activity.interactions_7d,
        activity.interactions_30d,
        activity.interactions_90d,
        activity.interactions_total,
        activity.wechat_interactions_90d,
        activity.weibo_interactions_90d,
        {%- for event_type in event_weights %}
        activity.{{ event_type }}s_90d,
        {%- endfor %}
        activity.complaints_total,
        activity.weighted_interactions_90d,
        activity.active_days_30d,
        activity.active_days_90d,
        activity.two_way_interactions_90d,
        activity.messages_total,
        activity.replied_messages_total,
        activity.first_interaction_at,
        activity.last_interaction_at,
        activity.days_since_last_interaction,
        purchases.r_score,
        purchases.f_score,
        purchases.m_score,
        100.0 * least(
            1.0,
            ln(1 + activity.weighted_interactions_90d) / ln(1 + {{ cfg['weighted_interactions_cap'] }})
        ) as interactions_component,
        coalesce(100.0 * greatest(0.0, 1 - cast(activity.days_since_last_interaction as double) / 90), 0)
            as recency_component,
        100.0 * least(1.0, cast(activity.active_days_90d as double) / {{ cfg['active_days_cap'] }})
            as active_days_component,
        coalesce(100.0 * cast(purchases.r_score + purchases.f_score + purchases.m_score - 3 as double) / 12, 0)
            as purchases_component,
        greatest(activity.refreshed_at, purchases.refreshed_at) as refreshed_at
    from activity
    left join purchases
        on activity.fan_id = purchases.fan_id
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
        fan_id,
        interactions_7d,
        interactions_30d,
        interactions_90d,
        interactions_total,
        wechat_interactions_90d,
        weibo_interactions_90d,
        {%- for event_type in event_weights %}
        {{ event_type }}s_90d,
        {%- endfor %}
        complaints_total,
        weighted_interactions_90d,
        active_days_30d,
        active_days_90d,
        two_way_interactions_90d,
        messages_total,
        replied_messages_total,
        first_interaction_at,
        last_interaction_at,
        days_since_last_interaction,
        r_score,
        f_score,
        m_score,
        interactions_component,
        recency_component,
        active_days_component,
        purchases_component,
        engagement_score,
        case
            when engagement_score >= {{ cfg['tiers']['high'] }} then 'high'
            when engagement_score >= {{ cfg['tiers']['medium'] }} then 'medium'
            when engagement_score > 0 then 'low'
            else 'dormant'
        end as engagement_tier,
        refreshed_at
    from scored
)

select * from final
