-- What the referral reward programme owes, per converted referral and rewarded party.
{%- set programme = var('referral_programme') %}
{%- set rewarded = programme['rewarded'] %}
{%- if rewarded not in ('referrer', 'referee', 'both') %}
{{ exceptions.raise_compiler_error("var referral_programme.rewarded must be referrer, referee or both, not '" ~ rewarded ~ "'") }}
{%- endif %}
with

referrals as (
    select * from {{ ref('referrals') }}
),

converted as (
    select
        *,
        row_number() over (partition by referrer_fan_id order by converted_at, referee_fan_id) as conversion_number
    from referrals
    where is_converted
),

referrer_rewards as (
    select
        referee_fan_id,
        referrer_fan_id as beneficiary_fan_id,
        'referrer' as beneficiary_role,
        converted_at,
        conversion_number,
        case
            when conversion_number < {{ programme['min_converted_referrals'] }}
                then 'below {{ programme["min_converted_referrals"] }} converted referrals'
            when
                conversion_number - {{ programme['min_converted_referrals'] }} + 1
                > {{ programme['max_rewards_per_referrer'] }}
                then 'over the cap of {{ programme["max_rewards_per_referrer"] }} rewards'
            else 'rewarded'
        end as reason
    from converted
),

referee_rewards as (
    select
        referee_fan_id,
        referee_fan_id as beneficiary_fan_id,
        'referee' as beneficiary_role,
        converted_at,
        conversion_number,
        'rewarded' as reason
    from converted
),

rewards as (
    {%- if rewarded in ('referrer', 'both') %}
    select * from referrer_rewards
    {%- endif %}
    {%- if rewarded == 'both' %}
    union all
    {%- endif %}
    {%- if rewarded in ('referee', 'both') %}
    select * from referee_rewards
    {%- endif %}
),

final as (
    select
        referee_fan_id,
        beneficiary_fan_id,
        beneficiary_role,
        converted_at,
        conversion_number as referrer_conversion_number,
        reason = 'rewarded' as is_eligible,
        reason,
        case
            when reason != 'rewarded' then 0
            when beneficiary_role = 'referrer' then {{ programme['referrer_reward_yuan'] }}
            else {{ programme['referee_reward_yuan'] }}
        end as reward_yuan
    from rewards
)

select * from final
