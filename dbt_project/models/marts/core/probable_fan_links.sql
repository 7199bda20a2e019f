-- Probable links between fans waiting for review, accepted or rejected: the evidence, a score, and the fans now.
with

probable_links as (
    select * from {{ ref('int_identity__probable_links') }}
),

fan_records as (
    select * from {{ ref('fan_records') }}
),

final as (
    select
        probable_links.link_id,
        probable_links.rule_name,
        probable_links.status,
        probable_links.decided_by,
        probable_links.decision_reason,
        fan_a.fan_id as fan_id_a,
        fan_b.fan_id as fan_id_b,
        probable_links.record_key_a,
        probable_links.record_key_b,
        probable_links.fragment,
        probable_links.surname,
        probable_links.city,
        probable_links.deliveries,
        probable_links.account_deliveries,
        probable_links.time_gap_days,
        probable_links.numbers_with_fragment,
        probable_links.coincidence_risk,
        probable_links.score
    from probable_links
    inner join fan_records as fan_a
        on probable_links.record_key_a = fan_a.record_key
    inner join fan_records as fan_b
        on probable_links.record_key_b = fan_b.record_key
    -- a pending pair already in one fan (joined by exact identifiers since) needs no review
    where probable_links.status != 'pending' or fan_a.fan_id != fan_b.fan_id
)

select * from final
