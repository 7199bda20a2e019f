-- One row per identifier value: may it link, or is it quarantined and why.
-- depends_on: {{ ref('identity_blocklist') }} (its patterns are read at compile time)
{{ config(
    materialized=kept_by_key(),
    unique_key=['identifier_type', 'identifier_value'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook="{{ delete_rows('records = 0') }}",
) }}
{#- the verdict's time is kept from the previous row, once the table has the column (a warehouse
    built before it: the values judged again take the time they are judged) -#}
{%- set keeps_verdict_time = is_incremental() and (
    this is string
    or (execute and 'quarantine_changed_at' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list))
) %}
with

{{ identifier_values_in_scope(ref('int_identity__identifiers')) }},

rules as (
    select * from {{ ref('identity_rules') }}
),

per_source as (
    -- a record carries one value of a type (tested on int_identity__identifiers): its rows count
    -- its records
    select
        identifier_type,
        identifier_value,
        source,
        count(*) as records,
        sum(case when is_walk_in then 1 else 0 end) as walk_in_records,
        min(name_key) as first_name,
        max(name_key) as last_name
    from identifiers
    group by identifier_type, identifier_value, source
),

per_value as (
    -- most values are on one record, of one source, under at most one name: the list of
    -- sources and the count of names are worked out below only for the others (an ordered
    -- aggregate and a distinct count over every value cost most of this model's time)
    select
        identifier_type,
        identifier_value,
        sum(records) as records,
        max(case when source in ('member_cards', 'wechat_followers', 'weibo_followers') then records else 0 end)
            as most_profiles_in_one_source,
        count(*) as sources,
        min(source || '=' || cast(records as {{ dbt.type_string() }})) as first_source_records,
        cast(sum(walk_in_records) as bigint) as walk_in_records,
        min(first_name) as first_name,
        max(last_name) as last_name
    from per_source
    group by identifier_type, identifier_value
),

several_sources as (
    select
        per_source.identifier_type,
        per_source.identifier_value,
        {{ dbt.listagg(
            "per_source.source || '=' || cast(per_source.records as " ~ dbt.type_string() ~ ")",
            "', '",
            "order by per_source.source"
        ) }} as records_by_source
    from per_source
    inner join per_value
        on
            per_source.identifier_type = per_value.identifier_type
            and per_source.identifier_value = per_value.identifier_value
    where per_value.sources > 1
    group by per_source.identifier_type, per_source.identifier_value
),

several_names as (
    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        count(distinct identifiers.name_key) as names
    from identifiers
    inner join per_value
        on
            identifiers.identifier_type = per_value.identifier_type
            and identifiers.identifier_value = per_value.identifier_value
    where per_value.first_name != per_value.last_name
    group by identifiers.identifier_type, identifiers.identifier_value
),

evidence as (
    -- who the value's records say they are: their real names, and how many carry it without
    -- being a walk-in receipt (a named record, a profile, a receipt with a card)
    select
        per_value.identifier_type,
        per_value.identifier_value,
        per_value.records,
        per_value.most_profiles_in_one_source,
        coalesce(several_sources.records_by_source, per_value.first_source_records) as records_by_source,
        coalesce(several_names.names, case when per_value.first_name is null then 0 else 1 end) as names,
        cast(per_value.records - per_value.walk_in_records as bigint) as corroborating_records,
        per_value.walk_in_records
    from per_value
    left join several_sources
        on
            per_value.identifier_type = several_sources.identifier_type
            and per_value.identifier_value = several_sources.identifier_value
    left join several_names
        on
            per_value.identifier_type = several_names.identifier_type
            and per_value.identifier_value = several_names.identifier_value
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
                    and {{ regex_full_match('identifier_value', sql_string(pattern)) }}
                    then {{ sql_string(reason) }}
                {%- endfor %}
            end
            {%- else -%}
            cast(null as {{ dbt.type_string() }})
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
        coalesce(evidence.records, 0) as records,
        evidence.most_profiles_in_one_source,
        evidence.records_by_source,
        evidence.names,
        evidence.walk_in_records,
        rules.rule_name,
        rules.priority,
        coalesce(rules.shared_by_people, false) as is_shared_by_people,
        case
            when rules.rule_name is null then 'no rule for this identifier type'
            when blocked.block_reason is not null then 'blocklisted: ' || blocked.block_reason
            when evidence.most_profiles_in_one_source > rules.max_profiles_per_value
                then
                    'on ' || cast(evidence.most_profiles_in_one_source as {{ dbt.type_string() }})
                    || ' profiles of one source (limit '
                    || cast(rules.max_profiles_per_value as {{ dbt.type_string() }}) || ')'
            when evidence.records > rules.max_records_per_value
                then
                    'on ' || cast(evidence.records as {{ dbt.type_string() }})
                    || ' records (limit ' || cast(rules.max_records_per_value as {{ dbt.type_string() }})
                    || '): more than one person'
            when rules.shared_by_people and evidence.walk_in_records > 0 and evidence.corroborating_records = 0
                then
                    'only on walk-in receipts (' || cast(evidence.walk_in_records as {{ dbt.type_string() }})
                    || '): a number the till took without a card may be anyone''s (the store''s, a cashier''s)'
        end as quarantine_reason,
        case
            when rules.shared_by_people and evidence.walk_in_records > 0 and evidence.corroborating_records > 0
                then
                    'also on walk-in receipts (' || cast(evidence.walk_in_records as {{ dbt.type_string() }})
                    || '), which never link: a number the till took without a card may be anyone''s'
        end as walk_in_restriction,
        case
            when rules.shared_by_people and evidence.names > 1
                then
                    'used under ' || cast(evidence.names as {{ dbt.type_string() }})
                    || ' real names (a household phone, a reissued number): links records under one name only'
        end as name_restriction
    from in_scope
    left join evidence
        on
            in_scope.identifier_type = evidence.identifier_type
            and in_scope.identifier_value = evidence.identifier_value
    left join rules
        on in_scope.identifier_type = rules.identifier_type
    left join blocked
        on
            evidence.identifier_type = blocked.identifier_type
            and evidence.identifier_value = blocked.identifier_value
),

final as (
    select
        judged.*,
        judged.quarantine_reason is not null as is_quarantined,
        case
            when judged.quarantine_reason like 'no rule%' then 'no rule'
            when judged.quarantine_reason like 'blocklisted%' then 'blocklisted'
            when judged.quarantine_reason like '% profiles of one source%' then 'on several profiles of one source'
            when judged.quarantine_reason like '% records (limit%' then 'on too many records'
            when judged.quarantine_reason like 'only on walk-in receipts%' then 'only on walk-in receipts'
            when judged.name_restriction is not null then 'used under several real names'
            when judged.walk_in_restriction is not null then 'also on walk-in receipts'
        end as decision_kind,
        -- when the value was first judged or its quarantine last changed: a value judged again
        -- keeps it while the verdict stays (a phone on one more record), so what depends on the
        -- verdict alone (the profile's phone) looks at the values whose verdict moved
        {%- if keeps_verdict_time %}
        case
            when previous.is_quarantined = (judged.quarantine_reason is not null) then previous.quarantine_changed_at
            else judged.last_changed_at
        end
        {%- else %}
        judged.last_changed_at
        {%- endif %} as quarantine_changed_at
    from judged
    {%- if keeps_verdict_time %}
    left join {{ this }} as previous
        on
            judged.identifier_type = previous.identifier_type
            and judged.identifier_value = previous.identifier_value
    {%- endif %}
)

select * from final
