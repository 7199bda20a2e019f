{{ config(materialized='incremental', full_refresh=false) }}
-- The history of which fan each record belongs to.
with

clusters as (
    select * from {{ ref('int_identity__clusters') }}
    {% if is_incremental() %}
    where clustered_at > (select max(previous.assigned_at) from {{ this }} as previous)
    {% endif %}
),

history as (
    {% if is_incremental() %}
    select * from {{ this }}
    {% else %}
    select
        cast(null as {{ dbt.type_string() }}) as record_key,
        cast(null as {{ dbt.type_string() }}) as fan_id,
        cast(null as {{ dbt.type_string() }}) as cluster_key,
        cast(null as timestamp) as fan_created_at,
        cast(null as {{ dbt.type_string() }}) as run_id,
        cast(null as timestamp) as assigned_at
    where 1 = 0
    {% endif %}
),

history_in_scope as (
    -- the history of the records in the clusters looked at
    select history.*
    from history
    inner join clusters
        on history.record_key = clusters.record_key
),

previous as (
    {{ latest_version('history_in_scope', 'record_key', 'assigned_at desc') }}
),

claims as (
    select
        clusters.cluster_key,
        previous.fan_id,
        min(previous.fan_created_at) as fan_created_at,
        count(*) as records
    from clusters
    inner join previous
        on clusters.record_key = previous.record_key
    group by clusters.cluster_key, previous.fan_id
),

owned as (
    select
        *,
        row_number() over (partition by fan_id order by records desc, cluster_key asc) as claim_rank
    from claims
),

surviving as (
    select
        cluster_key,
        fan_id,
        fan_created_at,
        row_number() over (partition by cluster_key order by fan_created_at, fan_id) as age_rank
    from owned
    where claim_rank = 1
),

known_ids as (
    select distinct fan_id from history
),

candidates as (
    select
        clusters.record_key,
        clusters.cluster_key,
        surviving.fan_id as kept_fan_id,
        surviving.fan_created_at as kept_created_at,
        'F' || substr(md5(clusters.cluster_key), 1, 15) as derived_fan_id
    from clusters
    left join surviving
        on
            clusters.cluster_key = surviving.cluster_key
            and surviving.age_rank = 1
),

assigned as (
    -- a cluster without a surviving id gets one derived from its first record (so a rebuild
    -- from scratch gives the same ids), or, if that id was ever used, from this run too
    select
        candidates.record_key,
        candidates.cluster_key,
        case
            when candidates.kept_fan_id is not null then candidates.kept_fan_id
            when known_ids.fan_id is null then candidates.derived_fan_id
            else 'F' || substr(md5(candidates.cluster_key || '{{ invocation_id }}'), 1, 15)
        end as fan_id,
        coalesce(candidates.kept_created_at, {{ run_started() }}) as fan_created_at
    from candidates
    left join known_ids
        on candidates.derived_fan_id = known_ids.fan_id
),

changed as (
    select
        assigned.record_key,
        assigned.fan_id,
        assigned.cluster_key,
        assigned.fan_created_at,
        '{{ invocation_id }}' as run_id,
        {{ run_started() }} as assigned_at
    from assigned
    left join previous
        on assigned.record_key = previous.record_key
    where previous.fan_id is null or previous.fan_id != assigned.fan_id
)

select * from changed
