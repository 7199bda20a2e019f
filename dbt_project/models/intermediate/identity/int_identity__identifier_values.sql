-- One row per identifier value: may it link, or is it quarantined and why.
-- depends_on: {{ ref('identity_blocklist') }} (its patterns are read at compile time)
{{ config(
    materialized='incremental',
    unique_key=['identifier_type', 'identifier_value'],
    incremental_strategy='delete+insert',
    post_hook="delete from {{ this }} where records = 0",
) }}
with

{{ identifier_values_in_scope(ref('int_identity__identifiers')) }},

records as (
    select * from {{ ref('int_identity__records') }}
),

rules as (
    select * from {{ ref('identity_rules') }}
),

per_source as (
    select
        identifier_type,
        identifier_value,
        source,
        count(distinct record_key) as records
    from identifiers
    group by identifier_type, identifier_value, source
),

surnames as (
    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        count(distinct records.surname) as surnames
    from identifiers
    inner join records
        on identifiers.record_key = records.record_key
    group by identifiers.identifier_type, identifiers.identifier_value
),

per_value as (
    select
        identifier_type,
        identifier_value,
        sum(records) as records,
        max(case when source in ('member_cards', 'wechat_followers', 'weibo_followers') then records else 0 end)
            as most_profiles_in_one_source,
        {{ dbt.listagg("source || '=' || cast(records as varchar)", "', '", "order by source") }} as records_by_source
    from per_source
    group by identifier_type, identifier_value
),

blocked as (
    -- the first blocklist pattern (in pattern order) the whole value matches
    {%- set patterns = identity_blocklist_rows() %}
    select * from (
        select
            identifier_type,
            identifier_value,
            {% if patterns -%}
            case
                {%- for identifier_type, pattern, reason in patterns %}
                when
                    identifier_type = {{ sql_string(identifier_type) }}
                    and {{ regex_full_match('identifier_value', sql_string(pattern)) }} then {{ sql_string(reason) }}
                {%- endfor %}
            end
            {%- else -%}
            cast(null as varchar)
            {%- endif %} as block_reason
        from per_value
    ) as matched
    where block_reason is not null
),

judged as (
    select
        in_scope.identifier_type,
        in_scope.identifier_value,
        in_scope.last_changed_at,
        coalesce(per_value.records, 0) as records,
        per_value.most_profiles_in_one_source,
        per_value.records_by_source,
        surnames.surnames,
        rules.rule_name,
        rules.priority,
        case
            when rules.rule_name is null then 'no rule for this identifier type'
            when blocked.block_reason is not null then 'blocklisted: ' || blocked.block_reason
            when per_value.most_profiles_in_one_source > rules.max_profiles_per_value
                then
                    'on ' || cast(per_value.most_profiles_in_one_source as varchar)
                    || ' profiles of one source (limit ' || cast(rules.max_profiles_per_value as varchar) || ')'
            when surnames.surnames > rules.max_surnames_per_value
                then
                    'used under ' || cast(surnames.surnames as varchar)
                    || ' surnames (limit ' || cast(rules.max_surnames_per_value as varchar) || '): a shared number'
            when per_value.records > rules.max_records_per_value
                then
                    'on ' || cast(per_value.records as varchar)
                    || ' records (limit ' || cast(rules.max_records_per_value as varchar) || ')'
        end as quarantine_reason
    from in_scope
    left join per_value
        on
            in_scope.identifier_type = per_value.identifier_type
            and in_scope.identifier_value = per_value.identifier_value
    left join rules
        on in_scope.identifier_type = rules.identifier_type
    left join blocked
        on
            per_value.identifier_type = blocked.identifier_type
            and per_value.identifier_value = blocked.identifier_value
    left join surnames
        on
            per_value.identifier_type = surnames.identifier_type
            and per_value.identifier_value = surnames.identifier_value
),

final as (
    select
        *,
        quarantine_reason is not null as is_quarantined
    from judged
)

select * from final
