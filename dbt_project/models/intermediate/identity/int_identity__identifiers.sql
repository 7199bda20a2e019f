-- Every identifier every record carries, normalised in staging. Masked phones are null there,
-- so they never appear here. Referral codes are not identifiers: they name somebody else.
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

identifiers as (
    select {{ record_key('member_cards', 'card_no') }} as record_key, 'member_card' as identifier_type, card_no as identifier_value
    from member_cards
    union all
    select {{ record_key('member_cards', 'card_no') }}, 'phone', phone_normalized from member_cards
    union all
    select {{ record_key('member_cards', 'card_no') }}, 'email', email_normalized from member_cards
    union all
    select {{ record_key('member_cards', 'card_no') }}, 'unionid', unionid from member_cards
    union all
    select {{ record_key('member_cards', 'card_no') }}, 'wechat_openid', wechat_openid from member_cards
    union all
    select {{ record_key('wechat_followers', 'openid') }}, 'wechat_openid', openid from wechat_followers
    union all
    select {{ record_key('wechat_followers', 'openid') }}, 'unionid', unionid from wechat_followers
    union all
    select {{ record_key('weibo_followers', 'weibo_uid') }}, 'weibo_uid', weibo_uid from weibo_followers
    union all
    select {{ record_key('weibo_followers', 'weibo_uid') }}, 'phone', phone_normalized from weibo_followers
    union all
    select {{ record_key('online_orders', 'order_id') }}, 'platform_buyer', platform || ':' || buyer_id
    from online_orders
    where platform != 'miniprogram'
    union all
    select {{ record_key('online_orders', 'order_id') }}, 'miniprogram_openid', miniprogram_openid from online_orders
    union all
    select {{ record_key('online_orders', 'order_id') }}, 'phone', receiver_phone_normalized from online_orders
    union all
    select {{ record_key('online_orders', 'order_id') }}, 'unionid', unionid from online_orders
    union all
    select {{ record_key('pos_receipts', 'receipt_no') }}, 'member_card', member_card_no from pos_receipts
    union all
    select {{ record_key('pos_receipts', 'receipt_no') }}, 'phone', phone_normalized from pos_receipts
    union all
    select {{ record_key('pos_receipts', 'receipt_no') }}, 'pos_receipt', coalesce(original_receipt_no, receipt_no)
    from pos_receipts
),

present as (
    select
        identifiers.record_key,
        split_part(identifiers.record_key, ':', 1) as source,
        identifiers.identifier_type,
        identifiers.identifier_value
    from identifiers
    where identifiers.identifier_value is not null
)

select * from present
