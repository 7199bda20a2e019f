{#- dbt's cross-database macros where dbt-spark's differ from the other engines'. -#}

{#- listagg keeping its order (dbt-spark's ignores `order by`): the values sorted by the order
    expression (then by value, so ties come out the same every time), or, for `distinct x`
    ordered by x, the distinct values sorted. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set order_by = (order_by_clause or '') | replace('order by', '') | trim -%}
    {%- if limit_num -%}{%- do exceptions.raise_compiler_error('listagg: limit_num is not supported on Spark') -%}{%- endif -%}
    {%- if measure.startswith('distinct ') -%}
        {%- if order_by and order_by != measure[9:] | trim -%}
            {%- do exceptions.raise_compiler_error('listagg: distinct values are ordered by themselves on Spark') -%}
        {%- endif -%}
        array_join(array_sort(collect_set({{ measure[9:] }})), {{ delimiter_text }})
    {%- elif order_by -%}
        array_join(transform(array_sort(collect_list(struct({{ order_by }} as sort_key, {{ measure }} as value))), item -> item.value), {{ delimiter_text }})
    {%- else -%}
        array_join(collect_list({{ measure }}), {{ delimiter_text }})
    {%- endif -%}
{%- endmacro %}
{#- Seeds on Spark: dbt-spark's session cursor puts each value into the insert unescaped, so a
    quote in a seed (the rules' descriptions: "the brand's official account") breaks the
    statement. The values are written as literals here instead, escaped by sql_string. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set value = row[loop.index0] -%}
                    cast({{ 'null' if value is none else sql_string(value) }} as {{ seed_column_type(model, agate_table, loop.index0) }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{#- A seed's table, created by a query that returns no rows rather than by a column list:
    Spark then writes a file carrying the columns even for an empty seed (identity_never_link
    until someone fills it), which the DuckDB side reads (ingestion/lake.py). -#}
{% macro spark__create_csv_table(model, agate_table) %}
    {%- set sql -%}
        create table {{ this.render() }}
        {{ file_format_clause() }}
        as select
        {%- for col_name in agate_table.column_names %}
            cast(null as {{ seed_column_type(model, agate_table, loop.index0) }})
                as {{ adapter.quote_seed_column(col_name | string, model['config'].get('quote_columns', None)) }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
        where 1 = 0
    {%- endset -%}
    {%- call statement('_') -%}{{ sql }}{%- endcall -%}
    {{ return(sql) }}
{% endmacro %}

{#- A seed column's type: the seed's column_types, else the type dbt infers from the CSV. -#}
{% macro seed_column_type(model, agate_table, index) -%}
    {{ return(model['config'].get('column_types', {}).get(agate_table.column_names[index], adapter.convert_type(agate_table, index))) }}
{%- endmacro %}
