-- Merges and splits of fans, run by run, and the edge that caused each merge.
with

assignments as (
    select * from {{ ref('int_identity__fan_assignments') }}
),

edges as (
    select * from {{ ref('int_identity__graph_edges') }}
),

erased as (
    select * from {{ ref('int_privacy__erased_records') }}
),

reassigned as (
    -- a record assigned once never moved: the window below numbers only the others (most
    -- records are assigned once; 3.9M assignments at 1M people)
    select record_key
    from assignments
    group by record_key
    having count(*) > 1
),

moves as (
    select
        record_key,
        run_id,
        assigned_at,
        fan_id,
        lag(fan_id) over (partition by record_key order by assigned_at) as previous_fan_id
    from assignments
    where record_key in (select reassigned.record_key from reassigned)
),

moved as (
    -- moves of forgotten records are forgotten too
    select moves.*
    from moves
    left join erased
        on moves.record_key = erased.record_key
    where
        moves.previous_fan_id is not null and moves.previous_fan_id != moves.fan_id
        and erased.record_key is null
),

fan_born as (
    -- when each fan a record moved to got its first record
    select
        fan_id,
        min(assigned_at) as first_assigned_at
    from assignments
    where fan_id in (select moved.fan_id from moved)
    group by fan_id
),

grouped as (
    select
        moved.run_id,
        moved.assigned_at as changed_at,
        moved.previous_fan_id,
        moved.fan_id,
        count(*) as records_moved,
        min(moved.record_key) as example_record_key
    from moved
    group by moved.run_id, moved.assigned_at, moved.previous_fan_id, moved.fan_id
),

edge_ends as (
    -- each edge from both of its ends, so that the joins below are equality joins
    select
        edges.record_key_from as record_key,
        edges.record_key_to as other_key,
        edges.*
    from edges
    union all
    select
        edges.record_key_to,
        edges.record_key_from,
        edges.*
    from edges
),

bridges as (
    -- an edge between a record that moved in the run and one of the fan it joined: a record
    -- that did not move, or one that moved to the same fan from another (three fans joined by
    -- one record in one run)
    select
        moved.run_id,
        moved.previous_fan_id,
        edge_ends.rule_name,
        edge_ends.identifier_type,
        edge_ends.record_key_from,
        edge_ends.record_key_to,
        row_number() over (
            partition by moved.run_id, moved.previous_fan_id order by edge_ends.priority, edge_ends.record_key_from
        ) as bridge_rank
    from moved
    inner join edge_ends
        on moved.record_key = edge_ends.record_key
    left join moved as other_side
        on
            moved.run_id = other_side.run_id
            and edge_ends.other_key = other_side.record_key
    left join erased
        on edge_ends.other_key = erased.record_key
    where
        (
            other_side.record_key is null
            or (other_side.fan_id = moved.fan_id and other_side.previous_fan_id != moved.previous_fan_id)
        )
        and erased.record_key is null
),

final as (
    select
        grouped.run_id,
        grouped.changed_at,
        case when fan_born.first_assigned_at < grouped.changed_at then 'merge' else 'split' end as change_type,
        grouped.previous_fan_id as from_fan_id,
        grouped.fan_id as to_fan_id,
        grouped.records_moved,
        grouped.example_record_key,
        bridges.rule_name as caused_by_rule,
        bridges.identifier_type as caused_by_identifier_type,
        bridges.record_key_from as caused_by_record_key_from,
        bridges.record_key_to as caused_by_record_key_to
    from grouped
    inner join fan_born
        on grouped.fan_id = fan_born.fan_id
    left join bridges
        on
            grouped.run_id = bridges.run_id
            and grouped.previous_fan_id = bridges.previous_fan_id
            and bridges.bridge_rank = 1
)

select * from final
