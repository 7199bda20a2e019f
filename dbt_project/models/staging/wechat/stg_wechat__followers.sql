-- One row per WeChat follower (openid).
{{ config(unique_key='openid') }}
with

source as (
    {{ validated_rows(source('wechat', 'wechat_followers')) }}
),

changed as (
    {{ versions_of_changed_keys('source', normalize_id('openid'), source('wechat', 'wechat_followers')) }}
),

subscribed_rows as (
    select * from changed
    where subscribe = 1
),

latest_profile as (
    {{ latest_version('subscribed_rows', 'openid', 'subscribe_time desc, _loaded_at desc, _line_number desc') }}
),

latest_status as (
    {{ latest_version(
        'changed', 'openid', 'coalesce(unsubscribe_time, subscribe_time) desc, _loaded_at desc, _line_number desc'
    ) }}
),

renamed as (
    select
        -- ids
        {{ normalize_id('latest_status.openid') }} as openid,
        {{ normalize_id('coalesce(latest_status.unionid, latest_profile.unionid)') }} as unionid,

        -- profile
        latest_profile.nickname,
        case latest_profile.sex when 1 then '男' when 2 then '女' end as gender,
        nullif(latest_profile.city, '') as city,
        latest_profile.tagid_list as tag_ids_json,

        -- how they came: a QR scene string ref_<campaign>_<referrer openid> is a referral
        latest_profile.subscribe_scene,
        nullif(latest_profile.qr_scene_str, '') as qr_scene_str,
        case
            when left(latest_profile.qr_scene_str, 4) = 'ref_'
                then regexp_extract(latest_profile.qr_scene_str, '^ref_([^_]+)_(.+)$', 1)
        end as referral_campaign,
        case
            when left(latest_profile.qr_scene_str, 4) = 'ref_'
                then regexp_extract(latest_profile.qr_scene_str, '^ref_([^_]+)_(.+)$', 2)
        end as referrer_openid,

        -- status
        latest_status.subscribe = 1 as is_subscribed,
        latest_profile.subscribe_time as subscribed_at,
        latest_status.unsubscribe_time as unsubscribed_at,

        -- lineage
        latest_status._source_file,
        latest_status._loaded_at,
        {{ run_started() }} as _staged_at
    from latest_status
    left join latest_profile
        on latest_status.openid = latest_profile.openid
)

select * from renamed
