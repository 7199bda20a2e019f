-- Engagement per fan: int_engagement__activity, kept by fan, with what moves with the reporting
-- day computed here (a view: a new day rewrites nothing): the days since the last interaction,
-- the components and the engagement score.
{%- set cfg = var('engagement') %}
{%- set event_weights = cfg['event_weights'] %}
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
        {{ days_since('kept.last_interaction_at') }}
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
        {{ interactions_component('activity.weighted_interactions_90d') }} as interactions_component,
        {{ recency_component('activity.days_since_last_interaction') }} as recency_component,
        {{ active_days_component('activity.active_days_90d') }} as active_days_component,
        {{ purchases_component('purchases.r_score', 'purchases.f_score', 'purchases.m_score') }} as purchases_component,
        greatest(activity.refreshed_at, purchases.refreshed_at) as refreshed_at
    from activity
    left join purchases
        on activity.fan_id = purchases.fan_id
),

scored as (
    select
        *,
        {{ engagement_score(
            'interactions_component', 'recency_component', 'active_days_component', 'purchases_component'
        ) }} as engagement_score
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
        {{ engagement_tier('engagement_score') }} as engagement_tier,
        refreshed_at
    from scored
)

select * from final
