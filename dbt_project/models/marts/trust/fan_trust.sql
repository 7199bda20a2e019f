-- The trust index per fan, with every component as a column: the components kept by fan in
-- int_audience__profile, and the tenure, which moves with the reporting day, with the score it
-- enters computed here (a view: a new day rewrites nothing).
{{ config(materialized=view_or_table(), meta={'changed_at': 'refreshed_at'}) }}
with

profile as (
    select * from {{ ref('int_audience__profile') }}
),

as_of as (
    select * from {{ ref('int_calendar__as_of') }}
),

tenure as (
    select
        profile.*,
        {{ tenure_days('profile.first_seen_at', 'as_of.as_of_date') }} as tenure_days
    from profile
    cross join as_of
),

components as (
    select
        *,
        {{ tenure_component('tenure_days') }} as tenure_component
    from tenure
),

strength as (
    select
        *,
        {{ relationship_strength(
            'tenure_component', 'frequency_component', 'reciprocity_component', 'repeat_purchase_component'
        ) }} as relationship_strength
    from components
),

scored as (
    select
        *,
        {{ trust_score('relationship_strength', 'permission_score', 'perceived_risk_score', 'suspicion_score') }}
            as trust_score
    from strength
),

final as (
    select
        fan_id,
        tenure_days,
        interactions_90d,
        messages_total,
        replied_messages_total,
        complaints_total,
        purchase_count,
        order_count,
        refunded_order_count,
        contactable_channels,
        is_bulk_subscriber,
        has_never_interacted,
        has_default_profile,
        tenure_component,
        frequency_component,
        reciprocity_component,
        repeat_purchase_component,
        refund_rate,
        permission_score,
        perceived_risk_score,
        suspicion_score,
        relationship_strength,
        trust_score,
        is_suspected_fake,
        {{ trust_tier('trust_score') }} as trust_tier,
        refreshed_at
    from scored
)

select * from final
