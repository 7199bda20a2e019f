-- Per fan per week (weeks start on Monday), the weeks in which the fan did something. Kept by
-- fan: a build deletes and rebuilds the rows of the fans touched since the last one (nothing
-- here depends on the reporting day).
-- depends_on: {{ ref('int_identity__fan_assignments') }} {{ ref('int_privacy__erased_records') }}
-- publish_key: the serving copy takes only the rows of the keys built again since it was written
{{ config(
    meta={'publish_key': 'fan_id', 'changed_at': 'refreshed_at'},
    materialized=kept_by_key(),
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_touched_fans(touched_fans(watermark('refreshed_at'))) }}",
) }}
with

{% if is_incremental() %}
touched as (
    select fan_id from {{ touched_fans_table() }}
),
{% endif %}

orders as {{ selected_first() }} (
    select * from {{ ref('orders') }}
    {% if is_incremental() %}
    where fan_id in (select touched.fan_id from touched)
    {% endif %}
),

own_interactions as {{ selected_first() }} (
    -- the touched fans' own interactions (`replied` reads every interaction: a reply need not be theirs)
    select * from {{ ref('interactions') }}
    {% if is_incremental() %}
    where fan_id in (select touched.fan_id from touched)
    {% endif %}
),

replied as (
    -- a reply to an earlier message is answered to the same account, so the same fan
    select distinct reply_to_event_id as event_id
    from {{ ref('interactions') }}
    where is_brand_reply
),

weekly_interactions as (
    select
        interactions.fan_id,
        cast({{ dbt.date_trunc('week', 'interactions.event_at') }} as date) as week_start_date,
        count(*) as interactions,
        sum(case when interactions.platform = 'wechat' then 1 else 0 end) as wechat_interactions,
        sum(case when interactions.platform = 'weibo' then 1 else 0 end) as weibo_interactions,
        count(distinct cast(interactions.event_at as date)) as active_days,
        sum(case when replied.event_id is not null then 1 else 0 end) as two_way_interactions
    from own_interactions as interactions
    left join replied
        on interactions.event_id = replied.event_id
    where interactions.fan_id is not null and not interactions.is_brand_reply
    group by 1, 2
),

weekly_orders as (
    select
        fan_id,
        cast({{ dbt.date_trunc('week', 'ordered_at') }} as date) as week_start_date,
        sum(case when net_amount_yuan > 0 then 1 else 0 end) as purchases,
        sum(net_amount_yuan) as net_spend_yuan
    from orders
    group by 1, 2
),

final as (
    select
        coalesce(weekly_interactions.fan_id, weekly_orders.fan_id) as fan_id,
        coalesce(weekly_interactions.week_start_date, weekly_orders.week_start_date) as week_start_date,
        coalesce(weekly_interactions.interactions, 0) as interactions,
        coalesce(weekly_interactions.wechat_interactions, 0) as wechat_interactions,
        coalesce(weekly_interactions.weibo_interactions, 0) as weibo_interactions,
        coalesce(weekly_interactions.active_days, 0) as active_days,
        coalesce(weekly_interactions.two_way_interactions, 0) as two_way_interactions,
        coalesce(weekly_orders.purchases, 0) as purchases,
        coalesce(weekly_orders.net_spend_yuan, 0) as net_spend_yuan,
        {{ run_started() }} as refreshed_at
    from weekly_interactions
    full outer join weekly_orders
        on
            weekly_interactions.fan_id = weekly_orders.fan_id
            and weekly_interactions.week_start_date = weekly_orders.week_start_date
)

select * from final
