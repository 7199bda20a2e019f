-- Every source record that says who someone is: one node of the identity graph.
with

member_cards as (
    select * from {{ ref('stg_crm__member_cards') }}
),

wechat_followers as (
    select * from {{ ref('stg_wechat__followers') }}
),

weibo_followers as (
    select * from {{ ref('stg_weibo__followers') }}
),

online_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

pos_receipts as (
    select * from {{ ref('stg_pos__receipts') }}
),

-- the name a person gave on the record (WeChat nicknames are not names; POS receipts have none)
records as (
    select
        'member_cards' as source,
        card_no as source_record_id,
        member_name as person_name,
        cast(opened_on as timestamp) as first_seen_at
    from member_cards
    union all
    select
        'wechat_followers',
        openid,
        null,
        coalesce(subscribed_at, unsubscribed_at)
    from wechat_followers
    union all
    select
        'weibo_followers',
        weibo_uid,
        screen_name,
        followed_at
    from weibo_followers
    union all
    select
        'online_orders',
        order_id,
        receiver_name,
        paid_at
    from online_orders
    union all
    select
        'pos_receipts',
        receipt_no,
        null,
        sold_at
    from pos_receipts
),

keyed as (
    select
        {{ record_key(none, 'source_record_id', source_sql='source') }} as record_key,
        source,
        source_record_id,
        source in ('member_cards', 'wechat_followers', 'weibo_followers') as is_profile,
        nullif(substr(trim(person_name), 1, 1), '') as surname,
        first_seen_at
    from records
)

select * from keyed
