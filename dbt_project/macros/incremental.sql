{#- Incremental models: the latest change a model has taken in, read from its own column (the
    start of time when it is empty), so a build takes only what changed after it. -#}
{% macro watermark(column) -%}
    (select coalesce(max({{ column }}), cast('1900-01-01' as timestamp)) from {{ this }})
{%- endmacro %}

{#- The identity models that work value by value (identifier_values, edges) take the values a
    changed record carries or carried since their own last build (all values on a full build):
    `in_scope` (each with the latest change of a record carrying it) and `identifiers` (the
    current identifiers of those values that name the record's own person: not a gift's
    receiver). -#}
{% macro identifier_values_in_scope(identifiers_relation) -%}
all_identifiers as (
    select * from {{ identifiers_relation }}
),

in_scope as (
    select
        identifier_type,
        identifier_value,
        max(changed_at) as last_changed_at
    from all_identifiers
    {% if is_incremental() %}
    where changed_at > {{ watermark('last_changed_at') }}
    {% endif %}
    group by identifier_type, identifier_value
),

identifiers as (
    select all_identifiers.*
    from all_identifiers
    inner join in_scope
        on all_identifiers.identifier_type = in_scope.identifier_type
        and all_identifiers.identifier_value = in_scope.identifier_value
    where all_identifiers.is_current and not coalesce(all_identifiers.is_unconfirmed_receiver, false)
)
{%- endmacro %}
