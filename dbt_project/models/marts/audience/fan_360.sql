-- One row per fan with everything a marketer may select on: int_audience__profile, kept by fan,
-- with what moves with the reporting day computed here as fan_engagement, fan_rfm, fan_trust and
-- fan_lifecycle compute it (macros/scores.sql), from this one table (a view: a new day rewrites
-- nothing, and a segment's query reads one table, no joins).
{{ config(materialized=view_or_table(), meta={'changed_at': 'refreshed_at'}) }}
with

profile as (
    select * from {{ ref('int_audience__profile') }}
),

as_of as (
    select * from {{ ref('int_calendar__as_of') }}
),

dated as (
    select
        profile.*,
        {{ days_since('profile.last_interaction_at') }}
            as days_since_last_interaction,
        {{ days_since('profile.last_purchase_at') }}
            as days_since_last_purchase,
        {{ profile_trust_score('profile', 'as_of.as_of_date') }} as trust_score
    from profile
    cross join as_of
),

scored as (
    select
        *,
        {{ engagement_score(
            'interactions_component', recency_component('days_since_last_interaction'), 'active_days_component',
            'purchases_component'
        ) }} as engagement_score
    from dated
),

final as (
    select
        fan_id,

        -- contact data (personal)
        phone,
        email,
        wechat_openid,

        -- profile
        gender,
        city,
        card_level,

        -- silos
        is_member,
        is_wechat_follower,
        is_weibo_follower,
        is_social_follower,
        is_online_buyer,
        is_offline_buyer,
        silo_count,

        -- consent
        is_sms_contactable,
        is_email_contactable,
        is_wechat_contactable,

        -- lifecycle
        ladder_rung,
        ladder_level,
        {{ community_step(
            'direct_referrals', 'trust_score', 'active_days_90d', 'active_interactions_90d', 'is_social_follower',
            'purchase_count'
        ) }} as community_step,

        -- engagement
        engagement_score,
        {{ engagement_tier('engagement_score') }} as engagement_tier,
        interactions_30d,
        interactions_90d,
        days_since_last_interaction,

        -- purchases
        purchase_count,
        net_spend_yuan,
        days_since_last_purchase,
        r_score,
        f_score,
        m_score,
        rfm_segment,

        -- trust
        trust_score,
        {{ trust_tier('trust_score') }} as trust_tier,
        is_suspected_fake,

        -- referral
        direct_referrals,
        converted_referrals,
        advocate_rank,

        refreshed_at
    from scored
)

select * from final
