-- Signs of bought followers, per fan that follows on WeChat.
{%- set cfg = var('trust') %}
{%- set window_minutes = cfg['bulk_subscribe_window_minutes'] %}
with

wechat_followers as (
    select * from {{ ref('stg_wechat__followers') }}
),

fan_records as (
    select * from {{ ref('fan_records') }}
),

follows as (
    select
        openid,
        unionid is null and city is null and gender is null as has_default_profile,
        subscribed_at,
        count(*) over (
            order by subscribed_at
            range between interval '{{ window_minutes }} minutes' preceding
            and interval '{{ window_minutes }} minutes' following
        ) - 1 as neighbours
    from wechat_followers
    where subscribed_at is not null
),

follow_rate as (
    -- follows expected within the window around any follow, at the account's average rate
    select
        count(*) * 2.0 * {{ window_minutes }}
        / nullif({{ dbt.datediff('min(subscribed_at)', 'max(subscribed_at)', 'minute') }}, 0) as expected_neighbours
    from follows
),

flagged as (
    select
        follows.openid,
        follows.has_default_profile,
        follows.neighbours,
        follows.neighbours >= {{ cfg['bulk_subscribe_min_neighbours'] }}
        and follows.neighbours > {{ cfg['bulk_subscribe_multiplier'] }} * coalesce(follow_rate.expected_neighbours, 0)
            as is_bulk_subscribe
    from follows
    cross join follow_rate
),

final as (
    select
        fan_records.fan_id,
        count(*) as follower_records,
        max(flagged.neighbours) as max_follows_nearby,
        {{ dbt.bool_or('flagged.is_bulk_subscribe') }} as is_bulk_subscriber,
        not {{ dbt.bool_or('not flagged.has_default_profile') }} as has_default_profile
    from flagged
    inner join fan_records
        on fan_records.record_key = {{ record_key('wechat_followers', 'flagged.openid') }}
    group by fan_records.fan_id
)

select * from final
