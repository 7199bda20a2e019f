-- Each record's fan now: the latest row of its assignment history.
with

assignments as (
    select * from {{ ref('int_identity__fan_assignments') }}
),

current_assignment as (
    {{ latest_version('assignments', 'record_key', 'assigned_at desc') }}
)

select * from current_assignment
