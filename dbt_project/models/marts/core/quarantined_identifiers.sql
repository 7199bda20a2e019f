-- Identifier values that may not link anyone, with how widely they are shared and why.
with

identifier_values as (
    select * from {{ ref('int_identity__identifier_values') }}
),

final as (
    select
        identifier_type,
        identifier_value,
        records,
        most_profiles_in_one_source,
        records_by_source,
        surnames,
        quarantine_reason
    from identifier_values
    where is_quarantined
)

select * from final
