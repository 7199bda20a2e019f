{#- Each row of `relation` with `others_nearby`: how many other rows have `at_column` within
    `minutes` either side of its own (both ends included). A RANGE window does it anywhere, but
    over one partition it runs on one thread; on DuckDB a running count per instant read by two
    as-of joins gives the same counts (700k WeChat follows at 1M people: 0.55 s against 1.8 s). -#}
{% macro rows_within_minutes(relation, at_column, minutes) -%}
    {{ return(adapter.dispatch('rows_within_minutes')(relation, at_column, minutes)) }}
{%- endmacro %}

{% macro default__rows_within_minutes(relation, at_column, minutes) -%}
    select
        {{ relation }}.*,
        count(*) over (
            order by {{ at_column }}
            range between interval '{{ minutes }} minutes' preceding and interval '{{ minutes }} minutes' following
        ) - 1 as others_nearby
    from {{ relation }}
{%- endmacro %}

{% macro duckdb__rows_within_minutes(relation, at_column, minutes) -%}
    with running as (
        -- rows at or before each instant
        select
            {{ at_column }} as instant,
            cast(
                sum(count(*)) over (order by {{ at_column }} rows between unbounded preceding and current row) as bigint
            ) as rows_through
        from {{ relation }}
        group by {{ at_column }}
    )

    select
        {{ relation }}.*,
        up_to.rows_through - coalesce(before.rows_through, 0) - 1 as others_nearby
    from {{ relation }}
    asof left join running as up_to
        on {{ relation }}.{{ at_column }} + interval '{{ minutes }} minutes' >= up_to.instant
    asof left join running as before
        on {{ relation }}.{{ at_column }} - interval '{{ minutes }} minutes' > before.instant
{%- endmacro %}
