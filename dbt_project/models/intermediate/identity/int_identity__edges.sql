-- Edges of the identity graph.
{{ config(
    materialized='incremental',
    unique_key=['identifier_type', 'identifier_value'],
    incremental_strategy='delete+insert',
    post_hook="delete from {{ this }} where record_key_from is null",
) }}
with

{{ identifier_values_in_scope(ref('int_identity__identifiers')) }},

identifier_values as (
    select
        identifier_values.*,
        in_scope.last_changed_at
    from {{ ref('int_identity__identifier_values') }} as identifier_values
    inner join in_scope
        on
            identifier_values.identifier_type = in_scope.identifier_type
            and identifier_values.identifier_value = in_scope.identifier_value
),

never_link as (
    select * from {{ ref('identity_never_link') }}
),

usable as (
    select
        identifiers.record_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifier_values.rule_name,
        identifier_values.priority,
        identifier_values.last_changed_at
    from identifiers
    inner join identifier_values
        on
            identifiers.identifier_type = identifier_values.identifier_type
            and identifiers.identifier_value = identifier_values.identifier_value
    where not identifier_values.is_quarantined
),

unlinked_values as (
    select distinct
        side_a.identifier_type,
        side_a.identifier_value
    from never_link
    inner join usable as side_a
        on never_link.record_key_a = side_a.record_key
    inner join usable as side_b
        on
            never_link.record_key_b = side_b.record_key
            and side_a.identifier_type = side_b.identifier_type
            and side_a.identifier_value = side_b.identifier_value
),

linkable as (
    select usable.*
    from usable
    left join unlinked_values
        on
            usable.identifier_type = unlinked_values.identifier_type
            and usable.identifier_value = unlinked_values.identifier_value
    where unlinked_values.identifier_value is null
),

anchored as (
    select
        *,
        min(record_key) over (partition by identifier_type, identifier_value) as anchor_record_key
    from linkable
),

edges as (
    select
        record_key as record_key_from,
        anchor_record_key as record_key_to,
        rule_name,
        priority,
        identifier_type,
        identifier_value,
        last_changed_at
    from anchored
    where record_key != anchor_record_key
)

{% if is_incremental() %}
,

placeholders as (
    -- values judged again that make no edge now: their old edges must go
    select
        cast(null as varchar) as record_key_from,
        cast(null as varchar) as record_key_to,
        cast(null as varchar) as rule_name,
        cast(null as integer) as priority,
        in_scope.identifier_type,
        in_scope.identifier_value,
        in_scope.last_changed_at
    from in_scope
    left join edges
        on
            in_scope.identifier_type = edges.identifier_type
            and in_scope.identifier_value = edges.identifier_value
    where edges.identifier_value is null
)

select * from edges
union all
select * from placeholders
{% else %}
select * from edges
{% endif %}
