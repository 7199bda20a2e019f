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
    select distinct
        identifiers.record_key,
        coalesce(identifier_values.is_quarantined, false) as is_quarantined
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
    where not matched.is_quarantined
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
    where matched.is_quarantined and erased_fans.fan_id is null
)

select * from final
