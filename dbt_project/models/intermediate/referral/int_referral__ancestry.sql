-- Every fan and each referrer above it on its referral chain (credited edges only).
{%- set max_depth = var('referral_programme')['max_chain_depth'] %}
with recursive

referral_edges as (
    select * from {{ ref('referral_edges') }}
),

credited as (
    select
        referee_fan_id,
        referrer_fan_id
    from referral_edges
    where is_credited
),

ancestry (fan_id, ancestor_fan_id, distance) as (
    select
        referee_fan_id,
        referrer_fan_id,
        1
    from credited
    union all
    select
        ancestry.fan_id,
        credited.referrer_fan_id,
        ancestry.distance + 1
    from ancestry
    inner join credited
        on ancestry.ancestor_fan_id = credited.referee_fan_id
    where ancestry.distance < {{ max_depth }}
)

select * from ancestry
