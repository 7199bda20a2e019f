-- One row per erasure request, its identifier normalised the way the identity graph stores it.
-- A view, unlike the other staging models: a few rows, read whole every run.
{{ config(materialized=view_or_table(), meta={'changed_at': none}) }}
with

source as (
    {{ validated_rows(source('privacy', 'erasure_requests')) }}
),

latest as (
    {{ latest_version('source', 'request_id', '_loaded_at desc, _line_number desc') }}
),

renamed as (
    select
        -- ids
        request_id,
        identifier_type,
        case identifier_type
            when 'phone' then {{ normalize_phone('identifier_value') }}
            else {{ normalize_id('identifier_value') }}
        end as identifier_value_normalized,

        -- timestamps
        requested_at,

        -- lineage
        _source_file,
        _loaded_at
    from latest
)

select * from renamed
