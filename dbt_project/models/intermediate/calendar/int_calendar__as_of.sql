-- The reporting day that every window, recency and tenure in the marts is measured from.
{%- set as_of = var('as_of_date') | string if var('as_of_date') else '' %}
{%- if as_of %}{% do modules.datetime.datetime.strptime(as_of, '%Y-%m-%d') %}{% endif %}
with

interactions as (
    select * from {{ ref('stg_social__interactions') }}
),

online_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

pos_receipts as (
    select * from {{ ref('stg_pos__receipts') }}
),

run_day as (
    select cast({{ run_started() }} + interval 8 hour as date) as run_date
),

latest_events as (
    select max(event_at) as latest_at from interactions
    where cast(event_at as date) <= (select run_day.run_date from run_day)
    union all
    select max(paid_at) from online_orders
    where cast(paid_at as date) <= (select run_day.run_date from run_day)
    union all
    select max(sold_at) from pos_receipts
    where cast(sold_at as date) <= (select run_day.run_date from run_day)
),

all_events as (
    select max(event_at) as latest_at from interactions
    union all
    select max(paid_at) from online_orders
    union all
    select max(sold_at) from pos_receipts
),

latest as (
    select
        max(latest_at) as latest_at,
        (select max(all_events.latest_at) from all_events) as latest_at_of_all
    from latest_events
),

final as (
    select
        {% if as_of -%}
        cast('{{ as_of }}' as date) as as_of_date,
        'var as_of_date' as as_of_source
        {%- else -%}
        coalesce(cast(latest_at as date), (select run_day.run_date from run_day)) as as_of_date,
        'latest event' as as_of_source
        {%- endif %},
        -- a later run day may give another reporting day: no events yet, or some dated after this day
        {% if as_of -%}
        false
        {%- else -%}
        coalesce(cast(latest_at_of_all as date) > (select run_day.run_date from run_day), true)
        {%- endif %} as depends_on_run_day
    from latest
)

select * from final
