-- Every source record and the fan it belongs to now.
with

current_assignment as (
    select * from {{ ref('int_identity__current_assignments') }}
),

records as (
    select * from {{ ref('int_identity__records') }}
),

clusters as (
    select * from {{ ref('int_identity__clusters') }}
),

erased as (
    select * from {{ ref('int_privacy__erased_records') }}
),

final as (
    select
        records.source,
        records.source_record_id,
        records.record_key,
        current_assignment.fan_id,
        records.is_profile,
        records.first_seen_at,
        clusters.cluster_size as fan_record_count
    from records
    inner join current_assignment
        on records.record_key = current_assignment.record_key
    inner join clusters
        on records.record_key = clusters.record_key
    left join erased
        on records.record_key = erased.record_key
    where erased.record_key is null
)

select * from final
