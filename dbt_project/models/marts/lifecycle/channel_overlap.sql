-- How many fans appear in each combination of the four silos (member card, social, online, offline).
with

fans as (
    select * from {{ ref('fans') }}
),

combinations as (
    select
        fans.is_member,
        fans.is_social_follower,
        fans.is_online_buyer,
        fans.is_offline_buyer,
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
        substr(labelled.silo_list, 2) as silo_combination,  -- the first '+' off
        labelled.is_member,
        labelled.is_social_follower,
        labelled.is_online_buyer,
        labelled.is_offline_buyer,
        labelled.silo_count,
        labelled.fans,
        cast(labelled.fans as double) / sum(labelled.fans) over () as share_of_fans
    from labelled
)

select * from final
