{{ config(
    materialized=kept_by_key(),
    unique_key='record_key',
    incremental_strategy='delete+insert',
    meta={'changed_at': 'changed_at'},
) }}
-- Every identifier every record carries, normalised in staging, with the record's real name.
-- changed_at: when the record's row arrived (a batch released from hold: when it was released,
-- macros/validated_rows.sql), or the run that took the record in again; a day's data tests read
-- the rows changed since the last build (macros/tests.sql).
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

records as (
    select * from {{ ref('int_identity__records') }}
),

{#- a delivery's mobile not confirmed as the buyer's: `{}` is the identifier's relation -#}
{%- set unconfirmed_receiver = "coalesce(records.receiver_role != 'buyer' and {}.identifier_type = 'phone', false)" %}
{%- set since = watermark('changed_at') %}
{%- if is_incremental() %}
{%- set reattributed_record = "identifiers.record_key in (select reattributed.record_key from reattributed)" %}
{%- set taken_in_now = "(identifiers._loaded_at > " ~ since ~ " or " ~ reattributed_record ~ ")" %}
{%- else %}
{%- set reattributed_record = "false" %}
{%- set taken_in_now = "true" %}
{%- endif %}
{% if is_incremental() %}
reattributed as (
    -- records that say something else of themselves than when their identifiers were taken in
    -- (an account's usual receiver appears with a new order): taken in again, judged again.
    -- Compared record by record, among the records written since (int_identity__records keeps
    -- its rows by key, on the run's clock): what an identifier takes from its record is the
    -- record's real name, and its role for a phone.
    select distinct previous.record_key
    from {{ this }} as previous
    inner join records
        on previous.record_key = records.record_key
    where
        previous.is_current
        and records.changed_at > {{ since }}
        and (
            previous.name_key is distinct from records.real_name
            or previous.is_unconfirmed_receiver != {{ unconfirmed_receiver.format('previous') }}
        )
),
{% endif %}

taken_in as {{ selected_first() }} (
    -- the identifiers a build takes in, found before the join with their records: a daily build
    -- takes those of the rows loaded since its last one (a literal watermark: the scans skip the
    -- older rows) and every identifier of a record reattributed
    select
        identifiers.*,
        {{ reattributed_record }} as is_reattributed
    from identifiers
    where identifiers.identifier_value is not null and {{ taken_in_now }}
),

present as (
    -- each identifier with what its record says: the record's real name, and whether it is a
    -- walk-in's number or a delivery's mobile not confirmed as the buyer's (a gift's receiver is
    -- somebody else, and one delivery alone does not tell: kept, marked, never used to link)
    select
        identifiers.record_key,
        records.source,
        identifiers.identifier_type,
        identifiers.identifier_value,
        records.real_name as name_key,
        records.is_walk_in,
        records.place,
        records.first_seen_at as seen_at,
        {{ unconfirmed_receiver.format('identifiers') }} as is_unconfirmed_receiver,
        true as is_current,
        case
            when identifiers.is_reattributed then {{ run_started() }} else identifiers._loaded_at
        end as changed_at
    from taken_in as identifiers
    inner join records
        on identifiers.record_key = records.record_key
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
        previous.name_key,
        previous.is_walk_in,
        previous.place,
        previous.seen_at,
        previous.is_unconfirmed_receiver,
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
