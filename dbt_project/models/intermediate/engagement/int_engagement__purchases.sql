-- Each fan's orders and purchases up to the reporting day and the RFM quintiles. Kept by fan:
-- a daily build sums again the orders of the fans touched since the last one and of those with
-- an order that crossed the RFM window's edge as the reporting day moved
-- (crossed_window_edges), ranks every buyer again (ranks are shared: a new buyer moves others),
-- and writes the rows of the fans summed again and of those whose quintile moved. fan_rfm adds
-- the days since the last purchase.
-- depends_on: {{ ref('int_identity__fan_assignments') }} {{ ref('int_privacy__erased_records') }}
-- depends_on: {{ ref('interactions') }}
{%- set rfm_window_days = var('engagement')['rfm_window_days'] %}
{{ config(
    meta={'publish_key': 'fan_id', 'changed_at': 'refreshed_at'},
    materialized=kept_by_key(),
    incremental_strategy='delete+insert',
    unique_key='fan_id',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_touched_fans(touched_fans(watermark('refreshed_at')) ~ ' union ' ~ order_edge_fans()) }}",
    post_hook="{{ record_reporting_day() }}",
) }}
with

{% if is_incremental() %}
touched as (
    select fan_id from {{ touched_fans_table() }}
),
{% endif %}

fans as (
    select fan_id from {{ ref('fans') }}
    {% if is_incremental() %}
    where fan_id in (select touched.fan_id from touched)
    {% endif %}
),

orders as {{ selected_first() }} (
    select * from {{ ref('orders') }}
    {% if is_incremental() %}
    where fan_id in (select touched.fan_id from touched)
    {% endif %}
),

as_of as (
    select * from {{ ref('int_calendar__as_of') }}
),

orders_to_date as (
    select orders.*
    from orders
    cross join as_of
    where
        cast(orders.ordered_at as date) <= as_of.as_of_date
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

buyers as (
    select
        fan_id,
        last_purchase_at,
        frequency,
        monetary_yuan
    from purchase_summary
    {% if is_incremental() %}
    union all
    -- the buyers not summed again (the touched fans' rows were deleted before this runs)
    select
        fan_id,
        last_purchase_at,
        frequency,
        monetary_yuan
    from {{ this }}
    where purchase_count > 0
    {% endif %}
),

buyer_count as (
    select count(*) as buyers from buyers
),

recency_ranks as (
    -- recency ranks from the oldest last purchase day: the most days since it, as in the docs
    {{ buyers_below('buyers', 'cast(last_purchase_at as date)') }}
),

frequency_ranks as (
    {{ buyers_below('buyers', 'frequency') }}
),

monetary_ranks as (
    {{ buyers_below('buyers', 'monetary_yuan') }}
),

scores as (
    -- every buyer has a last purchase, a frequency and a monetary value (0 outside the window)
    select
        buyers.fan_id,
        {{ quintile('recency_ranks.below', 'buyer_count.buyers') }} as r_score,
        {{ quintile('frequency_ranks.below', 'buyer_count.buyers') }} as f_score,
        {{ quintile('monetary_ranks.below', 'buyer_count.buyers') }} as m_score
    from buyers
    cross join buyer_count
    inner join recency_ranks
        on cast(buyers.last_purchase_at as date) = recency_ranks.ranked_value
    inner join frequency_ranks
        on buyers.frequency = frequency_ranks.ranked_value
    inner join monetary_ranks
        on buyers.monetary_yuan = monetary_ranks.ranked_value
),

summed as (
    select
        fans.fan_id,
        coalesce(order_summary.order_count, 0) as order_count,
        coalesce(order_summary.refunded_order_count, 0) as refunded_order_count,
        coalesce(order_summary.fully_refunded_order_count, 0) as fully_refunded_order_count,
        coalesce(order_summary.gross_spend_yuan, 0) as gross_spend_yuan,
        coalesce(order_summary.refunded_yuan, 0) as refunded_yuan,
        coalesce(order_summary.net_spend_yuan, 0) as net_spend_yuan,
        coalesce(purchase_summary.purchase_count, 0) as purchase_count,
        purchase_summary.first_purchase_at,
        purchase_summary.second_purchase_at,
        purchase_summary.last_purchase_at,
        coalesce(purchase_summary.frequency, 0) as frequency,
        coalesce(purchase_summary.monetary_yuan, 0) as monetary_yuan
    from fans
    left join order_summary
        on fans.fan_id = order_summary.fan_id
    left join purchase_summary
        on fans.fan_id = purchase_summary.fan_id
),

{% if is_incremental() %}
moved as (
    -- buyers not summed again whose quintile moved
    select
        kept.fan_id,
        kept.order_count,
        kept.refunded_order_count,
        kept.fully_refunded_order_count,
        kept.gross_spend_yuan,
        kept.refunded_yuan,
        kept.net_spend_yuan,
        kept.purchase_count,
        kept.first_purchase_at,
        kept.second_purchase_at,
        kept.last_purchase_at,
        kept.frequency,
        kept.monetary_yuan
    from {{ this }} as kept
    inner join scores
        on kept.fan_id = scores.fan_id
    where kept.r_score != scores.r_score or kept.f_score != scores.f_score or kept.m_score != scores.m_score
),
{% endif %}

rebuilt as (
    select * from summed
    {% if is_incremental() %}
    union all
    select * from moved
    {% endif %}
),

final as (
    select
        rebuilt.*,
        scores.r_score,
        scores.f_score,
        scores.m_score,
        cast(scores.r_score as {{ dbt.type_string() }}) || cast(scores.f_score as {{ dbt.type_string() }})
        || cast(scores.m_score as {{ dbt.type_string() }}) as rfm_cell,
        case
            when scores.fan_id is null then 'no purchase'
            when scores.r_score >= 4 and scores.f_score >= 4 and scores.m_score >= 4 then 'champion'
            when scores.f_score >= 4 then 'loyal'
            when scores.r_score <= 2 and scores.f_score >= 3 then 'at risk'
            when scores.r_score <= 2 then 'hibernating'
            else 'promising'
        end as rfm_segment,
        {{ run_started() }} as refreshed_at
    from rebuilt
    left join scores
        on rebuilt.fan_id = scores.fan_id
)

select * from final
