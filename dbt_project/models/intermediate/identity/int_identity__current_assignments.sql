-- Each record's fan now: the latest row of its assignment history. Kept by record: a build
-- takes the records assigned since the last one (the history only grows).
{{ config(
    materialized=kept_by_key(),
    unique_key='record_key',
    incremental_strategy='delete+insert',
    meta={'changed_at': 'assigned_at'},
) }}
with

assignments as (
    select * from {{ ref('int_identity__fan_assignments') }}
),

{% if is_incremental() %}
newly_assigned as (
    select record_key from assignments
    where assigned_at > {{ watermark('assigned_at') }}
),
{% endif %}

assigned as (
    select * from assignments
    {% if is_incremental() %}
    where record_key in (select newly_assigned.record_key from newly_assigned)
    {% endif %}
),

current_assignment as (
    {{ latest_version('assigned', 'record_key', 'assigned_at desc') }}
)

select * from current_assignment
