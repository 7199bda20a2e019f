-- Online orders and offline sales in one fact, keyed by fan, net of refunds and returns.
-- depends_on: {{ ref('int_identity__current_assignments') }} (read on incremental builds)
-- publish_key: the serving copy takes only the rows of the keys built again since it was written
{{ config(
    meta={'publish_key': 'order_key', 'changed_at': 'refreshed_at'},
    materialized=kept_by_key(),
    unique_key='order_key',
    incremental_strategy='delete+insert',
    post_hook="{{ delete_rows('order_key in (select record_key from ' ~ ref('int_privacy__erased_records') ~ ')') }}",
) }}
with

online_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

pos_receipts as (
    select * from {{ ref('stg_pos__receipts') }}
),

fan_records as (
    select * from {{ ref('fan_records') }}
),

{% if is_incremental() %}
current_assignments as (
    select * from {{ ref('int_identity__current_assignments') }}
),
{% endif %}

returns as (
    select
        original_receipt_no,
        sum(amount_yuan) as returned_yuan,
        max(sold_at) as returned_at,
        max(_loaded_at) as _loaded_at
    from pos_receipts
    where receipt_type = 'return'
    group by original_receipt_no
),

online as (
    select
        {{ record_key('online_orders', 'online_orders.order_id') }} as order_key,
        'online' as channel,
        online_orders.platform as outlet,
        online_orders.order_id as source_order_id,
        online_orders.paid_at as ordered_at,
        online_orders.amount_yuan,
        online_orders.refund_yuan,
        online_orders.net_amount_yuan,
        case when online_orders.refund_yuan > 0 then online_orders.updated_at end as refunded_at,
        online_orders.coupon_code,
        online_orders.referral_code,
        online_orders._loaded_at
    from online_orders
),

offline as (
    select
        {{ record_key('pos_receipts', 'pos_receipts.receipt_no') }} as order_key,
        'offline' as channel,
        pos_receipts.store_id as outlet,
        pos_receipts.receipt_no as source_order_id,
        pos_receipts.sold_at as ordered_at,
        pos_receipts.amount_yuan,
        coalesce(returns.returned_yuan, 0) as refund_yuan,
        pos_receipts.amount_yuan - coalesce(returns.returned_yuan, 0) as net_amount_yuan,
        returns.returned_at as refunded_at,
        cast(null as {{ dbt.type_string() }}) as coupon_code,
        cast(null as {{ dbt.type_string() }}) as referral_code,
        greatest(pos_receipts._loaded_at, coalesce(returns._loaded_at, pos_receipts._loaded_at)) as _loaded_at
    from pos_receipts
    left join returns
        on pos_receipts.receipt_no = returns.original_receipt_no
    where pos_receipts.receipt_type = 'sale'
),

unioned as (
    select * from online
    union all
    select * from offline
),

{% if is_incremental() %}
changed as (
    -- new versions (refunds), new returns, and orders whose record moved to another fan
    select order_key from unioned
    where _loaded_at > {{ watermark('refreshed_at') }}
    union
    select record_key from current_assignments
    where assigned_at > {{ watermark('refreshed_at') }}
),
{% endif %}

final as (
    select
        unioned.order_key,
        fan_records.fan_id,
        unioned.channel,
        unioned.outlet,
        unioned.source_order_id,
        unioned.ordered_at,
        unioned.amount_yuan,
        unioned.refund_yuan,
        unioned.net_amount_yuan,
        unioned.refund_yuan > 0 as is_refunded,
        unioned.refunded_at,
        unioned.coupon_code,
        unioned.referral_code,
        {{ run_started() }} as refreshed_at
    from unioned
    inner join fan_records
        on unioned.order_key = fan_records.record_key
    {% if is_incremental() %}
    inner join changed
        on unioned.order_key = changed.order_key
    {% endif %}
)

select * from final
