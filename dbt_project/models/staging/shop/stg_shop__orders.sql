-- One row per online order: its latest version, so a later refund replaces the paid order.
{{ config(unique_key='order_id') }}
with

source as (
    {{ validated_rows(source('shop', 'online_orders')) }}
),

changed as (
    {{ versions_of_changed_keys('source', 'order_id', source('shop', 'online_orders')) }}
),

latest as (
    {{ latest_version('changed', 'order_id', 'updated_at desc, _loaded_at desc, _line_number desc') }}
),

renamed as (
    select
        -- ids
        order_id,
        platform,
        shop_id,
        {{ normalize_id('buyer_id') }} as buyer_id,
        {{ normalize_id('openid') }} as miniprogram_openid,
        {{ normalize_id('unionid') }} as unionid,
        coupon_code,
        {{ normalize_id('referral_code') }} as referral_code,

        -- personal data
        buyer_nick,
        receiver_name,
        receiver_mobile as receiver_phone_raw,
        {{ normalize_phone('receiver_mobile') }} as receiver_phone_normalized,
        {{ is_masked_phone('receiver_mobile') }} as is_receiver_phone_masked,
        receiver_city,
        receiver_address,

        -- amounts
        status as order_status,
        amount_yuan,
        coalesce(refund_yuan, 0) as refund_yuan,
        amount_yuan - coalesce(refund_yuan, 0) as net_amount_yuan,

        -- timestamps
        paid_at,
        updated_at,

        -- lineage
        _source_file,
        _loaded_at,
        {{ run_started() }} as _staged_at
    from latest
)

select * from renamed
