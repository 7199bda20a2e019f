-- The trust index per fan, with every component as a column.
{%- set cfg = var('trust') %}
{%- set weights = cfg['weights'] %}
{%- set suspicion = cfg['suspicion_weights'] %}
with

fans as (
    select * from {{ ref('fans') }}
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

as_of as (
    select * from {{ ref('int_calendar__as_of') }}
),

signals as (
    select
        fans.fan_id,
        greatest(0, {{ dbt.datediff('cast(fans.first_seen_at as date)', 'as_of.as_of_date', 'day') }}) as tenure_days,
        activity.interactions_90d,
        activity.messages_total,
        activity.replied_messages_total,
        activity.complaints_total,
        purchases.purchase_count,
        purchases.order_count,
        purchases.refunded_order_count,
        (
            case when fans.is_wechat_contactable then 1 else 0 end
            + case when fans.is_sms_contactable then 1 else 0 end
            + case when fans.is_email_contactable then 1 else 0 end
        ) as contactable_channels,
        coalesce(follower_signals.is_bulk_subscriber, false) as is_bulk_subscriber,
        follower_signals.fan_id is not null
        and activity.interactions_total = 0 and purchases.purchase_count = 0 as has_never_interacted,
        coalesce(follower_signals.has_default_profile, false) as has_default_profile
    from fans
    cross join as_of
    inner join activity
        on fans.fan_id = activity.fan_id
    inner join purchases
        on fans.fan_id = purchases.fan_id
    left join follower_signals
        on fans.fan_id = follower_signals.fan_id
),

components as (
    select
        *,
        100.0 * least(1.0, cast(tenure_days as double) / {{ cfg['tenure_days_cap'] }}) as tenure_component,
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
        ) as suspicion_score
    from signals
),

strength as (
    select
        *,
        (tenure_component + frequency_component + reciprocity_component + repeat_purchase_component) / 4
            as relationship_strength
    from components
),

scored as (
    select
        *,
        round(
            {{ weights['relationship'] }} * relationship_strength
            + {{ weights['permission'] }} * permission_score
            + {{ weights['risk'] }} * (100 - perceived_risk_score)
            + {{ weights['suspicion'] }} * (100 - suspicion_score),
            1
        ) as trust_score,
        suspicion_score >= {{ cfg['suspected_fake_at'] }} as is_suspected_fake
    from strength
),

final as (
    select
        *,
        case
            when trust_score >= {{ cfg['tiers']['high'] }} then 'high'
            when trust_score >= {{ cfg['tiers']['medium'] }} then 'medium'
            else 'low'
        end as trust_tier
    from scored
)

select * from final
