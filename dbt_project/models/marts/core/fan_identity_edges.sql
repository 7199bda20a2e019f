-- Why a fan is one fan: every edge between its records, with the rule and the identifier. Kept
-- by fan: a build deletes and rebuilds the edges of the fans touched since the last one.
-- depends_on: {{ ref('int_identity__fan_assignments') }} {{ ref('int_privacy__erased_records') }}
-- depends_on: {{ ref('int_identity__current_assignments') }} {{ ref('interactions') }} {{ ref('orders') }}
-- depends_on: {{ ref('stg_crm__member_cards') }} {{ ref('stg_wechat__followers') }}
-- depends_on: {{ ref('stg_weibo__followers') }} {{ ref('stg_shop__orders') }}
-- depends_on: {{ ref('int_identity__identifiers') }} {{ ref('int_identity__identifier_values') }}
-- depends_on: {{ ref('int_identity__edges') }} {{ ref('int_identity__probable_edges') }}
{{ config(
    meta={'publish_key': 'fan_id', 'changed_at': 'refreshed_at'},
    materialized=kept_by_key(),
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_touched_fans(touched_edge_fans(watermark('refreshed_at'))) }}",
) }}
with

{% if is_incremental() %}
touched as (
    select fan_id from {{ touched_fans_table() }}
),
{% endif %}

edges as (
    select * from {{ ref('int_identity__graph_edges') }}
),

fan_records as (
    select * from {{ ref('fan_records') }}
),

touched_records as (
    select * from fan_records
    {% if is_incremental() %}
    where fan_id in (select touched.fan_id from touched)
    {% endif %}
),

final as (
    select
        touched_records.fan_id,
        edges.record_key_from,
        edges.record_key_to,
        edges.rule_name,
        edges.priority,
        edges.identifier_type,
        edges.identifier_value,
        {{ run_started() }} as refreshed_at
    from edges
    inner join touched_records
        on edges.record_key_from = touched_records.record_key
    inner join fan_records as fan_records_to
        on edges.record_key_to = fan_records_to.record_key
)

select * from final
