-- Every edge the clustering takes: the exact identifiers' and the accepted probable links.
{{ config(materialized=view_or_table()) }}
with

exact as (
    select * from {{ ref('int_identity__edges') }}
),

probable as (
    select * from {{ ref('int_identity__probable_edges') }}
),

final as (
    select
        record_key_from,
        record_key_to,
        rule_name,
        priority,
        identifier_type,
        identifier_value
    from exact
    union all
    select
        record_key_from,
        record_key_to,
        rule_name,
        priority,
        identifier_type,
        identifier_value
    from probable
    where is_current
)

select * from final
