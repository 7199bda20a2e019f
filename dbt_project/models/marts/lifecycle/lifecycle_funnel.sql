-- The ladder per month: fans reaching each rung in the month, and to date.
with

fan_lifecycle as (
    select * from {{ ref('fan_lifecycle') }}
),

fans as (
    select * from {{ ref('fans') }}
),

milestones as (
    select
        'first seen' as milestone,
        0 as ladder_level,
        first_seen_at as reached_at
    from fans
    union all
    select
        'customer',
        1,
        customer_at
    from fan_lifecycle
    union all
    select
        'user',
        2,
        user_at
    from fan_lifecycle
    union all
    select
        'fan',
        3,
        fan_at
    from fan_lifecycle
    union all
    select
        'friend',
        4,
        friend_at
    from fan_lifecycle
),

monthly as (
    select
        cast({{ dbt.date_trunc('month', 'reached_at') }} as date) as month_start_date,
        milestone,
        ladder_level,
        count(*) as fans_reached
    from milestones
    where reached_at is not null
    group by 1, 2, 3
),

final as (
    select
        month_start_date,
        milestone,
        ladder_level,
        fans_reached,
        sum(fans_reached) over (
            partition by milestone order by month_start_date rows between unbounded preceding and current row
        ) as fans_reached_to_date
    from monthly
)

select * from final
