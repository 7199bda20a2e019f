-- One row per member card: the latest version across the CRM's full and delta exports.
{{ config(unique_key='card_no') }}
with

source as (
    {{ validated_rows(source('crm', 'member_cards')) }}
),

changed as (
    {{ versions_of_changed_keys('source', normalize_id('card_no'), source('crm', 'member_cards')) }}
),

latest as (
    {{ latest_version('changed', 'card_no', 'updated_at desc, _loaded_at desc, _line_number desc') }}
),

renamed as (
    select
        -- ids
        {{ normalize_id('card_no') }} as card_no,
        {{ normalize_id('referrer_card_no') }} as referrer_card_no,
        {{ normalize_id('unionid') }} as unionid,
        {{ normalize_id('wechat_openid') }} as wechat_openid,
        store_id,

        -- personal data (stays in the warehouse; masked or hashed outside it)
        trim(name) as member_name,
        phone as phone_raw,
        {{ normalize_phone('phone') }} as phone_normalized,
        {{ is_masked_phone('phone') }} as is_phone_masked,
        {{ normalize_email('email') }} as email_normalized,
        gender,
        birthday,
        city,

        -- card
        level as card_level,
        points,
        sms_opt_in as has_sms_consent,
        email_opt_in as has_email_consent,

        -- dates
        opened_on,
        updated_at,

        -- lineage
        _source_file,
        _batch_id,
        _loaded_at,
        {{ run_started() }} as _staged_at
    from latest
)

select * from renamed
