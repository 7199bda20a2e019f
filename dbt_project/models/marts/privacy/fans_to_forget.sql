-- The fans whose every record someone asked to be forgotten (erasure scope 'fan').
with

erased_records as (
    select * from {{ ref('int_privacy__erased_records') }}
),

final as (
    select distinct fan_id
    from erased_records
    where erasure_scope = 'fan'
)

select * from final
