-- Fans who brought others in.
with

referrals as (
    select * from {{ ref('referrals') }}
),

ancestry as (
    select * from {{ ref('int_referral__ancestry') }}
),

referral_rewards as (
    select * from {{ ref('referral_rewards') }}
),

direct as (
    select
        referrer_fan_id as fan_id,
        count(*) as direct_referrals,
        sum(case when is_converted then 1 else 0 end) as converted_referrals,
        sum(attributed_revenue_yuan) as attributed_revenue_yuan,
        min(converted_at) as first_conversion_at
    from referrals
    group by referrer_fan_id
),

downstream as (
    select
        ancestry.ancestor_fan_id as fan_id,
        count(*) as downstream_fans,
        sum(case when referrals.is_converted then 1 else 0 end) as downstream_converted,
        sum(referrals.attributed_revenue_yuan) as downstream_revenue_yuan,
        max(ancestry.distance) as levels_below
    from ancestry
    inner join referrals
        on ancestry.fan_id = referrals.referee_fan_id
    group by ancestry.ancestor_fan_id
),

earned as (
    select
        beneficiary_fan_id as fan_id,
        sum(reward_yuan) as rewards_earned_yuan
    from referral_rewards
    where beneficiary_role = 'referrer'
    group by beneficiary_fan_id
),

final as (
    select
        direct.fan_id,
        direct.direct_referrals,
        direct.converted_referrals,
        direct.attributed_revenue_yuan,
        direct.first_conversion_at,
        downstream.downstream_fans,
        downstream.downstream_converted,
        downstream.downstream_revenue_yuan,
        downstream.levels_below,
        coalesce(earned.rewards_earned_yuan, 0) as rewards_earned_yuan,
        rank() over (
            order by
                direct.converted_referrals desc, downstream.downstream_fans desc,
                direct.attributed_revenue_yuan desc
        ) as advocate_rank
    from direct
    inner join downstream
        on direct.fan_id = downstream.fan_id
    left join earned
        on direct.fan_id = earned.fan_id
)

select * from final
