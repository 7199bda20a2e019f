-- Accepted probable links as identity edges, with the run each was taken in or given up.
{{ config(
    materialized=kept_by_key(),
    unique_key=['record_key_from', 'record_key_to'],
    incremental_strategy='delete+insert',
) }}
with

accepted as (
    select * from {{ ref('identity_probable_accepted') }}
),

never_link as (
    select * from {{ ref('identity_never_link') }}
),

rules as (
    select * from {{ ref('identity_probable_rules') }}
),

probable_links as (
    select * from {{ ref('int_identity__probable_links') }}
),

records as (
    select * from {{ ref('int_identity__records') }}
),

in_effect as (
    -- reviewed pairs whose two records exist and are not never-linked, and the candidates the
    -- configuration accepts without review
    select
        accepted.record_key_a as record_key_from,
        accepted.record_key_b as record_key_to,
        accepted.rule_name,
        'review' as decided_by
    from accepted
    inner join records as record_a
        on accepted.record_key_a = record_a.record_key
    inner join records as record_b
        on accepted.record_key_b = record_b.record_key
    left join never_link
        on
            (accepted.record_key_a = never_link.record_key_a and accepted.record_key_b = never_link.record_key_b)
            or (accepted.record_key_a = never_link.record_key_b and accepted.record_key_b = never_link.record_key_a)
    where never_link.record_key_a is null
    union
    select
        record_key_a,
        record_key_b,
        rule_name,
        'auto'
    from probable_links
    where status = 'accepted' and decided_by = 'auto'
),

decided as (
    -- a pair both reviewed and auto-accepted is a reviewed one
    select
        record_key_from,
        record_key_to,
        rule_name,
        decided_by,
        row_number() over (partition by record_key_from, record_key_to order by decided_by desc) as decision_rank
    from in_effect
),

present as (
    select
        in_effect.record_key_from,
        in_effect.record_key_to,
        in_effect.rule_name,
        coalesce(rules.priority, 99) as priority,
        'probable_link' as identifier_type,
        coalesce(probable_links.link_id, left(md5(in_effect.record_key_from || '|' || in_effect.record_key_to), 12))
            as identifier_value,
        in_effect.decided_by
    from decided as in_effect
    left join rules
        on in_effect.rule_name = rules.rule_name
    left join probable_links
        on
            in_effect.record_key_from = probable_links.record_key_a
            and in_effect.record_key_to = probable_links.record_key_b
    where in_effect.decision_rank = 1
)

{% if is_incremental() %}
,

previous as (
    select * from {{ this }}
    where is_current
),

taken_in as (
    select
        present.*,
        true as is_current,
        {{ run_started() }} as changed_at
    from present
    left join previous
        on
            present.record_key_from = previous.record_key_from
            and present.record_key_to = previous.record_key_to
            and present.rule_name = previous.rule_name
            and present.decided_by = previous.decided_by
    where previous.record_key_from is null
),

given_up as (
    select
        previous.record_key_from,
        previous.record_key_to,
        previous.rule_name,
        previous.priority,
        previous.identifier_type,
        previous.identifier_value,
        previous.decided_by,
        false as is_current,
        {{ run_started() }} as changed_at
    from previous
    left join present
        on
            previous.record_key_from = present.record_key_from
            and previous.record_key_to = present.record_key_to
    where present.record_key_from is null
)

select * from taken_in
union all
select * from given_up
{% else %}
select
    *,
    true as is_current,
    {{ run_started() }} as changed_at
from present
{% endif %}
