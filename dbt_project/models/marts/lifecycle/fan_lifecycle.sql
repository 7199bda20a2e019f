-- Each fan's rung on the ladder customer -> user -> fan -> friend, and the community steps.
{%- set cfg = var('lifecycle') %}
with

fans as (
    select * from {{ ref('fans') }}
),

purchases as (
    select * from {{ ref('int_engagement__purchases') }}
),

activity as (
    select * from {{ ref('int_engagement__activity') }}
),

fan_trust as (
    select * from {{ ref('fan_trust') }}
),

referral_advocates as (
    select * from {{ ref('referral_advocates') }}
),

reached as (
    select
        fans.fan_id,
        purchases.first_purchase_at as customer_at,
        case
            when fans.member_since is null then purchases.second_purchase_at
            when purchases.second_purchase_at is null then fans.member_since
            else least(fans.member_since, purchases.second_purchase_at)
        end as user_at,
        case
            when fans.first_followed_at is not null and activity.first_interaction_at is not null
                then greatest(fans.first_followed_at, activity.first_interaction_at)
        end as fan_at,
        referral_advocates.first_conversion_at as friend_at,
        coalesce(referral_advocates.direct_referrals, 0) as direct_referrals,
        fans.is_social_follower,
        purchases.purchase_count,
        activity.comments_90d + activity.shares_90d + activity.messages_90d
            as active_interactions_90d,
        activity.active_days_90d,
        fan_trust.trust_score
    from fans
    inner join purchases
        on fans.fan_id = purchases.fan_id
    inner join activity
        on fans.fan_id = activity.fan_id
    inner join fan_trust
        on fans.fan_id = fan_trust.fan_id
    left join referral_advocates
        on fans.fan_id = referral_advocates.fan_id
),

final as (
    select
        fan_id,
        case
            when friend_at is not null then 'friend'
            when fan_at is not null then 'fan'
            when user_at is not null then 'user'
            when customer_at is not null then 'customer'
            else 'prospect'
        end as ladder_rung,
        case
            when friend_at is not null then 4
            when fan_at is not null then 3
            when user_at is not null then 2
            when customer_at is not null then 1
            else 0
        end as ladder_level,
        customer_at,
        user_at,
        fan_at,
        friend_at,
        case
            when direct_referrals > 0 then 'fan platform'
            when
                trust_score >= {{ cfg['community_min_trust'] }}
                and active_days_90d >= {{ cfg['community_min_active_days'] }} then 'community'
            when active_interactions_90d > 0 or (is_social_follower and purchase_count > 0) then 'quasi-group'
            else 'individual'
        end as community_step
    from reached
)

select * from final
