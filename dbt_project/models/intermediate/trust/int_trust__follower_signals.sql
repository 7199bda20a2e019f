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

follow_times as (
    select
        openid,
        unionid is null and city is null and gender is null as has_default_profile,
        subscribed_at
    from wechat_followers
    where subscribed_at is not null
),

follows as (
    -- each follow's neighbours: the other follows within the window either side
    {{ rows_within_minutes('follow_times', 'subscribed_at', window_minutes) }}
),

follow_rate as (
    -- follows expected within the window around any follow, at the account's average rate
    select
        cast(count(*) * 2 * {{ window_minutes }} as double)
        / nullif({{ dbt.datediff('min(subscribed_at)', 'max(subscribed_at)', 'minute') }}, 0) as expected_neighbours
    from follows
),

flagged as (
    select
        follows.openid,
        follows.has_default_profile,
        follows.others_nearby,
        follows.others_nearby >= {{ cfg['bulk_subscribe_min_neighbours'] }}
        and follows.others_nearby
        > {{ cfg['bulk_subscribe_multiplier'] }} * coalesce(follow_rate.expected_neighbours, 0) as is_bulk_subscribe
    from follows
    cross join follow_rate
),

final as (
    select
        fan_records.fan_id,
        count(*) as follower_records,
        max(flagged.others_nearby) as max_follows_nearby,
        {{ dbt.bool_or('flagged.is_bulk_subscribe') }} as is_bulk_subscriber,
        not {{ dbt.bool_or('not flagged.has_default_profile') }} as has_default_profile
    from flagged
    inner join fan_records
        on fan_records.record_key = {{ record_key('wechat_followers', 'flagged.openid') }}
    group by fan_records.fan_id
)

select * from final
