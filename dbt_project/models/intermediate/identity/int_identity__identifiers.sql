{{ config(materialized='incremental', unique_key='record_key', incremental_strategy='delete+insert') }}
-- Every identifier every record carries, normalised in staging.
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
    select
        {{ record_key('member_cards', 'card_no') }} as record_key,
        'member_card' as identifier_type,
        card_no as identifier_value,
        _loaded_at
    from member_cards
    union all
    select
        {{ record_key('member_cards', 'card_no') }},
        'phone',
        phone_normalized,
        _loaded_at
    from member_cards
    union all
    select
        {{ record_key('member_cards', 'card_no') }},
        'email',
        email_normalized,
        _loaded_at
    from member_cards
    union all
    select
        {{ record_key('member_cards', 'card_no') }},
        'unionid',
        unionid,
        _loaded_at
    from member_cards
    union all
    select
        {{ record_key('member_cards', 'card_no') }},
        'wechat_openid',
        wechat_openid,
        _loaded_at
    from member_cards
    union all
    select
        {{ record_key('wechat_followers', 'openid') }},
        'wechat_openid',
        openid,
        _loaded_at
    from wechat_followers
    union all
    select
        {{ record_key('wechat_followers', 'openid') }},
        'unionid',
        unionid,
        _loaded_at
    from wechat_followers
    union all
    select
        {{ record_key('weibo_followers', 'weibo_uid') }},
        'weibo_uid',
        weibo_uid,
        _loaded_at
    from weibo_followers
    union all
    select
        {{ record_key('weibo_followers', 'weibo_uid') }},
        'phone',
        phone_normalized,
        _loaded_at
    from weibo_followers
    union all
    select
        {{ record_key('online_orders', 'order_id') }},
        'platform_buyer',
        platform || ':' || buyer_id,
        _loaded_at
    from online_orders
    where platform != 'miniprogram'
    union all
    select
        {{ record_key('online_orders', 'order_id') }},
        'miniprogram_openid',
        miniprogram_openid,
        _loaded_at
    from online_orders
    union all
    select
        {{ record_key('online_orders', 'order_id') }},
        'phone',
        receiver_phone_normalized,
        _loaded_at
    from online_orders
    union all
    select
        {{ record_key('online_orders', 'order_id') }},
        'unionid',
        unionid,
        _loaded_at
    from online_orders
    union all
    select
        {{ record_key('pos_receipts', 'receipt_no') }},
        'member_card',
        member_card_no,
        _loaded_at
    from pos_receipts
    union all
    select
        {{ record_key('pos_receipts', 'receipt_no') }},
        'phone',
        phone_normalized,
        _loaded_at
    from pos_receipts
    union all
    select
        {{ record_key('pos_receipts', 'receipt_no') }},
        'pos_receipt',
        coalesce(original_receipt_no, receipt_no),
        _loaded_at
    from pos_receipts
),

present as (
    select
        identifiers.record_key,
        split_part(identifiers.record_key, ':', 1) as source,
        identifiers.identifier_type,
        identifiers.identifier_value,
        true as is_current,
        identifiers._loaded_at as changed_at
    from identifiers
    where
        identifiers.identifier_value is not null
        and {{ changed_since('identifiers._loaded_at', 'changed_at') }}
)

{% if is_incremental() %}
,

touched as (
    select distinct
        record_key,
        changed_at
    from present
),

left_behind as (
    select
        previous.record_key,
        previous.source,
        previous.identifier_type,
        previous.identifier_value,
        false as is_current,
        touched.changed_at
    from {{ this }} as previous
    inner join touched
        on previous.record_key = touched.record_key
    left join present
        on
            previous.record_key = present.record_key
            and previous.identifier_type = present.identifier_type
            and previous.identifier_value = present.identifier_value
    where previous.is_current and present.record_key is null
)

select * from present
union all
select * from left_behind
{% else %}
select * from present
{% endif %}
