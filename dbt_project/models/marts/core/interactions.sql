-- Interaction events keyed by fan, through the follower record of the account they came from.
with

interactions as (
    select * from {{ ref('stg_social__interactions') }}
),

fan_records as (
    select * from {{ ref('fan_records') }}
),

erased as (
    select * from {{ ref('int_privacy__erased_records') }}
),

keyed as (
    select
        *,
        case platform
            when 'wechat' then {{ record_key('wechat_followers', 'platform_user_id') }}
            when 'weibo' then {{ record_key('weibo_followers', 'platform_user_id') }}
        end as follower_record_key
    from interactions
),

final as (
    select
        keyed.event_id,
        fan_records.fan_id,
        keyed.platform,
        keyed.event_type,
        keyed.is_brand_reply,
        keyed.content_id,
        keyed.reply_to_event_id,
        keyed.event_at
    from keyed
    left join fan_records
        on keyed.follower_record_key = fan_records.record_key
    left join erased
        on keyed.follower_record_key = erased.record_key
    where erased.record_key is null
)

select * from final
