-- A weekly snapshot of every fan's trust score and components, so trust can be followed over time.
-- Each build writes the reporting week again, the rows of the fans there are now, keeping the
-- earlier weeks: by deleting the week's rows on DuckDB, by overwriting the week's partition on
-- Spark (no deletes on its parquet tables). The fans of a new erasure leave every week, once
-- (forget_fans_once, macros/incremental.sql).
-- publish_key: the serving copy takes the weeks built again (the reporting week), not every week
-- (a year of weeks is 52 times the fans)
{{
    config(
        meta={'publish_key': 'week_start_date', 'changed_at': 'snapshotted_at'},
        materialized='incremental',
        unique_key='week_start_date',
        incremental_strategy='insert_overwrite' if target.type == 'spark' else 'delete+insert',
        partition_by=['week_start_date'] if target.type == 'spark' else none,
        full_refresh=false,
        pre_hook="{{ forget_fans_once('prepare') }}",
        post_hook=["{{ forget_fans_once('delete') }}", "{{ forget_fans_once('record') }}"],
    )
}}
-- depends_on: {{ ref('int_privacy__erased_records') }}
with

fan_trust as (
    select * from {{ ref('fan_trust') }}
),

as_of as (
    select * from {{ ref('int_calendar__as_of') }}
),

final as (
    select
        cast({{ dbt.date_trunc('week', 'as_of.as_of_date') }} as date) as week_start_date,
        as_of.as_of_date,
        fan_trust.fan_id,
        fan_trust.trust_score,
        fan_trust.trust_tier,
        fan_trust.relationship_strength,
        fan_trust.permission_score,
        fan_trust.perceived_risk_score,
        fan_trust.suspicion_score,
        fan_trust.is_suspected_fake,
        {{ run_started() }} as snapshotted_at
    from fan_trust
    cross join as_of
)

select * from final
