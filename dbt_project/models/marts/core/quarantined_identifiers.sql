-- Identifier values that may not link anyone, or only some of their records, and why.
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
        identifier_values.names,
        identifier_values.walk_in_records,
        identifier_values.decision_kind,
        case
            when identifier_values.is_quarantined then 'never links'
            else 'links some records only'
        end as decision,
        coalesce(
            identifier_values.quarantine_reason,
            {{ dbt.concat(["coalesce(identifier_values.walk_in_restriction || '; ', '')",
                           "coalesce(identifier_values.name_restriction, '')"]) }}
        ) as quarantine_reason
    from identifier_values
    left join requests
        on
            identifier_values.identifier_type = requests.identifier_type
            and identifier_values.identifier_value = requests.identifier_value_normalized
    where
        (
            identifier_values.is_quarantined
            or identifier_values.walk_in_restriction is not null
            or identifier_values.name_restriction is not null
        )
        and requests.request_id is null
)

select * from final
