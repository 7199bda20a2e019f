-- How many fans appear in each combination of the four silos (member card, social, online,
-- offline): the picture of how far the silos have been joined (the seed's trend 6).
with

fans as (
    select * from {{ ref('fans') }}
),

combinations as (
    select
        is_member,
        is_social_follower,
        is_online_buyer,
        is_offline_buyer,
        {{ silo_count() }} as silo_count,
        count(*) as fans
    from fans
    group by 1, 2, 3, 4, 5
),

labelled as (
    select
        *,
        {{ dbt.concat([
            "case when is_member then '+member' else '' end",
            "case when is_social_follower then '+social' else '' end",
            "case when is_online_buyer then '+online' else '' end",
            "case when is_offline_buyer then '+offline' else '' end",
        ]) }} as silo_list
    from combinations
),

final as (
    select
        ltrim(silo_list, '+') as silo_combination,
        is_member,
        is_social_follower,
        is_online_buyer,
        is_offline_buyer,
        silo_count,
        fans,
        1.0 * fans / sum(fans) over () as share_of_fans
    from labelled
)

select * from final
