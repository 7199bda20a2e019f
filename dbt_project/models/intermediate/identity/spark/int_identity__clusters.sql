-- Each record's cluster on Spark, where dbt runs Python models only on Databricks: the rows of
-- int_identity__clusters.py (enabled on the other engines) from SQL alone.
-- 1. Connected components: large-star / small-star rounds (macros/components.sql), in the
--    pre-hook, into the helper table <this>__components.
-- 2. A component holding two values of an identity a person has one of is clustered again
--    link by link, strongest first, refusing a link that would join two such values: the union
--    find of transform/identity.py, as a fold (aggregate) over the component's ordered links,
--    carrying each record's root and each root's identities. A fold costs links x records, and
--    only the few conflicted components take it.
-- Rebuilt whole on each run (parquet tables cannot delete the components computed again).
-- The inputs of the Python model, so the asset graph is the same on both engines (the records
-- are read in the pre-hook; identifiers and probable edges reach it through graph_edges):
-- depends_on: {{ ref('int_identity__records') }} {{ ref('int_identity__identifiers') }}
-- depends_on: {{ ref('int_identity__probable_edges') }}
{{ config(
    materialized='table',
    pre_hook="{{ connected_components(ref('int_identity__records'), ref('int_identity__graph_edges'), this.incorporate(path={'identifier': this.identifier ~ '__components'})) }}",
) }}
with

components as (
    select * from {{ this.incorporate(path={'identifier': this.identifier ~ '__components'}) }}
),

identities as (
    select * from {{ ref('int_identity__identities') }}
),

edges as (
    select * from {{ ref('int_identity__graph_edges') }}
),

conflicted as (
    select distinct components.component_key
    from components
    inner join identities
        on components.record_key = identities.record_key
    group by components.component_key, identities.identity
    having count(distinct identities.identity_value) > 1
),

members as (
    select components.*
    from components
    inner join conflicted
        on components.component_key = conflicted.component_key
),

held as (
    -- each member's identities, one value each (the smallest, should a record carry two)
    select
        record_key,
        map_from_entries(collect_list(struct(identity, identity_value))) as identities
    from (
        select
            identities.record_key,
            identities.identity,
            min(identities.identity_value) as identity_value
        from identities
        inner join members
            on identities.record_key = members.record_key
        group by identities.record_key, identities.identity
    ) as one_value
    group by record_key
),

start as (
    -- every member its own root, holding its own identities
    select
        members.component_key,
        map_from_entries(collect_list(struct(members.record_key, members.record_key))) as root_of,
        map_from_entries(collect_list(struct(
            members.record_key, coalesce(held.identities, cast(map() as map<string, string>))
        ))) as held_by
    from members
    left join held
        on members.record_key = held.record_key
    group by members.component_key
),

links as (
    -- the component's links, strongest first
    select
        members.component_key,
        array_sort(collect_list(struct(edges.priority, edges.record_key_from, edges.record_key_to))) as ordered
    from edges
    inner join members
        on edges.record_key_from = members.record_key
    group by members.component_key
),

folded as (
    select
        start.component_key,
        aggregate(
            coalesce(links.ordered, array()),
            struct(start.root_of, start.held_by),
            (state, link) -> case
                when state.root_of[link.record_key_from] is null or state.root_of[link.record_key_to] is null
                    or state.root_of[link.record_key_from] = state.root_of[link.record_key_to]
                    then state
                -- refused: the two sides hold different values of one identity
                when exists(
                    map_keys(state.held_by[state.root_of[link.record_key_from]]),
                    identity -> state.held_by[state.root_of[link.record_key_to]][identity]
                        != state.held_by[state.root_of[link.record_key_from]][identity]
                ) then state
                else struct(
                    -- the larger root joins the smaller (which root survives does not change the clusters)
                    transform_values(
                        state.root_of,
                        (record, root) -> case
                            when root = greatest(state.root_of[link.record_key_from], state.root_of[link.record_key_to])
                                then least(state.root_of[link.record_key_from], state.root_of[link.record_key_to])
                            else root
                        end
                    ) as root_of,
                    map_concat(
                        map_filter(
                            state.held_by,
                            (root, held) -> root != state.root_of[link.record_key_from]
                            and root != state.root_of[link.record_key_to]
                        ),
                        map(
                            least(state.root_of[link.record_key_from], state.root_of[link.record_key_to]),
                            map_concat(
                                state.held_by[state.root_of[link.record_key_from]],
                                map_filter(
                                    state.held_by[state.root_of[link.record_key_to]],
                                    (identity, held_value) -> not array_contains(
                                        map_keys(state.held_by[state.root_of[link.record_key_from]]), identity
                                    )
                                )
                            )
                        )
                    ) as held_by
                )
            end
        ).root_of as root_of
    from start
    left join links
        on start.component_key = links.component_key
),

split as (
    select
        component_key,
        record_key,
        root
    from folded
    lateral view explode(root_of) as record_key, root
),

reclustered as (
    select
        record_key,
        min(record_key) over (partition by root) as cluster_key,
        count(*) over (partition by root) as cluster_size,
        component_key
    from split
),

kept as (
    select
        components.record_key,
        components.component_key as cluster_key,
        count(*) over (partition by components.component_key) as cluster_size,
        components.component_key
    from components
    left join conflicted
        on components.component_key = conflicted.component_key
    where conflicted.component_key is null
),

clusters as (
    select * from kept
    union all
    select * from reclustered
),

final as (
    select
        record_key,
        cluster_key,
        cast(cluster_size as bigint) as cluster_size,
        component_key,
        {{ run_started() }} as clustered_at
    from clusters
)

select * from final
