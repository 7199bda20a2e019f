-- The unified fan profile. Kept by fan: a build deletes and rebuilds the profiles of the fans
-- touched since the last one (nothing here depends on the reporting day).
-- depends_on: {{ ref('int_identity__fan_assignments') }} {{ ref('int_privacy__erased_records') }}
-- depends_on: {{ ref('int_identity__current_assignments') }}
-- publish_key: the serving copy takes only the rows of the keys built again since it was written
{{ config(
    meta={'publish_key': 'fan_id', 'changed_at': 'refreshed_at'},
    materialized=kept_by_key(),
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_touched_fans(touched_profiles(watermark('refreshed_at'))) }}",
) }}
with

{% if is_incremental() %}
touched as (
    select fan_id from {{ touched_fans_table() }}
),
{% endif %}

fan_records as (
    select * from {{ ref('fan_records') }}
    {% if is_incremental() %}
    where fan_id in (select touched.fan_id from touched)
    {% endif %}
),

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

orders as (
    select * from {{ ref('orders') }}
    {% if is_incremental() %}
    where fan_id in (select touched.fan_id from touched)
    {% endif %}
),

interactions as (
    select * from {{ ref('interactions') }}
    {% if is_incremental() %}
    where fan_id in (select touched.fan_id from touched)
    {% endif %}
),

identifier_values as (
    select * from {{ ref('int_identity__identifier_values') }}
),

identifiers as (
    select * from {{ ref('int_identity__identifiers') }}
),

records as (
    select * from {{ ref('int_identity__records') }}
),

fans as (
    select
        fan_id,
        min(first_seen_at) as first_seen_at,
        max(first_seen_at) as last_record_at,
        count(*) as record_count,
        min(case when source = 'member_cards' then first_seen_at end) as member_since,
        min(case when source in ('wechat_followers', 'weibo_followers') then first_seen_at end) as first_followed_at,
        {{ dbt.bool_or("source = 'member_cards'") }} as is_member,
        {{ dbt.bool_or("source = 'wechat_followers'") }} as is_wechat_follower,
        {{ dbt.bool_or("source = 'weibo_followers'") }} as is_weibo_follower,
        {{ dbt.bool_or("source = 'online_orders'") }} as is_online_buyer,
        {{ dbt.bool_or("source = 'pos_receipts'") }} as is_offline_buyer
    from fan_records
    group by fan_id
),

cards as (
    select
        fan_records.fan_id,
        member_cards.*,
        row_number() over (
            partition by fan_records.fan_id order by member_cards.updated_at desc, member_cards.card_no asc
        ) as recency
    from member_cards
    inner join fan_records
        on fan_records.record_key = {{ record_key('member_cards', 'member_cards.card_no') }}
),

card_summary as (
    select
        fan_id,
        count(*) as member_card_count,
        {{ dbt.bool_or("has_sms_consent") }} as has_sms_opt_in,
        {{ dbt.bool_or("not has_sms_consent") }} as has_sms_opt_out,
        {{ dbt.bool_or("has_email_consent") }} as has_email_opt_in,
        {{ dbt.bool_or("not has_email_consent") }} as has_email_opt_out
    from cards
    group by fan_id
),

followers as (
    select
        fan_records.fan_id,
        wechat_followers.*,
        row_number() over (partition by fan_records.fan_id order by wechat_followers.subscribed_at desc) as recency
    from wechat_followers
    inner join fan_records
        on fan_records.record_key = {{ record_key('wechat_followers', 'wechat_followers.openid') }}
),

follower_summary as (
    select
        fan_id,
        {{ dbt.bool_or("is_subscribed") }} as has_wechat_subscription,
        {{ dbt.bool_or("not is_subscribed") }} as has_wechat_unsubscribe
    from followers
    group by fan_id
),

weibo as (
    select
        fan_records.fan_id,
        weibo_followers.*,
        row_number() over (partition by fan_records.fan_id order by weibo_followers.followed_at desc) as recency
    from weibo_followers
    inner join fan_records
        on fan_records.record_key = {{ record_key('weibo_followers', 'weibo_followers.weibo_uid') }}
),

latest_order as (
    -- a delivery's receiver only when the account's deliveries confirm it is the buyer
    select
        fan_records.fan_id,
        records.real_name as receiver_name,
        online_orders.receiver_city,
        row_number() over (partition by fan_records.fan_id order by online_orders.paid_at desc) as recency
    from online_orders
    inner join fan_records
        on fan_records.record_key = {{ record_key('online_orders', 'online_orders.order_id') }}
    inner join records
        on fan_records.record_key = records.record_key
    where records.real_name is not null
),

latest_phone as (
    -- the fan's own numbers only: not a gift's receiver, not a number the till took without a card
    select
        fan_records.fan_id,
        identifiers.identifier_value as phone,
        row_number() over (
            partition by fan_records.fan_id order by identifiers.seen_at desc, identifiers.identifier_value asc
        ) as recency
    from identifiers
    inner join fan_records
        on identifiers.record_key = fan_records.record_key
    inner join identifier_values
        on
            identifiers.identifier_value = identifier_values.identifier_value
            and identifiers.identifier_type = identifier_values.identifier_type
    where
        identifiers.identifier_type = 'phone'
        and identifiers.is_current
        and not identifiers.is_walk_in
        and not identifiers.is_unconfirmed_receiver
        and not identifier_values.is_quarantined
),

spend as (
    select
        fan_id,
        sum(case when channel = 'online' then 1 else 0 end) as online_order_count,
        sum(case when channel = 'online' then net_amount_yuan else 0 end) as online_net_spend_yuan,
        sum(case when channel = 'offline' then 1 else 0 end) as offline_order_count,
        sum(case when channel = 'offline' then net_amount_yuan else 0 end) as offline_net_spend_yuan,
        max(ordered_at) as last_order_at
    from orders
    group by fan_id
),

engagement as (
    select
        fan_id,
        count(*) as interaction_count,
        max(event_at) as last_interaction_at
    from interactions
    where fan_id is not null and not is_brand_reply
    group by fan_id
),

final as (
    select
        fans.fan_id,

        -- who
        coalesce(cards.member_name, latest_order.receiver_name, followers.nickname, weibo.screen_name) as fan_name,
        latest_phone.phone,
        cards.email_normalized as email,
        coalesce(cards.gender, followers.gender, weibo.gender) as gender,
        cards.birthday,
        coalesce(cards.city, latest_order.receiver_city, followers.city, weibo.city) as city,
        cards.card_no as member_card_no,
        followers.openid as wechat_openid,
        cards.card_level,

        -- the silos this fan appears in
        fans.is_member,
        fans.is_wechat_follower,
        fans.is_weibo_follower,
        fans.is_online_buyer,
        fans.is_offline_buyer,
        fans.is_wechat_follower or fans.is_weibo_follower as is_social_follower,
        {{ silo_count() }} as silo_count,
        fans.record_count,
        fans.record_count > {{ var('identity')['max_fan_records'] }} as is_over_size_limit,

        -- consent: an opt-out anywhere wins for that channel
        coalesce(card_summary.has_sms_opt_in and not card_summary.has_sms_opt_out, false)
        and latest_phone.phone is not null as is_sms_contactable,
        coalesce(card_summary.has_email_opt_in and not card_summary.has_email_opt_out, false)
        and cards.email_normalized is not null as is_email_contactable,
        coalesce(follower_summary.has_wechat_subscription and not follower_summary.has_wechat_unsubscribe, false)
            as is_wechat_contactable,

        -- money, net of refunds and returns
        coalesce(spend.online_order_count, 0) as online_order_count,
        coalesce(spend.online_net_spend_yuan, 0) as online_net_spend_yuan,
        coalesce(spend.offline_order_count, 0) as offline_order_count,
        coalesce(spend.offline_net_spend_yuan, 0) as offline_net_spend_yuan,
        coalesce(spend.online_net_spend_yuan, 0) + coalesce(spend.offline_net_spend_yuan, 0) as net_spend_yuan,
        coalesce(engagement.interaction_count, 0) as interaction_count,

        -- when
        fans.first_seen_at,
        fans.member_since,
        fans.first_followed_at,
        greatest(
            fans.last_record_at,
            coalesce(spend.last_order_at, fans.last_record_at),
            coalesce(engagement.last_interaction_at, fans.last_record_at)
        ) as last_seen_at,
        spend.last_order_at,
        engagement.last_interaction_at,
        {{ run_started() }} as refreshed_at
    from fans
    left join cards on fans.fan_id = cards.fan_id and cards.recency = 1
    left join card_summary on fans.fan_id = card_summary.fan_id
    left join followers on fans.fan_id = followers.fan_id and followers.recency = 1
    left join follower_summary on fans.fan_id = follower_summary.fan_id
    left join weibo on fans.fan_id = weibo.fan_id and weibo.recency = 1
    left join latest_order on fans.fan_id = latest_order.fan_id and latest_order.recency = 1
    left join latest_phone on fans.fan_id = latest_phone.fan_id and latest_phone.recency = 1
    left join spend on fans.fan_id = spend.fan_id
    left join engagement on fans.fan_id = engagement.fan_id
)

select * from final
