-- One row per identifier value: may it link, or is it quarantined and why.
-- depends_on: {{ ref('identity_blocklist') }} (its patterns are read at compile time)
{{ config(
    materialized=kept_by_key(),
    unique_key=['identifier_type', 'identifier_value'],
    incremental_strategy='delete+insert',
    post_hook="{{ delete_rows('records = 0') }}",
) }}
with

{{ identifier_values_in_scope(ref('int_identity__identifiers')) }},

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

per_value as (
    select
        identifier_type,
        identifier_value,
        sum(records) as records,
        max(case when source in ('member_cards', 'wechat_followers', 'weibo_followers') then records else 0 end)
            as most_profiles_in_one_source,
        {{ dbt.listagg("source || '=' || cast(records as " ~ dbt.type_string() ~ ")", "', '", "order by source") }}
            as records_by_source
    from per_source
    group by identifier_type, identifier_value
),

evidence as (
    -- who the value's records say they are: their real names, and how many carry it without
    -- being a walk-in receipt (a named record, a profile, a receipt with a card); a record
    -- carries a value once
    select
        identifier_type,
        identifier_value,
        count(distinct name_key) as names,
        cast(sum(case when is_walk_in then 0 else 1 end) as bigint) as corroborating_records,
        cast(sum(case when is_walk_in then 1 else 0 end) as bigint) as walk_in_records
    from identifiers
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
        coalesce(per_value.records, 0) as records,
        per_value.most_profiles_in_one_source,
        per_value.records_by_source,
        evidence.names,
        evidence.walk_in_records,
        rules.rule_name,
        rules.priority,
        coalesce(rules.shared_by_people, false) as is_shared_by_people,
        case
            when rules.rule_name is null then 'no rule for this identifier type'
            when blocked.block_reason is not null then 'blocklisted: ' || blocked.block_reason
            when per_value.most_profiles_in_one_source > rules.max_profiles_per_value
                then
                    'on ' || cast(per_value.most_profiles_in_one_source as {{ dbt.type_string() }})
                    || ' profiles of one source (limit '
                    || cast(rules.max_profiles_per_value as {{ dbt.type_string() }}) || ')'
            when per_value.records > rules.max_records_per_value
                then
                    'on ' || cast(per_value.records as {{ dbt.type_string() }})
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
    left join per_value
        on
            in_scope.identifier_type = per_value.identifier_type
            and in_scope.identifier_value = per_value.identifier_value
    left join evidence
        on
            in_scope.identifier_type = evidence.identifier_type
            and in_scope.identifier_value = evidence.identifier_value
    left join rules
        on in_scope.identifier_type = rules.identifier_type
    left join blocked
        on
            per_value.identifier_type = blocked.identifier_type
            and per_value.identifier_value = blocked.identifier_value
),

final as (
    select
        *,
        quarantine_reason is not null as is_quarantined,
        case
            when quarantine_reason like 'no rule%' then 'no rule'
            when quarantine_reason like 'blocklisted%' then 'blocklisted'
            when quarantine_reason like '% profiles of one source%' then 'on several profiles of one source'
            when quarantine_reason like '% records (limit%' then 'on too many records'
            when quarantine_reason like 'only on walk-in receipts%' then 'only on walk-in receipts'
            when name_restriction is not null then 'used under several real names'
            when walk_in_restriction is not null then 'also on walk-in receipts'
        end as decision_kind
    from judged
)

select * from final
