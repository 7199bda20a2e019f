-- One row per Weibo follower (uid), the latest export wins.
{{ config(unique_key='weibo_uid') }}
with

source as (
    {{ validated_rows(source('weibo', 'weibo_followers')) }}
),

changed as (
    {{ versions_of_changed_keys('source', normalize_id('uid'), source('weibo', 'weibo_followers')) }}
),

latest as (
    {{ latest_version('changed', 'uid', '_loaded_at desc, _line_number desc') }}
),

renamed as (
    select
        -- ids
        {{ normalize_id('uid') }} as weibo_uid,

        -- profile
        screen_name,
        case gender when 'm' then '男' when 'f' then '女' end as gender,
        location as city,
        bound_mobile as phone_raw,
        {{ normalize_phone('bound_mobile') }} as phone_normalized,

        -- timestamps
        followed_at,

        -- lineage
        _source_file,
        _loaded_at,
        {{ run_started() }} as _staged_at
    from latest
)

select * from renamed
