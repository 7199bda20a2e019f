-- Everything fan_360, fan_trust and fan_lifecycle show that does not move with the reporting
-- day, one row per fan: the profile and consent, the stable components of the engagement and
-- trust scores, the ladder's dates and rung, purchases and referrals. Kept by fan: a daily build
-- rebuilds the fans whose rows changed since the last one in fans, int_engagement__activity or
-- int_engagement__purchases, those gone from fans, and those whose follower signals or referral
-- figures differ from the ones kept (both are computed over every fan). The three marts are
-- views over it that add what moves with the day (macros/scores.sql).
{%- set cfg = var('trust') %}
{%- set suspicion = cfg['suspicion_weights'] %}
{{ config(
    meta={'publish_key': 'fan_id', 'changed_at': 'refreshed_at'},
    materialized=kept_by_key(),
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_touched_fans(changed_profiles(watermark('refreshed_at'))) }}",
) }}
with

{% if is_incremental() %}
touched as (
    select fan_id from {{ touched_fans_table() }}
),
{% endif %}

fans as (
    select * from {{ ref('fans') }}
    {% if is_incremental() %}
    where fan_id in (select touched.fan_id from touched)
    {% endif %}
),

activity as (
    select * from {{ ref('int_engagement__activity') }}
),

purchases as (
    select * from {{ ref('int_engagement__purchases') }}
),

follower_signals as (
    select * from {{ ref('int_trust__follower_signals') }}
),

referral_advocates as (
    select * from {{ ref('referral_advocates') }}
),

joined as (
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
        fans.first_seen_at,

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

        -- interactions
        activity.interactions_30d,
        activity.interactions_90d,
        activity.interactions_total,
        activity.weighted_interactions_90d,
        activity.active_days_90d,
        activity.comments_90d + activity.shares_90d + activity.messages_90d as active_interactions_90d,
        activity.messages_total,
        activity.replied_messages_total,
        activity.complaints_total,
        activity.last_interaction_at,

        -- purchases
        purchases.order_count,
        purchases.refunded_order_count,
        purchases.purchase_count,
        purchases.net_spend_yuan,
        purchases.last_purchase_at,
        purchases.r_score,
        purchases.f_score,
        purchases.m_score,
        purchases.rfm_segment,

        -- follower signals
        follower_signals.fan_id is not null as has_follower_signals,
        coalesce(follower_signals.is_bulk_subscriber, false) as is_bulk_subscriber,
        coalesce(follower_signals.has_default_profile, false) as has_default_profile,

        -- referrals
        referral_advocates.fan_id is not null as is_advocate,
        coalesce(referral_advocates.direct_referrals, 0) as direct_referrals,
        coalesce(referral_advocates.converted_referrals, 0) as converted_referrals,
        referral_advocates.advocate_rank,

        -- the ladder's dates
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
        referral_advocates.first_conversion_at as friend_at
    from fans
    inner join activity
        on fans.fan_id = activity.fan_id
    inner join purchases
        on fans.fan_id = purchases.fan_id
    left join follower_signals
        on fans.fan_id = follower_signals.fan_id
    left join referral_advocates
        on fans.fan_id = referral_advocates.fan_id
),

signals as (
    select
        *,
        (
            case when is_wechat_contactable then 1 else 0 end
            + case when is_sms_contactable then 1 else 0 end
            + case when is_email_contactable then 1 else 0 end
        ) as contactable_channels,
        has_follower_signals and interactions_total = 0 and purchase_count = 0 as has_never_interacted
    from joined
),

components as (
    select
        *,

        -- engagement components that do not move with the day
        {{ interactions_component('weighted_interactions_90d') }} as interactions_component,
        {{ active_days_component('active_days_90d') }} as active_days_component,
        {{ purchases_component('r_score', 'f_score', 'm_score') }} as purchases_component,

        -- trust components that do not move with the day (tenure does: fan_trust)
        100.0 * least(1.0, cast(interactions_90d as double) / 3 / {{ cfg['monthly_interactions_cap'] }})
            as frequency_component,
        case when messages_total > 0 then 100.0 * cast(replied_messages_total as double) / messages_total else 0 end
            as reciprocity_component,
        100.0 * least(1.0, cast(greatest(0, purchase_count - 1) as double) / {{ cfg['repeat_purchases_cap'] }})
            as repeat_purchase_component,
        case when order_count > 0 then cast(refunded_order_count as double) / order_count else 0 end as refund_rate,
        100.0 * cast(contactable_channels as double) / 3 as permission_score,
        least(
            100.0,
            case when order_count > 0 then 100.0 * cast(refunded_order_count as double) / order_count else 0 end
            + {{ cfg['complaint_penalty'] }} * complaints_total
        ) as perceived_risk_score,
        (
            case when is_bulk_subscriber then {{ suspicion['bulk_subscribe'] }} else 0 end
            + case when has_never_interacted then {{ suspicion['never_interacted'] }} else 0 end
            + case when has_default_profile then {{ suspicion['default_profile'] }} else 0 end
        ) as suspicion_score,

        -- the ladder
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
        end as ladder_level
    from signals
),

final as (
    select
        *,
        suspicion_score >= {{ cfg['suspected_fake_at'] }} as is_suspected_fake,
        {{ run_started() }} as refreshed_at
    from components
)

select * from final
