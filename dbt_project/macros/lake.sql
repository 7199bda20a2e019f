{#- On Spark, the raw tables are Parquet folders the orchestration writes under the lake
    (ingestion/lake.py): every build registers each source table of schema raw over its folder,
    afresh, so a column a contract added and the files written since are seen. Nothing on
    DuckDB, where the raw tables live in the warehouse. Run from on-run-start. -#}
{% macro register_lake_tables() -%}
    {{ return(adapter.dispatch('register_lake_tables')()) }}
{%- endmacro %}

{% macro default__register_lake_tables() -%}
    select 1
{%- endmacro %}

{% macro spark__register_lake_tables() -%}
    {%- if execute -%}
        {%- set lake = env_var('SCRM_LAKE_DIR', 'data/lake') -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for source in graph.sources.values() if source.schema == 'raw' -%}
            {%- set table = 'raw.`' ~ source.identifier ~ '`' -%}
            {%- do run_query('drop table if exists ' ~ table) -%}
            {%- do run_query('create table ' ~ table ~ " using parquet location '" ~ lake ~ '/raw/' ~ source.identifier.lstrip('_') ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
