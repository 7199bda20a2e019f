-- Each fan's own interactions by channel and type over 7, 30 and 90 days and in total.
with

interactions as (
    select * from {{ ref('interactions') }}
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
        max(event_at) as last_interaction_at
    from events
    group by fan_id, platform, event_type
)

select * from final
