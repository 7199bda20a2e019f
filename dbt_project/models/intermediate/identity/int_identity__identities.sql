-- The identities a person has one of, per record (a shop's buyer account: one per platform).
{{ config(materialized=view_or_table()) }}
with

identifiers as (
    select * from {{ ref('int_identity__identifiers') }}
),

rules as (
    select * from {{ ref('identity_rules') }}
),

final as (
    select
        identifiers.record_key,
        case
            when identifiers.identifier_type = 'platform_buyer'
                then identifiers.identifier_type || ':' || split_part(identifiers.identifier_value, ':', 1)
            else identifiers.identifier_type
        end as identity,
        identifiers.identifier_value as identity_value
    from identifiers
    inner join rules
        on identifiers.identifier_type = rules.identifier_type
    where identifiers.is_current and rules.one_per_person
)

select * from final
