{#- The rows of a raw table that may flow: batches that passed validation, were released by
    someone, or were not validated yet (a load outside Dagster). Rows of held batches stay out
    until someone releases or drops them (`scrm batches`). A released batch counts as arriving
    when it was released, so incremental models downstream take it in. -#}
{% macro validated_rows(relation) -%}
    {{ return(adapter.dispatch('validated_rows')(relation)) }}
{%- endmacro %}

{% macro default__validated_rows(relation) -%}
    select
        raw_rows.* replace ({{ arrival('raw_rows', 'verdicts') }} as _loaded_at)
    from {{ relation }} as raw_rows
    {{ verdicts_join('raw_rows', 'verdicts') }}
{%- endmacro %}

{#- Spark has no `* replace`: the raw table's columns are named, read from the catalog. -#}
{% macro spark__validated_rows(relation) -%}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list if execute else [] -%}
    select
        {%- for column in columns if column != '_loaded_at' %}
        raw_rows.{{ column }},
        {%- endfor %}
        {{ arrival('raw_rows', 'verdicts') }} as _loaded_at
    from {{ relation }} as raw_rows
    {{ verdicts_join('raw_rows', 'verdicts') }}
{%- endmacro %}

{% macro arrival(raw_rows, verdicts) -%}
    coalesce({{ verdicts }}.decided_at, {{ raw_rows }}._loaded_at)
{%- endmacro %}

{% macro verdicts_join(raw_rows, verdicts) -%}
    left join {{ source('ingestion', 'batch_verdicts') }} as {{ verdicts }}
        on {{ raw_rows }}._batch_id = {{ verdicts }}.batch_id
    where {{ verdicts }}.verdict is null or {{ verdicts }}.verdict in ('passed', 'released')
{%- endmacro %}
