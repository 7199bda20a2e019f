{#- Data tests on a daily build look at what changed. A test of a model that names its change
    column in `meta.changed_at` reads only the rows changed since the last successful build
    (raw._dbt_builds, kept by the orchestration: every test passed then); `unique` and
    `unique_combination` read every row carrying a key of those rows, so a changed row that
    repeats an older one still fails. Every row is read on a full refresh, on a warehouse no
    build was recorded in, and with the environment variable SCRM_TEST_ALL_ROWS=true (what the
    orchestration sets when the project changed since the last build, and what to set to test
    everything by hand). An environment variable read only when the tests run, not a dbt var:
    a var dbt was not parsed with makes it parse the whole project again (2.4 s at each full
    build). The test's own `where` config still applies. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- if config.get('where') -%}{%- do filters.append(config.get('where')) -%}{%- endif -%}
    {%- set changed = changed_rows_filter(relation) -%}
    {%- if changed -%}{%- do filters.append(changed) -%}{%- endif -%}
    {%- if filters -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ filters | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro changed_rows_filter(relation) -%}
    {%- if not execute or flags.FULL_REFRESH or env_var('SCRM_TEST_ALL_ROWS', 'false') == 'true' -%}{%- do return(none) -%}{%- endif -%}
    {%- set tested = graph.nodes.get(model.get('attached_node')) -%}
    {%- set column = (tested.config.meta or {}).get('changed_at') if tested else none -%}
    {%- set since = last_successful_build() if column else none -%}
    {%- if since is none -%}{%- do return(none) -%}{%- endif -%}
    {%- set changed = column ~ " > cast('" ~ since ~ "' as timestamp)" -%}
    {%- set test = model.get('test_metadata') or {} -%}
    {%- set kwargs = test.get('kwargs') or {} -%}
    {%- set keys = {'unique': [kwargs.get('column_name')], 'unique_combination': kwargs.get('columns')}.get(test.get('name')) -%}
    {%- if keys -%}
        {%- do return('(' ~ keys | join(', ') ~ ') in (select ' ~ keys | join(', ') ~ ' from ' ~ relation ~ ' where ' ~ changed ~ ')') -%}
    {%- endif -%}
    {%- do return(changed) -%}
{%- endmacro %}

{#- When the last successful build finished (UTC), from raw._dbt_builds; none before the first. -#}
{% macro last_successful_build() -%}
    {%- set builds = adapter.get_relation(database=target.database, schema='raw', identifier='_dbt_builds') -%}
    {%- if builds is none -%}{%- do return(none) -%}{%- endif -%}
    {%- set found = run_query('select max(built_at) from ' ~ builds).columns[0].values() -%}
    {%- do return(found[0] if found | length > 0 else none) -%}
{%- endmacro %}
