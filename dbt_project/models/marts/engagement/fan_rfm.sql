-- Purchases per fan and RFM in quintiles.
{%- set rfm_window_days = var('engagement')['rfm_window_days'] %}
with

fans as (
    select * from {{ ref('fans') }}
),

orders as (
    select * from {{ ref('orders') }}
),

as_of as (
    select * from {{ ref('int_calendar__as_of') }}
),

orders_to_date as (
    select orders.*
    from orders
    cross join as_of
    where cast(orders.ordered_at as date) <= as_of.as_of_date
),

order_summary as (
    select
        fan_id,
        count(*) as order_count,
        sum(case when refund_yuan > 0 then 1 else 0 end) as refunded_order_count,
        sum(case when net_amount_yuan <= 0 then 1 else 0 end) as fully_refunded_order_count,
        sum(amount_yuan) as gross_spend_yuan,
        sum(refund_yuan) as refunded_yuan,
        sum(net_amount_yuan) as net_spend_yuan
    from orders_to_date
    group by fan_id
),

purchases as (
    select
        fan_id,
        ordered_at,
        net_amount_yuan
    from orders_to_date
    where net_amount_yuan > 0
),

purchase_summary as (
    select
        purchases.fan_id,
        count(*) as purchase_count,
        min(purchases.ordered_at) as first_purchase_at,
        {{ second_value('purchases.ordered_at') }} as second_purchase_at,
        max(purchases.ordered_at) as last_purchase_at,
        {{ dbt.datediff('cast(max(purchases.ordered_at) as date)', 'max(as_of.as_of_date)', 'day') }}
            as days_since_last_purchase,
        sum(
            case
                when
                    cast(purchases.ordered_at as date)
                    > {{ dbt.dateadd('day', -rfm_window_days, 'as_of.as_of_date') }} then 1
                else 0
            end
        ) as frequency,
        sum(
            case when
                cast(purchases.ordered_at as date)
                > {{ dbt.dateadd('day', -rfm_window_days, 'as_of.as_of_date') }} then purchases.net_amount_yuan
            else 0 end
        ) as monetary_yuan
    from purchases
    cross join as_of
    group by purchases.fan_id
),

scored as (
    select
        *,
        least(
            5,
            1 + floor(cast(5 * (rank() over (order by days_since_last_purchase desc) - 1) as double) / count(*) over ())
        ) as r_score,
        least(5, 1 + floor(cast(5 * (rank() over (order by frequency) - 1) as double) / count(*) over ()))
            as f_score,
        least(5, 1 + floor(cast(5 * (rank() over (order by monetary_yuan) - 1) as double) / count(*) over ()))
            as m_score
    from purchase_summary
),

final as (
    select
        fans.fan_id,
        coalesce(order_summary.order_count, 0) as order_count,
        coalesce(order_summary.refunded_order_count, 0) as refunded_order_count,
        coalesce(order_summary.fully_refunded_order_count, 0) as fully_refunded_order_count,
        coalesce(order_summary.gross_spend_yuan, 0) as gross_spend_yuan,
        coalesce(order_summary.refunded_yuan, 0) as refunded_yuan,
        coalesce(order_summary.net_spend_yuan, 0) as net_spend_yuan,
        coalesce(scored.purchase_count, 0) as purchase_count,
        scored.first_purchase_at,
        scored.second_purchase_at,
        scored.last_purchase_at,
        scored.days_since_last_purchase,
        coalesce(scored.frequency, 0) as frequency,
        coalesce(scored.monetary_yuan, 0) as monetary_yuan,
        cast(scored.r_score as integer) as r_score,
        cast(scored.f_score as integer) as f_score,
        cast(scored.m_score as integer) as m_score,
        cast(scored.r_score as integer) || cast(scored.f_score as integer) || cast(scored.m_score as integer)
            as rfm_cell,
        case
            when scored.fan_id is null then 'no purchase'
            when scored.r_score >= 4 and scored.f_score >= 4 and scored.m_score >= 4 then 'champion'
            when scored.f_score >= 4 then 'loyal'
            when scored.r_score <= 2 and scored.f_score >= 3 then 'at risk'
            when scored.r_score <= 2 then 'hibernating'
            else 'promising'
        end as rfm_segment
    from fans
    left join order_summary
        on fans.fan_id = order_summary.fan_id
    left join scored
        on fans.fan_id = scored.fan_id
)

select * from final
