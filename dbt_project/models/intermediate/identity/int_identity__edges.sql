-- Edges of the identity graph.
{{ config(
    materialized=kept_by_key(),
    unique_key=['identifier_type', 'identifier_value'],
    incremental_strategy='delete+insert',
    post_hook="{{ delete_rows('record_key_from is null') }}",
) }}
with

{{ identifier_values_in_scope(ref('int_identity__identifiers')) }},

identifier_values as (
    -- its last_changed_at is in_scope's: identifier_values was built from the same scope
    select identifier_values.*
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
        identifiers.name_key,
        identifiers.seen_at,
        identifier_values.rule_name,
        identifier_values.priority,
        identifier_values.is_shared_by_people,
        identifier_values.last_changed_at
    from identifiers
    inner join identifier_values
        on
            identifiers.identifier_type = identifier_values.identifier_type
            and identifiers.identifier_value = identifier_values.identifier_value
    -- a walk-in receipt's number never links; a value on one record has nothing to link (most
    -- values: leaving them out here spares the windows below most of their rows)
    where
        not identifier_values.is_quarantined
        and not (identifier_values.is_shared_by_people and identifiers.is_walk_in)
        and identifier_values.records > 1
),

names_in_use as (
    -- each real name a shared value is used under, and when
    select
        identifier_type,
        identifier_value,
        name_key,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(*) over (partition by identifier_type, identifier_value) as names
    from usable
    where is_shared_by_people and name_key is not null
    group by identifier_type, identifier_value, name_key
),

placed as (
    -- a record without a name, on a value used under several names, belongs to the name in use
    -- at its time when exactly one was (a reissued number: the old owner's years, then the new)
    select
        usable.record_key,
        usable.identifier_type,
        usable.identifier_value,
        min(names_in_use.name_key) as name_key,
        count(*) as candidates
    from usable
    inner join names_in_use
        on
            usable.identifier_type = names_in_use.identifier_type
            and usable.identifier_value = names_in_use.identifier_value
            and usable.seen_at between names_in_use.first_seen_at and names_in_use.last_seen_at
    where usable.is_shared_by_people and usable.name_key is null
    group by usable.record_key, usable.identifier_type, usable.identifier_value
),

only_names as (
    select
        identifier_type,
        identifier_value,
        min(name_key) as name_key,
        count(*) as names
    from names_in_use
    group by identifier_type, identifier_value
),

grouped as (
    -- the group a record links within: the whole value, or, for a value people share, one name
    select
        usable.record_key,
        usable.identifier_type,
        usable.identifier_value,
        usable.rule_name,
        usable.priority,
        usable.last_changed_at,
        case
            when not usable.is_shared_by_people then ''
            when usable.name_key is not null then usable.name_key
            when only_names.names is null then ''
            when only_names.names = 1 then only_names.name_key
            when placed.candidates = 1 then placed.name_key
        end as link_group
    from usable
    left join only_names
        on
            usable.identifier_type = only_names.identifier_type
            and usable.identifier_value = only_names.identifier_value
    left join placed
        on
            usable.record_key = placed.record_key
            and usable.identifier_type = placed.identifier_type
            and usable.identifier_value = placed.identifier_value
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
    select grouped.*
    from grouped
    left join unlinked_values
        on
            grouped.identifier_type = unlinked_values.identifier_type
            and grouped.identifier_value = unlinked_values.identifier_value
    where unlinked_values.identifier_value is null and grouped.link_group is not null
),

anchored as (
    select
        *,
        min(record_key) over (partition by identifier_type, identifier_value, link_group) as anchor_record_key
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
        cast(null as {{ dbt.type_string() }}) as record_key_from,
        cast(null as {{ dbt.type_string() }}) as record_key_to,
        cast(null as {{ dbt.type_string() }}) as rule_name,
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
