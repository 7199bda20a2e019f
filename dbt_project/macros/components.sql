{#- Connected components in SQL, for engines without the Python clustering (Spark runs dbt
    Python models only on Databricks). Large-star / small-star (Kiveris et al., "Connected
    Components in MapReduce and Beyond", 2014): each round joins every node to the smallest node
    it sees, so a component becomes a star around its smallest node in O(log^2 n) rounds (10,
    the last changing nothing, for a chain of 300 records: tests/integration/test_spark.py). Each round is written to a table: a view would nest every round's
    plan in the next. Writes `out` (record_key, component_key: the smallest record key of the
    component) for every record of `records`; the edges' ends must be records. -#}
{% macro connected_components(records, edges, out, max_rounds=64) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set star = out.incorporate(path={'identifier': out.identifier ~ '_star'}) -%}
    {%- set large = out.incorporate(path={'identifier': out.identifier ~ '_large'}) -%}
    {%- set small = out.incorporate(path={'identifier': out.identifier ~ '_small'}) -%}
    {%- for table in [star, large, small, out] -%}{%- do run_query('drop table if exists ' ~ table) -%}{%- endfor -%}
    {#- each undirected edge once, its larger end first #}
    {%- do run_query('create table ' ~ star ~ ' as select distinct
            greatest(edges.record_key_from, edges.record_key_to) as node, least(edges.record_key_from, edges.record_key_to) as parent
        from ' ~ edges ~ ' as edges
        inner join ' ~ records ~ ' as from_record on edges.record_key_from = from_record.record_key
        inner join ' ~ records ~ ' as to_record on edges.record_key_to = to_record.record_key
        where edges.record_key_from != edges.record_key_to') -%}
    {%- set neighbours = "(select node as u, parent as v from {0} union all select parent as u, node as v from {0})" -%}
    {%- set rounds = namespace(done=false, count=0) -%}
    {%- for round in range(max_rounds) if not rounds.done -%}
        {#- large star: every larger neighbour of a node is tied to the smallest node it sees #}
        {%- do run_query('create table ' ~ large ~ ' as
            with neighbours as ' ~ neighbours.format(star) ~ ',
            smallest as (select u, least(u, min(v)) as m from neighbours group by u)
            select distinct neighbours.v as node, smallest.m as parent
            from neighbours inner join smallest on neighbours.u = smallest.u
            where neighbours.v > neighbours.u') -%}
        {#- small star: a node and its smaller neighbours are tied to the smallest of them #}
        {%- do run_query('drop table if exists ' ~ small) -%}
        {%- do run_query('create table ' ~ small ~ ' as
            with smaller as (
                select u, v from ' ~ neighbours.format(large) ~ ' as neighbours where v < u
            ),
            smallest as (select u, min(v) as m from smaller group by u)
            select smaller.v as node, smallest.m as parent
            from smaller inner join smallest on smaller.u = smallest.u
            where smaller.v != smallest.m
            union
            select u as node, m as parent from smallest') -%}
        {%- set changed = run_query('select count(*) from (
                (select node, parent from ' ~ small ~ ' except select node, parent from ' ~ star ~ ')
                union all
                (select node, parent from ' ~ star ~ ' except select node, parent from ' ~ small ~ ')
            ) as changes').columns[0].values()[0] -%}
        {%- do run_query('drop table ' ~ star) -%}
        {%- do run_query('drop table ' ~ large) -%}
        {%- do run_query('alter table ' ~ small ~ ' rename to ' ~ star) -%}
        {%- set rounds.count = rounds.count + 1 -%}
        {%- set rounds.done = changed == 0 -%}
    {%- endfor -%}
    {%- if not rounds.done -%}
        {%- do exceptions.raise_compiler_error('connected_components: no fixed point after ' ~ max_rounds ~ ' rounds') -%}
    {%- endif -%}
    {{ log('connected components: ' ~ rounds.count ~ ' rounds', info=true) }}
    {#- a star: every node's one parent is its component's smallest node #}
    {%- do run_query('create table ' ~ out ~ ' as
        select records.record_key, coalesce(star.parent, records.record_key) as component_key
        from ' ~ records ~ ' as records
        left join (select node, min(parent) as parent from ' ~ star ~ ' group by node) as star
            on records.record_key = star.node') -%}
    {%- do run_query('drop table ' ~ star) -%}
    {{ return('') }}
{%- endmacro %}
