-- One row per fan with everything a marketer may select on.
with

fans as (
    select * from {{ ref('fans') }}
),

fan_engagement as (
    select * from {{ ref('fan_engagement') }}
),

fan_rfm as (
    select * from {{ ref('fan_rfm') }}
),

fan_trust as (
    select * from {{ ref('fan_trust') }}
),

fan_lifecycle as (
    select * from {{ ref('fan_lifecycle') }}
),

referral_advocates as (
    select * from {{ ref('referral_advocates') }}
),

final as (
    select
        fans.fan_id,

        -- contact data (personal)
        fans.phone,
        fans.email,
        fans.wechat_openid,

        -- profile
        fans.gender,
        fans.city,
        fans.card_level,

        -- silos
        fans.is_member,
        fans.is_wechat_follower,
        fans.is_weibo_follower,
        fans.is_social_follower,
        fans.is_online_buyer,
        fans.is_offline_buyer,
        fans.silo_count,

        -- consent
        fans.is_sms_contactable,
        fans.is_email_contactable,
        fans.is_wechat_contactable,

        -- lifecycle
        fan_lifecycle.ladder_rung,
        fan_lifecycle.ladder_level,
        fan_lifecycle.community_step,

        -- engagement
        fan_engagement.engagement_score,
        fan_engagement.engagement_tier,
        fan_engagement.interactions_30d,
        fan_engagement.interactions_90d,
        fan_engagement.days_since_last_interaction,

        -- purchases
        fan_rfm.purchase_count,
        fan_rfm.net_spend_yuan,
        fan_rfm.days_since_last_purchase,
        fan_rfm.r_score,
        fan_rfm.f_score,
        fan_rfm.m_score,
        fan_rfm.rfm_segment,

        -- trust
        fan_trust.trust_score,
        fan_trust.trust_tier,
        fan_trust.is_suspected_fake,

        -- referral
        coalesce(referral_advocates.direct_referrals, 0) as direct_referrals,
        coalesce(referral_advocates.converted_referrals, 0) as converted_referrals,
        referral_advocates.advocate_rank
    from fans
    inner join fan_engagement
        on fans.fan_id = fan_engagement.fan_id
    inner join fan_rfm
        on fans.fan_id = fan_rfm.fan_id
    inner join fan_trust
        on fans.fan_id = fan_trust.fan_id
    inner join fan_lifecycle
        on fans.fan_id = fan_lifecycle.fan_id
    left join referral_advocates
        on fans.fan_id = referral_advocates.fan_id
)

select * from final
