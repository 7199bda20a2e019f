-- Why a fan is one fan: every edge between its records, with the rule and the identifier.
with

edges as (
    select * from {{ ref('int_identity__graph_edges') }}
),

fan_records as (
    select * from {{ ref('fan_records') }}
),

final as (
    select
        fan_records.fan_id,
        edges.record_key_from,
        edges.record_key_to,
        edges.rule_name,
        edges.priority,
        edges.identifier_type,
        edges.identifier_value
    from edges
    inner join fan_records
        on edges.record_key_from = fan_records.record_key
    inner join fan_records as fan_records_to
        on edges.record_key_to = fan_records_to.record_key
)

select * from final
