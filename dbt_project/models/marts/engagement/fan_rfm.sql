-- Purchases per fan and RFM in quintiles: int_engagement__purchases, kept by fan, with the days
-- since the last purchase counted to the reporting day here (a view: a new day rewrites nothing).
{{ config(materialized=view_or_table(), meta={'changed_at': 'refreshed_at'}) }}
with

purchases as (
    select * from {{ ref('int_engagement__purchases') }}
),

as_of as (
    select * from {{ ref('int_calendar__as_of') }}
),

final as (
    select
        purchases.fan_id,
        purchases.order_count,
        purchases.refunded_order_count,
        purchases.fully_refunded_order_count,
        purchases.gross_spend_yuan,
        purchases.refunded_yuan,
        purchases.net_spend_yuan,
        purchases.purchase_count,
        purchases.first_purchase_at,
        purchases.second_purchase_at,
        purchases.last_purchase_at,
        {{ days_since('purchases.last_purchase_at') }}
            as days_since_last_purchase,
        purchases.frequency,
        purchases.monetary_yuan,
        purchases.r_score,
        purchases.f_score,
        purchases.m_score,
        purchases.rfm_cell,
        purchases.rfm_segment,
        purchases.refreshed_at
    from purchases
    cross join as_of
)

select * from final
