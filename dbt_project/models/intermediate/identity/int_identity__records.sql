{{ config(
    materialized=kept_by_key(),
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    meta={'changed_at': 'changed_at'},
) }}
-- Every source record that says who someone is: one node of the identity graph.
-- Kept by record: a daily build writes again the records whose staging row was written since its
-- last one, every order of an account with such an order or that such an order left (the
-- account's usual receiver decides each order's role), and the receipts of a card written again
-- (the card holder's name); changed_at is the run that wrote the row.
{%- set since = watermark('changed_at') %}
{#- every record on a full build, and once on a table built before it kept changed_at #}
{%- set whole = not is_incremental() or '1900-01-01' in since %}
{%- set staged_since = "true" if whole else "_staged_at > " ~ since %}
{%- set receipt_in_scope = "true" if whole else (
    "pos_receipts._staged_at > " ~ since
    ~ "\n        or pos_receipts.member_card_no in (select changed_cards.card_no from changed_cards)"
) %}
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
{% if not whole %}
touched_accounts as (
    -- the accounts with an order staged since, and the old account of an order staged again
    -- under another one (the orders left there)
    select platform || ':' || coalesce(buyer_id, miniprogram_openid) as account_key
    from online_orders
    where {{ staged_since }}
    union all
    select previous.account_key
    from {{ this }} as previous
    inner join online_orders
        on previous.source_record_id = online_orders.order_id
    where previous.source = 'online_orders' and online_orders.{{ staged_since }}
),

changed_cards as (
    select card_no from member_cards
    where {{ staged_since }}
),
{% endif %}
orders as (
    -- the orders of the accounts touched (every order on a full build)
    select *
    from (
        select
            order_id,
            platform || ':' || coalesce(buyer_id, miniprogram_openid) as account_key,
            {{ real_name('receiver_name') }} as receiver_name,
            paid_at
        from online_orders
    ) as account_orders
    {%- if not whole %}
    where account_key in (select touched_accounts.account_key from touched_accounts)
    {%- endif %}
),

account_receivers as (
    select
        account_key,
        receiver_name,
        count(*) as orders
    from orders
    where receiver_name is not null
    group by account_key, receiver_name
),

usual_receivers as (
    -- the name an account's deliveries go to most: at least twice, and no other name as often
    select
        ranked.account_key,
        ranked.receiver_name
    from (
        select
            account_receivers.*,
            count(*) over (partition by account_receivers.account_key, account_receivers.orders) as names_as_often,
            row_number() over (
                partition by account_receivers.account_key
                order by account_receivers.orders desc, account_receivers.receiver_name asc
            ) as name_rank
        from account_receivers
    ) as ranked
    where ranked.name_rank = 1 and ranked.orders >= 2 and ranked.names_as_often = 1
),

account_names as (
    select
        account_key,
        count(*) as names
    from account_receivers
    group by account_key
),

order_receivers as (
    -- who a delivery goes to: the buyer (the account's usual receiver), someone else (a gift),
    -- unknown (an account with one named delivery), or unclear (deliveries to several names,
    -- none usual: some are gifts, which ones cannot be told)
    select
        orders.order_id,
        orders.account_key,
        orders.paid_at,
        orders.receiver_name,
        case
            when orders.receiver_name is null then 'masked'
            when usual_receivers.receiver_name = orders.receiver_name then 'buyer'
            when usual_receivers.receiver_name is not null then 'someone else'
            when account_names.names > 1 then 'unclear'
            else 'unknown'
        end as receiver_role
    from orders
    left join usual_receivers
        on orders.account_key = usual_receivers.account_key
    left join account_names
        on orders.account_key = account_names.account_key
),

-- the real name a record gives: a card holder's, or a delivery's receiver when the account's
-- deliveries agree the receiver is the buyer, or the holder of the card shown at the till.
-- Nicknames (WeChat, Weibo, the shops' buyer nicks) are not names. A POS receipt without a
-- card is a walk-in: nobody's name, and a number the cashier may have typed.
records as (
    select
        'member_cards' as source,
        card_no as source_record_id,
        {{ real_name('member_name') }} as real_name,
        cast(null as {{ dbt.type_string() }}) as receiver_role,
        false as is_walk_in,
        cast(null as {{ dbt.type_string() }}) as place,
        cast(opened_on as timestamp) as first_seen_at,
        cast(null as {{ dbt.type_string() }}) as account_key
    from member_cards
    where {{ staged_since }}
    union all
    select
        'wechat_followers',
        openid,
        null,
        null,
        false,
        null,
        coalesce(subscribed_at, unsubscribed_at),
        null
    from wechat_followers
    where {{ staged_since }}
    union all
    select
        'weibo_followers',
        weibo_uid,
        null,
        null,
        false,
        null,
        followed_at,
        null
    from weibo_followers
    where {{ staged_since }}
    union all
    select
        'online_orders',
        order_id,
        case when receiver_role = 'buyer' then receiver_name end,
        receiver_role,
        false,
        null,
        paid_at,
        account_key
    from order_receivers
    union all
    select
        'pos_receipts',
        pos_receipts.receipt_no,
        {{ real_name('member_cards.member_name') }},
        null,
        pos_receipts.member_card_no is null,
        pos_receipts.store_id,
        pos_receipts.sold_at,
        null
    from pos_receipts
    left join member_cards
        on pos_receipts.member_card_no = member_cards.card_no
    where {{ receipt_in_scope }}
),

keyed as (
    select
        {{ record_key(none, 'source_record_id', source_sql='source') }} as record_key,
        source,
        source_record_id,
        source in ('member_cards', 'wechat_followers', 'weibo_followers') as is_profile,
        real_name,
        receiver_role,
        is_walk_in,
        place,
        first_seen_at,
        account_key,
        {{ run_started() }} as changed_at
    from records
)

select * from keyed
