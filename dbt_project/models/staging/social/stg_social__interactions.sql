-- One row per interaction event; an event delivered twice counts once.
{{ config(unique_key='event_id') }}
with

source as (
    {{ validated_rows(source('social', 'social_interactions')) }}
),

changed as (
    {{ versions_of_changed_keys('source', 'event_id', source('social', 'social_interactions')) }}
),

latest as (
    {{ latest_version('changed', 'event_id', '_loaded_at desc, _line_number desc') }}
),

renamed as (
    select
        -- ids
        event_id,
        platform,
        user_id as platform_user_id,
        content_id,
        reply_to as reply_to_event_id,

        -- what happened
        event_type,
        event_type = 'brand_reply' as is_brand_reply,

        -- timestamps
        event_time as event_at,

        -- lineage
        _source_file,
        _loaded_at,
        {{ run_started() }} as _staged_at
    from latest
)

select * from renamed
