{#- How a model kept by key is materialised on this engine: incremental where rows can be
    deleted (DuckDB), a table rebuilt whole on Spark's parquet tables (no DELETE, no MERGE; a
    cluster with Delta or Iceberg could keep them by key: README, "On Apache Spark"). The staging
    folder says the same in dbt_project.yml, where macros cannot be called. -#}
{% macro kept_by_key() -%}
    {{ return('table' if target.type == 'spark' else 'incremental') }}
{%- endmacro %}

{#- A view, but a table on Spark: the DuckDB side (the summary, the accuracy figures) reads what
    a Spark build made from its Parquet files, and a Spark view has none. -#}
{% macro view_or_table() -%}
    {{ return('table' if target.type == 'spark' else 'view') }}
{%- endmacro %}

{#- A hook's delete of the rows of this model matching `condition` (erasures, placeholder rows).
    Spark's parquet tables cannot delete: the rows kept are copied aside and written back over
    the table (Spark refuses to overwrite a table in the query that reads it), which keeps its
    partitioning. -#}
{% macro delete_rows(condition) -%}
    {{ return(adapter.dispatch('delete_rows')(condition)) }}
{%- endmacro %}

{% macro default__delete_rows(condition) -%}
    delete from {{ this }} where {{ condition }}
{%- endmacro %}

{% macro spark__delete_rows(condition) -%}
    {%- set kept = this.incorporate(path={'identifier': this.identifier ~ '__kept'}) -%}
    {%- if execute -%}
        {%- do run_query('drop table if exists ' ~ kept) -%}
        {%- do run_query('create table ' ~ kept ~ ' using parquet as select * from ' ~ this ~ ' where not coalesce(' ~ condition ~ ', false)') -%}
        {#- static: every partition is replaced, also one left without rows -#}
        {%- do run_query('set spark.sql.sources.partitionOverwriteMode = static') -%}
        {%- do run_query('insert overwrite table ' ~ this ~ ' select * from ' ~ kept) -%}
        {%- do run_query('drop table ' ~ kept) -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{#- A model that keeps history (fan_trust_weekly: a week is never built again) forgets the fans of
    an erasure (scope fan) once: their rows are deleted and the fans recorded in
    privacy.<model>__forgotten (never published). A later run deletes only the fans not recorded
    there: what it adds comes from marts the forgotten fans have left. Deleting every erased fan
    every run read every week: with a year of weeks at 1M people, 1.05-1.15 s a run
    (benchmarks/history.py). The model's hooks: forget_fans_once('prepare') before, then
    forget_fans_once('delete') and forget_fans_once('record') after. -#}
{% macro forget_fans_once(step) -%}
    {%- set forgotten = api.Relation.create(database=this.database, schema='privacy', identifier=this.identifier ~ '__forgotten') -%}
    {%- set new_fans -%}
        select distinct fan_id from {{ ref('int_privacy__erased_records') }}
        where erasure_scope = 'fan' and fan_id not in (select fan_id from {{ forgotten }})
    {%- endset -%}
    {%- if step == 'prepare' -%}
        {%- if execute -%}{%- do run_query('create schema if not exists ' ~ forgotten.without_identifier()) -%}{%- endif -%}
        create table if not exists {{ forgotten }} (fan_id {{ dbt.type_string() }}, forgotten_at {{ dbt.type_timestamp() }})
        {{- ' using parquet' if target.type == 'spark' }}
    {%- elif step == 'delete' -%}
        {{ delete_rows('fan_id in (' ~ new_fans ~ ')') }}
    {%- elif step == 'record' -%}
        insert into {{ forgotten }} select fan_id, {{ run_started() }} from ({{ new_fans }}) as new_fans
    {%- endif -%}
{%- endmacro %}

{#- Incremental models: the latest change a model has taken in, read from its own column once,
    before the model's statements change the table (a mart kept by fan deletes the touched fans'
    rows first), and written as a literal: a scan then skips the row groups that hold only older
    rows (a subquery compared every row: finding no new interactions among 5.7M at 1M people took
    0.5 s, against 0.01 s). The start of time on a full build, when the table is empty, or while it
    lacks the column (a warehouse built before the model kept it: everything is rebuilt once). In
    a unit test `this` is the test's given rows: read by a subquery. -#}
{% macro watermark(column) -%}
    {%- if this is string -%}
        (select coalesce(max({{ column }}), cast('1900-01-01' as timestamp)) from {{ this }})
    {%- else -%}
        {%- set since = '1900-01-01 00:00:00' -%}
        {%- if execute and is_incremental() -%}
            {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
            {%- if column in columns -%}
                {%- set latest = run_query('select max(' ~ column ~ ') from ' ~ this).columns[0].values()[0] -%}
                {%- if latest is not none -%}{%- set since = latest -%}{%- endif -%}
            {%- endif -%}
        {%- endif -%}
        cast('{{ since }}' as timestamp)
    {%- endif -%}
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

identifiers as {{ selected_first() }} (
    -- on a full build every value is in scope: no join
    select all_identifiers.*
    from all_identifiers
    {%- if is_incremental() %}
    inner join in_scope
        on all_identifiers.identifier_type = in_scope.identifier_type
        and all_identifiers.identifier_value = in_scope.identifier_value
    {%- endif %}
    where all_identifiers.is_current and not coalesce(all_identifiers.is_unconfirmed_receiver, false)
)
{%- endmacro %}

{#- Marts kept by fan, their pre-hook on a daily build: the fans it rebuilds (`touched_sql`, one
    of the touched_* macros below) are computed once, into a temporary table named after the
    model, their rows deleted, and the select rebuilds them from that table. -#}
{% macro touched_fans_table() -%}
    {{ this.identifier }}__touched_fans
{%- endmacro %}

{% macro delete_touched_fans(touched_sql) -%}
    {%- if execute and is_incremental() -%}
        {%- do run_query('create or replace temporary table ' ~ touched_fans_table() ~ ' as ' ~ touched_sql) -%}
        delete from {{ this }} where fan_id in (select fan_id from {{ touched_fans_table() }})
    {%- endif -%}
{%- endmacro %}

{#- A daily build's few rows of a large table (the touched fans' interactions), computed before
    anything joins them: `<name> as {{ selected_first() }} (...)`. DuckDB's planner, misjudging
    how many rows a comparison with the reporting day keeps, otherwise hashed every row of the
    large table to find them (int_engagement__activity, 5,000 fans among 5.4M interactions:
    1.0 s, against 0.34 s computed first). A full build and Spark leave it to the planner. -#}
{% macro selected_first() -%}
    {{- 'materialized' if target.type == 'duckdb' and is_incremental() -}}
{%- endmacro %}

{#- The fans whose facts may have changed since `since`: the old and new fan of every record
    that moved (a merge, a split, a new record), the fans of orders and interactions built
    again (new, refunded, moved) and of the messages a reply built again answers, and the fans
    of erased records (few: all of them, every run).
    A model that calls this inside is_incremental() names these three models in a depends_on
    comment. -#}
{% macro touched_fans(since) -%}
    select fan_id from {{ ref('int_identity__fan_assignments') }}
    where record_key in (select record_key from {{ ref('int_identity__fan_assignments') }} where assigned_at > {{ since }})
    union
    select fan_id from {{ ref('interactions') }} where refreshed_at > {{ since }} and fan_id is not null
    union
    select fan_id from {{ ref('interactions') }}
    where event_id in (
        select reply_to_event_id from {{ ref('interactions') }} where is_brand_reply and refreshed_at > {{ since }}
    )
    union
    select fan_id from {{ ref('orders') }} where refreshed_at > {{ since }} and fan_id is not null
    union
    select fan_id from {{ ref('int_privacy__erased_records') }}
{%- endmacro %}

{#- Staging kept by key (a table, not a view: the day's build normalises the day's rows, not
    every row ever loaded, and what reads staging reads it once built): every version of the
    keys that got a row since the last build (loaded, or released from a held batch), so the
    latest version is chosen among all of them as a full build would. `key` is the key as the
    model writes it, from the raw columns; `relation` the validated rows of `raw_relation`.
    The keys are found in the raw table itself, by its own load time, which a scan compares
    row group by row group (the raw table grows in load order), and by the batches released
    since: a validated row's load time is its release when it was held, so a filter on it read
    every row ever loaded (5.8M interactions at 1M people: 0.64 s to find 57,768). A key of a
    held batch's row is found too, and its validated versions, the same as before, written again. -#}
{% macro versions_of_changed_keys(relation, key, raw_relation) -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    {%- set since = watermark('_loaded_at') %}
    where {{ key }} in (
        select {{ key }} from {{ raw_relation }} where _loaded_at > {{ since }}
        union all
        select {{ key }} from {{ raw_relation }}
        where _batch_id in (
            select batch_id from {{ source('ingestion', 'batch_verdicts') }} where decided_at > {{ since }}
        )
    )
    {%- endif %}
{%- endmacro %}

{#- The fans whose profile (marts.fans) may have changed since `since`, one line per input of
    the profile: touched_fans (its records, orders, interactions, erasures), the records whose
    staging row was written again (a card, a follower, an order: names, consent, cities), the
    records whose identifiers were taken in again (new, dropped, another receiver role), and
    the records carrying a value whose quarantine changed since (the phone chosen). Not every
    carrier of a value judged again: a phone on one more record is judged again, and its other
    records' profiles do not change with it (at 1M people a 1% day judged 68,000 values again,
    carried by 293,000 records of 138,000 fans). A model that calls this inside is_incremental()
    names the models it reads in a depends_on comment. -#}
{% macro touched_profiles(since) -%}
    {{ touched_fans(since) }}
    union
    select fan_id from {{ ref('int_identity__current_assignments') }}
    where record_key in (
        select {{ record_key('member_cards', 'card_no') }} from {{ ref('stg_crm__member_cards') }}
        where _staged_at > {{ since }}
        union all
        select {{ record_key('wechat_followers', 'openid') }} from {{ ref('stg_wechat__followers') }}
        where _staged_at > {{ since }}
        union all
        select {{ record_key('weibo_followers', 'weibo_uid') }} from {{ ref('stg_weibo__followers') }}
        where _staged_at > {{ since }}
        union all
        select {{ record_key('online_orders', 'order_id') }} from {{ ref('stg_shop__orders') }}
        where _staged_at > {{ since }}
        union all
        select record_key from {{ ref('int_identity__identifiers') }} where changed_at > {{ since }}
        union all
        {{ carriers_of_values_judged('quarantine_changed_at', since) }}
    )
{%- endmacro %}

{#- The records carrying a value of int_identity__identifier_values whose `column` (a time) is
    after `since`. -#}
{% macro carriers_of_values_judged(column, since) -%}
        select carriers.record_key
        from {{ ref('int_identity__identifiers') }} as carriers
        inner join {{ ref('int_identity__identifier_values') }} as judged
            on carriers.identifier_type = judged.identifier_type and carriers.identifier_value = judged.identifier_value
        where judged.{{ column }} > {{ since }}
{%- endmacro %}

{#- The fans whose edges (marts.fan_identity_edges, by the fan of the edge's first record) may
    have changed since `since`: touched_profiles (records that moved, erasures), the carriers
    of every value judged again (an edge vanishes with its value, or when the record at its
    other end dropped the value), and the fans at either end of an exact edge or a probable
    link written since. A model that calls this inside is_incremental() names the models it
    reads in a depends_on comment. -#}
{% macro touched_edge_fans(since) -%}
    {{ touched_profiles(since) }}
    union
    select fan_id from {{ ref('int_identity__current_assignments') }}
    where record_key in (
        {{ carriers_of_values_judged('last_changed_at', since) }}
        union all
        select record_key_from from {{ ref('int_identity__edges') }} where last_changed_at > {{ since }}
        union all
        select record_key_to from {{ ref('int_identity__edges') }} where last_changed_at > {{ since }}
        union all
        select record_key_from from {{ ref('int_identity__probable_edges') }} where changed_at > {{ since }}
        union all
        select record_key_to from {{ ref('int_identity__probable_edges') }} where changed_at > {{ since }}
    )
{%- endmacro %}

{#- The fans whose kept profile (int_audience__profile) may have changed since `since`: the fans
    whose rows in the kept models it reads were built again, those gone from fans (merged,
    erased), and those whose follower signals or referral figures differ from the ones kept: both
    are computed over every fan (an account's follow rate, the advocates' rank), so any fan's may
    change with another's facts, and the kept values are compared with them. -#}
{% macro changed_profiles(since) -%}
    select fan_id from {{ ref('fans') }} where refreshed_at > {{ since }}
    union
    select fan_id from {{ ref('int_engagement__activity') }} where refreshed_at > {{ since }}
    union
    select fan_id from {{ ref('int_engagement__purchases') }} where refreshed_at > {{ since }}
    union
    select fan_id from {{ this }} where fan_id not in (select fan_id from {{ ref('fans') }})
    union
    {{ fans_differing(
        'select fan_id, is_bulk_subscriber, has_default_profile from ' ~ ref('int_trust__follower_signals'),
        'select fan_id, is_bulk_subscriber, has_default_profile from ' ~ this ~ ' where has_follower_signals'
    ) }}
    union
    {{ fans_differing(
        'select fan_id, direct_referrals, converted_referrals, advocate_rank, first_conversion_at from '
        ~ ref('referral_advocates'),
        'select fan_id, direct_referrals, converted_referrals, advocate_rank, friend_at from ' ~ this
        ~ ' where is_advocate'
    ) }}
{%- endmacro %}

{#- The fans of the rows one of two selects (fan_id first, the same columns) has and the other
    lacks, either way. -#}
{% macro fans_differing(left, right) -%}
    select fan_id from (
        ({{ left }} except {{ right }})
        union all
        ({{ right }} except {{ left }})
    ) as differing
{%- endmacro %}

{#- Marts that count days back from the reporting day (int_calendar__as_of) keep by fan what
    only changes with the fan's own facts (counts in 7/30/90/365-day windows, totals, first and
    last dates), in an intermediate model; the mart is a view adding what moves with the day
    (days since, a score with a recency part), so a daily build rewrites only the fans that
    changed. When the reporting day moves, a fan's windowed counts change only where one of its
    events crosses a window's edge. The reporting day a model was last built for is kept beside
    it (<model>__as_of, written by record_reporting_day() as a post-hook). -#}
{% macro reporting_day_table() -%}
    {{ return(this.incorporate(path={'identifier': this.identifier ~ '__as_of'})) }}
{%- endmacro %}

{% macro record_reporting_day() -%}
    {%- if target.type == 'spark' -%}
        select 1 {#- rebuilt whole there: nothing to remember -#}
    {%- else -%}
        create or replace table {{ reporting_day_table() }} as select as_of_date from {{ ref('int_calendar__as_of') }}
    {%- endif -%}
{%- endmacro %}

{#- On a daily build, a condition on `at_column` true for the events whose place in a window
    changed since the reporting day of the last build: dated in (earlier, later] (events up to
    the reporting day count) or in (earlier - N, later - N] for a window of N days (a window
    holds the days after reporting day - N). `false` when the day did not move; `true` (every
    event) when the last build's day is unknown. -#}
{% macro crossed_window_edges(at_column, windows) -%}
    {%- if not (execute and is_incremental()) -%}{{ return('false') }}{%- endif -%}
    {%- set current = run_query('select as_of_date from ' ~ ref('int_calendar__as_of')).columns[0].values()[0] -%}
    {%- set recorded = load_relation(reporting_day_table()) -%}
    {%- if recorded is none -%}{{ return('true') }}{%- endif -%}
    {%- set found = run_query('select as_of_date from ' ~ recorded).columns[0].values() -%}
    {%- if found | length == 0 -%}{{ return('true') }}{%- endif -%}
    {%- set previous = found[0] -%}
    {%- if previous == current -%}{{ return('false') }}{%- endif -%}
    {%- set earlier, later = [previous, current] | min, [previous, current] | max -%}
    {%- set day = 'cast(' ~ at_column ~ ' as date)' -%}
    {%- set ranges = [] -%}
    {%- for shift in [0] + windows -%}
        {%- set since = earlier - modules.datetime.timedelta(days=shift) -%}
        {%- set through = later - modules.datetime.timedelta(days=shift) -%}
        {%- do ranges.append('(' ~ day ~ " > date '" ~ since ~ "' and " ~ day ~ " <= date '" ~ through ~ "')") -%}
    {%- endfor -%}
    {{ return('(' ~ ranges | join(' or ') ~ ')') }}
{%- endmacro %}

{#- int_engagement__activity's fans whose windows moved with the reporting day: those with an
    event that crossed the edge of a window it counts (7, 30 and 90 days), and those whose
    message is answered by a brand reply that crossed into the days counted. -#}
{% macro interaction_edge_fans() -%}
    {%- set crossed = crossed_window_edges('event_at', [7, 30, 90]) -%}
    select fan_id from {{ ref('interactions') }} where fan_id is not null and {{ crossed }}
    union
    select fan_id from {{ ref('interactions') }}
    where event_id in (select reply_to_event_id from {{ ref('interactions') }} where is_brand_reply and {{ crossed }})
{%- endmacro %}

{#- int_engagement__purchases's fans whose RFM window moved with the reporting day: those with
    an order that crossed its edge. -#}
{% macro order_edge_fans() -%}
    select fan_id from {{ ref('orders') }}
    where fan_id is not null and {{ crossed_window_edges('ordered_at', [var('engagement')['rfm_window_days']]) }}
{%- endmacro %}
