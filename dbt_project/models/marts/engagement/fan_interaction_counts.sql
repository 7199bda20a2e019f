-- Each fan's own interactions by channel and type over 7, 30 and 90 days and in total: the
-- counts int_engagement__interaction_counts keeps by fan (a view: a new day rewrites only the
-- fans whose counts changed, in the warehouse and in the serving copy).
{{ config(materialized=view_or_table(), meta={'changed_at': 'refreshed_at'}) }}
with

counts as (
    select * from {{ ref('int_engagement__interaction_counts') }}
),

final as (
    select
        fan_id,
        platform,
        event_type,
        interactions_7d,
        interactions_30d,
        interactions_90d,
        interactions_total,
        last_interaction_at,
        refreshed_at
    from counts
)

select * from final
