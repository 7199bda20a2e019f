-- Probable links: an account's masked receiver and the one named number in the warehouse with those digits.
with

rules as (
    select * from {{ ref('identity_probable_rules') }}
),

shapes as (
    -- the digits the rules compare, each shape once: the receivers, the named numbers and their
    -- counts depend on the rule only through them (both shipped rules compare 3 + 4 digits, and
    -- computing them per rule did the work twice)
    select distinct
        fragment_prefix,
        fragment_suffix
    from rules
),

accepted as (
    select * from {{ ref('identity_probable_accepted') }}
),

never_link as (
    select * from {{ ref('identity_never_link') }}
),

online_orders as (
    -- the columns read, not every column: this CTE is read three times, so DuckDB materialises it
    -- (1.3M orders at 1M people: 4.3 s for the model against 4.9 s with every column)
    select
        order_id,
        platform,
        buyer_id,
        miniprogram_openid,
        is_receiver_phone_masked,
        receiver_phone_normalized,
        receiver_phone_raw,
        receiver_name,
        receiver_city,
        paid_at
    from {{ ref('stg_shop__orders') }}
),

member_cards as (
    select
        card_no,
        city
    from {{ ref('stg_crm__member_cards') }}
),

identifiers as (
    select
        record_key,
        identifier_type,
        identifier_value,
        is_current,
        is_walk_in,
        is_unconfirmed_receiver
    from {{ ref('int_identity__identifiers') }}
),

identifier_values as (
    select
        identifier_type,
        identifier_value,
        is_quarantined
    from {{ ref('int_identity__identifier_values') }}
),

records as (
    select
        record_key,
        source,
        source_record_id,
        real_name,
        first_seen_at
    from {{ ref('int_identity__records') }}
),

shown as (
    -- each delivery's mobile as the platform showed it: digits and the mask only, country code off
    select
        {{ record_key('online_orders', 'order_id') }} as record_key,
        platform || ':' || coalesce(buyer_id, miniprogram_openid) as account_key,
        is_receiver_phone_masked as is_masked,
        receiver_phone_normalized as full_number,
        {%- set shown_digits = regex_remove('receiver_phone_raw', "'[^0-9*]'") %}
        case
            when {{ shown_digits }} like '861%' then substr({{ shown_digits }}, 3) else {{ shown_digits }}
        end as digits,
        -- a masked name shows its first character (the surname) only
        case when left(trim(receiver_name), 1) != '*' then left(trim(receiver_name), 1) end as surname,
        receiver_city as city,
        paid_at
    from online_orders
    where receiver_phone_raw is not null
),

deliveries as (
    -- the digits every shape compares: the shown prefix and suffix of a masked mobile, or those
    -- of a full one
    select
        shapes.fragment_prefix,
        shapes.fragment_suffix,
        shown.record_key,
        shown.account_key,
        shown.is_masked,
        shown.full_number,
        left(shown.prefix, shapes.fragment_prefix) || '****' || right(shown.suffix, shapes.fragment_suffix) as fragment,
        coalesce(shown.surname, '') as surname,
        coalesce(shown.city, '') as city,
        shown.paid_at
    from (
        select
            *,
            case when is_masked then regexp_extract(digits, '^([0-9]*)[*]', 1) else full_number end as prefix,
            case when is_masked then regexp_extract(digits, '[*]([0-9]*)$', 1) else full_number end as suffix
        from shown
    ) as shown
    cross join shapes
    where length(shown.prefix) >= shapes.fragment_prefix and length(shown.suffix) >= shapes.fragment_suffix
),

receivers as (
    select
        fragment_prefix,
        fragment_suffix,
        account_key,
        fragment,
        surname,
        city,
        count(*) as deliveries,
        min(case when is_masked then record_key end) as record_key_a,
        min(paid_at) as first_paid_at,
        max(paid_at) as last_paid_at
    from deliveries
    group by fragment_prefix, fragment_suffix, account_key, fragment, surname, city
),

accounts as (
    -- each account's deliveries, and its two largest counts of one receiver: equal, and no
    -- receiver is the usual one
    select
        fragment_prefix,
        fragment_suffix,
        account_key,
        cast(sum(deliveries) as bigint) as account_deliveries,
        max(deliveries) as most,
        {{ second_value('deliveries', largest=true) }} as second_most
    from receivers
    group by fragment_prefix, fragment_suffix, account_key
),

usual_receivers as (
    -- the receiver an account's deliveries go to most, no other as often, seen masked at least once,
    -- as often as the rule asks
    select
        rules.rule_name,
        receivers.*,
        accounts.account_deliveries
    from receivers
    inner join accounts
        on
            receivers.fragment_prefix = accounts.fragment_prefix
            and receivers.fragment_suffix = accounts.fragment_suffix
            and receivers.account_key = accounts.account_key
    inner join rules
        on receivers.fragment_prefix = rules.fragment_prefix and receivers.fragment_suffix = rules.fragment_suffix
    where
        receivers.deliveries = accounts.most
        and (accounts.second_most is null or accounts.second_most < accounts.most)
        and receivers.deliveries >= rules.min_deliveries
        and receivers.record_key_a is not null
),

account_numbers as (
    -- full numbers an account's own deliveries show, by the digits a shape compares
    select distinct
        fragment_prefix,
        fragment_suffix,
        account_key,
        fragment,
        full_number
    from deliveries
    where full_number is not null
),

holders as (
    -- named full numbers: a member card, a receipt of a card, a delivery to the confirmed buyer
    select
        identifiers.identifier_value as number,
        identifiers.record_key,
        left(records.real_name, 1) as surname,
        coalesce(member_cards.city, online_orders.receiver_city, '') as city,
        records.first_seen_at as seen_at
    from identifiers
    inner join records
        on identifiers.record_key = records.record_key
    inner join identifier_values
        on
            identifiers.identifier_type = identifier_values.identifier_type
            and identifiers.identifier_value = identifier_values.identifier_value
    left join member_cards
        on records.source = 'member_cards' and records.source_record_id = member_cards.card_no
    left join online_orders
        on records.source = 'online_orders' and records.source_record_id = online_orders.order_id
    where
        identifiers.is_current
        and identifiers.identifier_type = 'phone'
        and not identifiers.is_walk_in
        and not identifiers.is_unconfirmed_receiver
        and not identifier_values.is_quarantined
        and records.real_name is not null
),

number_names as (
    -- every real name a number was given with, a gift's receiver included: two names of one
    -- surname on a number are a family sharing a phone, and the digits cannot tell them apart
    select
        number,
        left(real_name, 1) as surname,
        count(distinct real_name) as names
    from (
        select
            identifiers.identifier_value as number,
            records.real_name
        from identifiers
        inner join records
            on identifiers.record_key = records.record_key
        where identifiers.is_current and identifiers.identifier_type = 'phone' and records.real_name is not null
        union all
        select
            receiver_phone_normalized,
            {{ real_name('receiver_name') }}
        from online_orders
        where receiver_phone_normalized is not null
    ) as named
    where real_name is not null
    group by number, left(real_name, 1)
),

held_numbers as (
    select
        shapes.fragment_prefix,
        shapes.fragment_suffix,
        left(holders.number, shapes.fragment_prefix) || '****' || right(holders.number, shapes.fragment_suffix)
            as fragment,
        holders.surname,
        holders.city,
        holders.number,
        min(holders.record_key) as record_key_b,
        min(holders.seen_at) as first_seen_at,
        max(holders.seen_at) as last_seen_at
    from holders
    cross join shapes
    group by all
),

fragment_numbers as (
    -- named numbers sharing the digits, whatever their surname and city
    select
        fragment_prefix,
        fragment_suffix,
        fragment,
        count(distinct number) as numbers
    from held_numbers
    group by fragment_prefix, fragment_suffix, fragment
),

named_total as (
    select count(distinct number) as numbers from holders
),

shares as (
    -- how common a surname and a city are among the named numbers: the chance a stranger matches
    select
        'surname' as field,
        holders.surname as value,
        count(distinct holders.number) / max(named_total.numbers) as share
    from holders
    cross join named_total
    group by holders.surname
    union all
    select
        'city',
        holders.city,
        count(distinct holders.number) / max(named_total.numbers)
    from holders
    cross join named_total
    group by holders.city
),

matched as (
    select
        usual_receivers.rule_name,
        usual_receivers.fragment_prefix,
        usual_receivers.fragment_suffix,
        rules.priority,
        rules.auto_accept,
        rules.same_surname,
        rules.same_city,
        usual_receivers.account_key,
        usual_receivers.fragment,
        usual_receivers.surname,
        usual_receivers.city,
        usual_receivers.deliveries,
        usual_receivers.account_deliveries,
        usual_receivers.record_key_a,
        held_numbers.number,
        held_numbers.surname as holder_surname,
        held_numbers.record_key_b,
        greatest(
            0,
            {{ dbt.datediff(
                'least(usual_receivers.last_paid_at, held_numbers.last_seen_at)',
                'greatest(usual_receivers.first_paid_at, held_numbers.first_seen_at)',
                'day'
            ) }}
        ) as time_gap_days,
        count(*) over (partition by usual_receivers.rule_name, usual_receivers.account_key) as candidates
    from usual_receivers
    inner join rules
        on usual_receivers.rule_name = rules.rule_name
    inner join held_numbers
        on
            usual_receivers.fragment_prefix = held_numbers.fragment_prefix
            and usual_receivers.fragment_suffix = held_numbers.fragment_suffix
            and usual_receivers.fragment = held_numbers.fragment
            and (not rules.same_surname or usual_receivers.surname = held_numbers.surname)
            and (not rules.same_city or usual_receivers.city = held_numbers.city)
),

guarded as (
    -- exactly one number matches; the account shows no other full number with these digits;
    -- nobody else of that surname was ever given the number; the strongest rule per pair
    select
        matched.*,
        fragment_numbers.numbers as numbers_with_fragment,
        -- the expected number of named numbers that would match by chance: those with these
        -- digits, times the share of the surname and of the city the rule compares
        least(
            1.0,
            fragment_numbers.numbers
            * case when matched.same_surname then coalesce(surname_share.share, 1.0) else 1.0 end
            * case when matched.same_city then coalesce(city_share.share, 1.0) else 1.0 end
        ) as coincidence_risk,
        row_number() over (partition by matched.account_key, matched.number order by matched.priority) as rule_rank
    from matched
    inner join fragment_numbers
        on
            matched.fragment_prefix = fragment_numbers.fragment_prefix
            and matched.fragment_suffix = fragment_numbers.fragment_suffix
            and matched.fragment = fragment_numbers.fragment
    inner join number_names
        on matched.number = number_names.number and matched.holder_surname = number_names.surname
    left join shares as surname_share
        on surname_share.field = 'surname' and matched.surname = surname_share.value
    left join shares as city_share
        on city_share.field = 'city' and matched.city = city_share.value
    left join account_numbers
        on
            matched.fragment_prefix = account_numbers.fragment_prefix
            and matched.fragment_suffix = account_numbers.fragment_suffix
            and matched.account_key = account_numbers.account_key
            and matched.fragment = account_numbers.fragment
            and matched.number != account_numbers.full_number
    where matched.candidates = 1 and number_names.names = 1 and account_numbers.account_key is null
),

account_records as (
    select distinct
        record_key,
        account_key
    from shown
),

number_records as (
    select distinct
        record_key,
        number
    from holders
),

decisions as (
    -- a reviewed pair names one record of each side: any delivery of the account, any named
    -- record of the number
    select
        account_records.account_key,
        number_records.number,
        max(decided.decision) as decision,
        min(decided.reason) as reason
    from (
        select
            record_key_a,
            record_key_b,
            'accepted' as decision,
            reason
        from accepted
        union all
        select
            record_key_a,
            record_key_b,
            'rejected',
            reason
        from never_link
        union all
        select
            record_key_b,
            record_key_a,
            'rejected',
            reason
        from never_link
    ) as decided
    inner join account_records
        on decided.record_key_a = account_records.record_key
    inner join number_records
        on decided.record_key_b = number_records.record_key
    group by account_records.account_key, number_records.number
),

final as (
    select
        left(md5(guarded.account_key || '|' || guarded.number), 12) as link_id,
        guarded.rule_name,
        guarded.priority,
        guarded.record_key_a,
        guarded.record_key_b,
        guarded.account_key,
        guarded.fragment,
        nullif(guarded.surname, '') as surname,
        nullif(guarded.city, '') as city,
        guarded.deliveries,
        guarded.account_deliveries,
        guarded.time_gap_days,
        guarded.numbers_with_fragment,
        guarded.coincidence_risk,
        round(guarded.deliveries / (guarded.deliveries + 1.0) * (1 - guarded.coincidence_risk), 3) as score,
        case
            when decisions.decision is not null then decisions.decision
            when guarded.auto_accept and {{ var('identity')['auto_accept_probable'] }} then 'accepted'
            else 'pending'
        end as status,
        case
            when decisions.decision is not null then 'review'
            when guarded.auto_accept and {{ var('identity')['auto_accept_probable'] }} then 'auto'
        end as decided_by,
        decisions.reason as decision_reason
    from guarded
    left join decisions
        on guarded.account_key = decisions.account_key and guarded.number = decisions.number
    where guarded.rule_rank = 1
)

select * from final
