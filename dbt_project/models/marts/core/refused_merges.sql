-- Merges the identity check refused: components that would have held two people.
with

clusters as (
    select * from {{ ref('int_identity__clusters') }}
),

identities as (
    select * from {{ ref('int_identity__identities') }}
),

edges as (
    select * from {{ ref('int_identity__graph_edges') }}
),

split_clusters as (
    -- a component the check split holds several clusters: all but the one of the component's
    -- smallest record (its key, component_key) have another smallest record, so another
    -- cluster_key. A component kept whole has cluster_key = component_key on every record.
    select clusters.*
    from clusters
    where clusters.component_key in (
        select split.component_key from clusters as split
        where split.cluster_key != split.component_key
    )
),

split_components as (
    select
        component_key,
        count(distinct cluster_key) as clusters,
        count(*) as records
    from split_clusters
    group by component_key
),

component_identities as (
    select
        clusters.component_key,
        identities.identity,
        identities.identity_value
    from identities
    inner join split_clusters as clusters
        on identities.record_key = clusters.record_key
),

conflicts as (
    select
        component_key,
        {{ dbt.listagg(
            "identity || ' x' || cast(distinct_values as " ~ dbt.type_string() ~ ")", "', '", "order by identity"
        ) }}
            as conflicting_identities
    from (
        select
            component_key,
            identity,
            count(distinct identity_value) as distinct_values
        from component_identities
        group by component_key, identity
        having count(distinct identity_value) > 1
    ) as per_identity
    group by component_key
),

refused_links as (
    -- links between two clusters of one component: the ones the check refused
    select
        ends_from.component_key,
        count(*) as refused_links,
        {{ dbt.listagg("distinct edges.rule_name", "', '", "order by edges.rule_name") }} as refused_rules
    from edges
    inner join split_clusters as ends_from
        on edges.record_key_from = ends_from.record_key
    inner join split_clusters as ends_to
        on edges.record_key_to = ends_to.record_key
    where ends_from.cluster_key != ends_to.cluster_key
    group by ends_from.component_key
),

final as (
    select
        split_components.component_key,
        split_components.clusters,
        split_components.records,
        conflicts.conflicting_identities,
        coalesce(refused_links.refused_links, 0) as refused_links,
        refused_links.refused_rules
    from split_components
    left join conflicts
        on split_components.component_key = conflicts.component_key
    left join refused_links
        on split_components.component_key = refused_links.component_key
)

select * from final
