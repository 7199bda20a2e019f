-- Each fan's rung on the ladder customer -> user -> fan -> friend, and the community steps: the
-- rung and its dates kept by fan in int_audience__profile, the community step computed here
-- from the trust score, which moves with the reporting day (a view: a new day rewrites nothing).
{{ config(materialized=view_or_table(), meta={'changed_at': 'refreshed_at'}) }}
with

profile as (
    select * from {{ ref('int_audience__profile') }}
),

as_of as (
    select * from {{ ref('int_calendar__as_of') }}
),

trust as (
    select
        profile.*,
        {{ profile_trust_score('profile', 'as_of.as_of_date') }} as trust_score
    from profile
    cross join as_of
),

final as (
    select
        fan_id,
        ladder_rung,
        ladder_level,
        customer_at,
        user_at,
        fan_at,
        friend_at,
        {{ community_step(
            'direct_referrals', 'trust_score', 'active_days_90d', 'active_interactions_90d', 'is_social_follower',
            'purchase_count'
        ) }} as community_step,
        refreshed_at
    from trust
)

select * from final
