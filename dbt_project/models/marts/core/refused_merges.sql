-- Merges the identity check refused: components that would have held two people.
with

clusters as (
    select * from {{ ref('int_identity__clusters') }}
),

identifiers as (
    select * from {{ ref('int_identity__identifiers') }}
),

edges as (
    select * from {{ ref('int_identity__edges') }}
),

rules as (
    select * from {{ ref('identity_rules') }}
),

split_components as (
    select
        component_key,
        count(distinct cluster_key) as clusters,
        count(*) as records
    from clusters
    group by component_key
    having count(distinct cluster_key) > 1
),

identities as (
    -- the identities a person has one of, in the split components
    select
        clusters.component_key,
        case
            when identifiers.identifier_type = 'platform_buyer'
                then identifiers.identifier_type || ':' || split_part(identifiers.identifier_value, ':', 1)
            else identifiers.identifier_type
        end as identity,
        identifiers.identifier_value
    from identifiers
    inner join rules
        on identifiers.identifier_type = rules.identifier_type
    inner join clusters
        on identifiers.record_key = clusters.record_key
    inner join split_components
        on clusters.component_key = split_components.component_key
    where identifiers.is_current and rules.one_per_person
),

conflicts as (
    select
        component_key,
        {{ dbt.listagg("identity || ' x' || cast(distinct_values as varchar)", "', '", "order by identity") }}
            as conflicting_identities
    from (
        select
            component_key,
            identity,
            count(distinct identifier_value) as distinct_values
        from identities
        group by component_key, identity
        having count(distinct identifier_value) > 1
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
    inner join clusters as ends_from
        on edges.record_key_from = ends_from.record_key
    inner join clusters as ends_to
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
