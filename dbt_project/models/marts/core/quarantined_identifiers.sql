-- Identifier values that may not link anyone, with how widely they are shared and why.
with

identifier_values as (
    select * from {{ ref('int_identity__identifier_values') }}
),

requests as (
    select * from {{ ref('stg_privacy__erasure_requests') }}
),

final as (
    select
        identifier_values.identifier_type,
        identifier_values.identifier_value,
        identifier_values.records,
        identifier_values.most_profiles_in_one_source,
        identifier_values.records_by_source,
        identifier_values.surnames,
        identifier_values.quarantine_reason
    from identifier_values
    left join requests
        on
            identifier_values.identifier_type = requests.identifier_type
            and identifier_values.identifier_value = requests.identifier_value_normalized
    where identifier_values.is_quarantined and requests.request_id is null
)

select * from final
