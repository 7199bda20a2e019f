-- One row: how many offline buyers the brand can reach on WeChat.
with

fans as (
    select * from {{ ref('fans') }}
),

final as (
    select
        count(*) as fans,
        sum(case when silo_count >= 2 then 1 else 0 end) as fans_in_two_or_more_silos,
        cast(sum(case when silo_count >= 2 then 1 else 0 end) as double) / nullif(count(*), 0)
            as share_in_two_or_more_silos,
        sum(case when is_offline_buyer then 1 else 0 end) as offline_buyers,
        sum(case when is_offline_buyer and is_wechat_contactable then 1 else 0 end)
            as offline_buyers_reachable_on_wechat,
        cast(sum(case when is_offline_buyer and is_wechat_contactable then 1 else 0 end) as double)
        / nullif(sum(case when is_offline_buyer then 1 else 0 end), 0) as share_offline_reachable_on_wechat,
        sum(case when is_online_buyer then 1 else 0 end) as online_buyers,
        sum(case when is_online_buyer and is_wechat_contactable then 1 else 0 end)
            as online_buyers_reachable_on_wechat,
        cast(sum(case when is_online_buyer and is_wechat_contactable then 1 else 0 end) as double)
        / nullif(sum(case when is_online_buyer then 1 else 0 end), 0) as share_online_reachable_on_wechat
    from fans
)

select * from final
