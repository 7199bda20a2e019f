-- Per campaign: signals, exclusions, referrals, conversions, revenue and the K-factor.
with

referral_edges as (
    select * from {{ ref('referral_edges') }}
),

referrals as (
    select * from {{ ref('referrals') }}
),

signals as (
    select
        coalesce(campaign, channel) as campaign,
        channel,
        count(*) as signals,
        sum(case when exclusion_reason = 'self referral' then 1 else 0 end) as self_referrals,
        sum(case when exclusion_reason = 'referral loop' then 1 else 0 end) as loop_referrals,
        sum(case when exclusion_reason = 'unresolved referrer' then 1 else 0 end) as unresolved_referrals,
        sum(case when exclusion_reason = 'earlier referral' then 1 else 0 end) as repeat_signals
    from referral_edges
    group by 1, 2
),

credited as (
    select
        campaign,
        channel,
        count(*) as referrals,
        count(distinct referrer_fan_id) as referrers,
        sum(case when is_converted then 1 else 0 end) as converted_referrals,
        sum(attributed_revenue_yuan) as attributed_revenue_yuan,
        min(referred_at) as first_referred_at,
        max(referred_at) as last_referred_at
    from referrals
    group by 1, 2
),

final as (
    select
        signals.campaign,
        signals.channel,
        signals.signals,
        signals.self_referrals,
        signals.loop_referrals,
        signals.unresolved_referrals,
        signals.repeat_signals,
        coalesce(credited.referrals, 0) as referrals,
        coalesce(credited.referrers, 0) as referrers,
        coalesce(credited.converted_referrals, 0) as converted_referrals,
        case when credited.referrals > 0 then cast(credited.converted_referrals as double) / credited.referrals end
            as conversion_rate,
        coalesce(credited.attributed_revenue_yuan, 0) as attributed_revenue_yuan,
        case when credited.referrers > 0 then cast(credited.converted_referrals as double) / credited.referrers end
            as k_factor,
        credited.first_referred_at,
        credited.last_referred_at
    from signals
    left join credited
        on
            signals.campaign = credited.campaign
            and signals.channel = credited.channel
)

select * from final
