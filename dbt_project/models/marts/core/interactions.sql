-- Interaction events keyed by fan, through the follower record of the account they came from.
-- Incremental: new events are added; an event is rebuilt when its follower record moves to
-- another fan (or first appears); events of erased follower records are deleted.
-- depends_on: {{ ref('int_privacy__erased_records') }}, {{ ref('int_identity__fan_assignments') }}
{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    post_hook="delete from {{ this }} where follower_record_key in (select record_key from {{ ref('int_privacy__erased_records') }})",
) }}
with

interactions as (
    select * from {{ ref('stg_social__interactions') }}
),

fan_records as (
    select * from {{ ref('fan_records') }}
),

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
moved as (
    select distinct record_key from {{ ref('int_identity__fan_assignments') }}
    where assigned_at > {{ watermark('refreshed_at') }}
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
    left join moved
        on keyed.follower_record_key = moved.record_key
    {% endif %}
    where erased.record_key is null
    {% if is_incremental() %}
        and (keyed._loaded_at > {{ watermark('refreshed_at') }} or moved.record_key is not null)
    {% endif %}
)

select * from final
