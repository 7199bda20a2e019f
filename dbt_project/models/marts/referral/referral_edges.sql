-- Every referral signal resolved to fans, and whether it earns the credit.
{%- set max_depth = var('referral_programme')['max_chain_depth'] %}
with recursive

signals as (
    select * from {{ ref('int_referral__signals') }}
),

fan_records as (
    select * from {{ ref('fan_records') }}
),

resolved as (
    select
        signals.channel,
        signals.campaign,
        signals.referrer_record_key,
        signals.referee_record_key,
        signals.referred_at,
        referrers.fan_id as referrer_fan_id,
        referees.fan_id as referee_fan_id
    from signals
    inner join fan_records as referees
        on signals.referee_record_key = referees.record_key
    left join fan_records as referrers
        on signals.referrer_record_key = referrers.record_key
),

ranked as (
    select
        *,
        case
            when referrer_fan_id is null then 'unresolved referrer'
            when referrer_fan_id = referee_fan_id then 'self referral'
        end as invalid_reason,
        row_number() over (
            partition by
                referee_fan_id,
                referrer_fan_id is null or referrer_fan_id = referee_fan_id
            order by referred_at, channel, referee_record_key
        ) as touch_number
    from resolved
),

first_touch as (
    select
        referee_fan_id,
        referrer_fan_id
    from ranked
    where invalid_reason is null and touch_number = 1
),

walk (referee_fan_id, ancestor_fan_id, depth) as (
    select
        referee_fan_id,
        referrer_fan_id,
        1
    from first_touch
    union all
    select
        walk.referee_fan_id,
        first_touch.referrer_fan_id,
        walk.depth + 1
    from walk
    inner join first_touch
        on walk.ancestor_fan_id = first_touch.referee_fan_id
    where
        walk.ancestor_fan_id != walk.referee_fan_id
        and walk.depth < {{ max_depth }}
),

in_loop as (
    select distinct referee_fan_id
    from walk
    where ancestor_fan_id = referee_fan_id
),

labelled as (
    select
        ranked.channel,
        ranked.campaign,
        ranked.referrer_record_key,
        ranked.referee_record_key,
        ranked.referrer_fan_id,
        ranked.referee_fan_id,
        ranked.referred_at,
        case
            when ranked.invalid_reason is not null then ranked.invalid_reason
            when ranked.touch_number > 1 then 'earlier referral'
            when in_loop.referee_fan_id is not null then 'referral loop'
        end as exclusion_reason
    from ranked
    left join in_loop
        on ranked.referee_fan_id = in_loop.referee_fan_id
),

final as (
    select
        *,
        exclusion_reason is null as is_credited
    from labelled
)

select * from final
