-- Interaction events keyed by fan, through the follower record of the account they came from.
-- depends_on: {{ ref('int_identity__current_assignments') }} (read on incremental builds)
-- publish_key: the serving copy takes only the rows of the keys built again since it was written
{{ config(
    meta={'publish_key': 'event_id', 'changed_at': 'refreshed_at'},
    materialized=kept_by_key(),
    unique_key='event_id',
    incremental_strategy='delete+insert',
    post_hook="{{ delete_rows('follower_record_key in (select record_key from ' ~ ref('int_privacy__erased_records') ~ ')') }}",
) }}
with

interactions as (
    select * from {{ ref('stg_social__interactions') }}
),

fan_records as (
    select * from {{ ref('fan_records') }}
),

{% if is_incremental() %}
current_assignments as (
    select * from {{ ref('int_identity__current_assignments') }}
),
{% endif %}

erased as (
    select * from {{ ref('int_privacy__erased_records') }}
),

keyed as (
    select
        *,
        case platform
            when 'wechat' then {{ record_key('wechat_followers', 'platform_user_id') }}
            when 'weibo' then {{ record_key('weibo_followers', 'platform_user_id') }}
        end as follower_record_key
    from interactions
),

{% if is_incremental() %}
changed as (
    -- new events, and events whose follower record moved to another fan (or first appeared)
    select event_id from keyed
    where _loaded_at > {{ watermark('refreshed_at') }}
    union
    select keyed.event_id
    from keyed
    inner join current_assignments
        on keyed.follower_record_key = current_assignments.record_key
    where current_assignments.assigned_at > {{ watermark('refreshed_at') }}
),
{% endif %}

final as (
    select
        keyed.event_id,
        fan_records.fan_id,
        keyed.follower_record_key,
        keyed.platform,
        keyed.event_type,
        keyed.is_brand_reply,
        keyed.content_id,
        keyed.reply_to_event_id,
        keyed.event_at,
        {{ run_started() }} as refreshed_at
    from keyed
    left join fan_records
        on keyed.follower_record_key = fan_records.record_key
    left join erased
        on keyed.follower_record_key = erased.record_key
    {% if is_incremental() %}
    inner join changed
        on keyed.event_id = changed.event_id
    {% endif %}
    where erased.record_key is null
)

select * from final
