{#- The rows of a raw table that may flow: batches that passed validation, were released by
    someone, or were not validated yet (a load outside Dagster). Rows of held batches stay out
    until someone releases or drops them (`scrm batches`). A released batch counts as arriving
    when it was released, so incremental models downstream take it in. -#}
{% macro validated_rows(relation) -%}
    select
        {{ star_except('_loaded_at', 'raw_rows') }},
        coalesce(verdicts.decided_at, raw_rows._loaded_at) as _loaded_at
    from {{ relation }} as raw_rows
    left join {{ source('ingestion', 'batch_verdicts') }} as verdicts
        on raw_rows._batch_id = verdicts.batch_id
    where verdicts.verdict is null or verdicts.verdict in ('passed', 'released')
{%- endmacro %}
