-- Every referral the sources record, as a pair of source records.
with

wechat_followers as (
    select * from {{ ref('stg_wechat__followers') }}
),

member_cards as (
    select * from {{ ref('stg_crm__member_cards') }}
),

online_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

erased as (
    select * from {{ ref('int_privacy__erased_records') }}
),

signals as (
    select
        'wechat_qr' as channel,
        referral_campaign as campaign,
        {{ record_key('wechat_followers', 'referrer_openid') }} as referrer_record_key,
        {{ record_key('wechat_followers', 'openid') }} as referee_record_key,
        coalesce(subscribed_at, unsubscribed_at) as referred_at
    from wechat_followers
    where referrer_openid is not null
    union all
    select
        'invite_code',
        cast(null as {{ dbt.type_string() }}),
        {{ record_key('member_cards', 'referrer_card_no') }},
        {{ record_key('member_cards', 'card_no') }},
        cast(opened_on as timestamp)
    from member_cards
    where referrer_card_no is not null
    union all
    select
        'order_code',
        cast(null as {{ dbt.type_string() }}),
        {{ record_key('member_cards', 'referral_code') }},
        {{ record_key('online_orders', 'order_id') }},
        paid_at
    from online_orders
    where referral_code is not null
),

final as (
    -- a referral involving someone who asked to be forgotten is forgotten with them
    select signals.*
    from signals
    left join erased as erased_referrers
        on signals.referrer_record_key = erased_referrers.record_key
    left join erased as erased_referees
        on signals.referee_record_key = erased_referees.record_key
    where erased_referrers.record_key is null and erased_referees.record_key is null
)

select * from final
