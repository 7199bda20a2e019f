-- One row per POS receipt.
{{ config(unique_key='receipt_no') }}
with

source as (
    {{ validated_rows(source('pos', 'pos_receipts')) }}
),

changed as (
    {{ versions_of_changed_keys('source', 'receipt_no', source('pos', 'pos_receipts')) }}
),

latest as (
    {{ latest_version('changed', 'receipt_no', '_loaded_at desc, _line_number desc') }}
),

renamed as (
    select
        -- ids
        receipt_no,
        store_id,
        original_receipt_no,
        {{ normalize_id('member_card_no') }} as member_card_no,

        -- personal data
        phone as phone_raw,
        {{ normalize_phone('phone') }} as phone_normalized,

        -- amounts
        receipt_type,
        amount_yuan,
        case when receipt_type = 'return' then -amount_yuan else amount_yuan end as signed_amount_yuan,
        payment_method,
        item_count,

        -- timestamps
        sold_at,

        -- lineage
        _source_file,
        _loaded_at,
        {{ run_started() }} as _staged_at
    from latest
)

select * from renamed
