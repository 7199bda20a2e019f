-- The records to forget.
with

requests as (
    select * from {{ ref('stg_privacy__erasure_requests') }}
),

identifiers as (
    select * from {{ ref('int_identity__identifiers') }}
    where is_current
),

identifier_values as (
    select * from {{ ref('int_identity__identifier_values') }}
),

current_assignment as (
    select * from {{ ref('int_identity__current_assignments') }}
),

matched as (
    -- a value that names one person takes their whole fan; a value several people use (a junk
    -- number, a household phone, a reissued number), a delivery's receiver not confirmed as the
    -- buyer, or a walk-in receipt's number, only the records that carry it
    select distinct
        identifiers.record_key,
        (
            not coalesce(identifier_values.is_quarantined, false)
            and coalesce(identifier_values.names, 0) <= 1
            and not identifiers.is_unconfirmed_receiver
            and not identifiers.is_walk_in
        ) as names_one_person
    from identifiers
    inner join requests
        on
            identifiers.identifier_type = requests.identifier_type
            and identifiers.identifier_value = requests.identifier_value_normalized
    left join identifier_values
        on
            identifiers.identifier_type = identifier_values.identifier_type
            and identifiers.identifier_value = identifier_values.identifier_value
),

erased_fans as (
    select distinct current_assignment.fan_id
    from matched
    inner join current_assignment
        on matched.record_key = current_assignment.record_key
    where matched.names_one_person
),

final as (
    select
        current_assignment.record_key,
        current_assignment.fan_id,
        'fan' as erasure_scope
    from current_assignment
    inner join erased_fans
        on current_assignment.fan_id = erased_fans.fan_id
    union
    select
        matched.record_key,
        current_assignment.fan_id,
        'record'
    from matched
    inner join current_assignment
        on matched.record_key = current_assignment.record_key
    left join erased_fans
        on current_assignment.fan_id = erased_fans.fan_id
    where not matched.names_one_person and erased_fans.fan_id is null
)

select * from final
