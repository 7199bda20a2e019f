"""Each record's cluster: connected components over the identity edges and the accepted probable
links, with no cluster holding two values of an identity a person has one of
(transform/identity.py).

Incremental: only the components touched by records that changed since the last build are
recomputed. A changed record touches every record that carries (or carried) one of its
identifier values, and a probable link accepted or given up touches its two records; their old
components, with every record in them, are clustered again from their edges. Untouched components
keep their rows, so the result is the full computation's.
"""

from datetime import datetime

import polars as pl

from transform.identity import cluster, split


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        unique_key="record_key",
        incremental_strategy="delete+insert",
        meta={"changed_at": "clustered_at"},  # data tests of a daily build read the rows changed (macros/tests.sql)
    )
    # the run's start, the clock of int_identity__fan_assignments (assigned_at), which takes the
    # clusters stamped after its last assignments: a wall-clock stamp, later than that, made the
    # day after a full build look at every cluster again
    now = datetime.fromisoformat(globals()["run_started_at"])  # defined by macros/normalize.sql
    dbt.ref("int_identity__identifiers").create_view("cluster_identifiers")
    dbt.ref("int_identity__graph_edges").create_view("cluster_edges")
    dbt.ref("int_identity__records").create_view("cluster_records")
    dbt.ref("int_identity__identities").create_view("cluster_one_per_person")
    dbt.ref("int_identity__probable_edges").create_view("cluster_probable_edges")
    if dbt.is_incremental:
        # a table, not a view: the records and the edges below both read it (a view computed it
        # twice: 0.77 + 0.65 s for a 1% day at 1M people, 2026-12-08)
        session.sql(f"""
            create or replace temp table cluster_scope as
            with touched_values as (
                select distinct identifier_type, identifier_value
                from cluster_identifiers
                where changed_at > (select coalesce(max(clustered_at), '1900-01-01'::timestamp) from {dbt.this})
            ),
            touched_records as (
                select distinct cluster_identifiers.record_key
                from cluster_identifiers
                inner join touched_values using (identifier_type, identifier_value)
                union
                select unnest([record_key_from, record_key_to])
                from cluster_probable_edges
                where changed_at > (select coalesce(max(clustered_at), '1900-01-01'::timestamp) from {dbt.this})
            ),
            touched_components as (
                select distinct previous.component_key
                from {dbt.this} as previous
                inner join touched_records using (record_key)
            )
            select record_key from touched_records
            union
            select previous.record_key
            from {dbt.this} as previous
            inner join touched_components using (component_key)
        """)
    else:
        session.sql("create or replace temp view cluster_scope as select record_key from cluster_records")
    records = session.sql("select record_key from cluster_records inner join cluster_scope using (record_key)").pl()
    edges = session.sql("""
        select record_key_from, record_key_to, priority
        from cluster_edges
        inner join cluster_scope on cluster_edges.record_key_from = cluster_scope.record_key
    """).pl()
    components = cluster(records["record_key"], edges["record_key_from"], edges["record_key_to"])
    del records
    # the identities a person has one of, checked in DuckDB: only the few components holding two
    # values of one come back to Python
    session.register("cluster_components", components.select("record_key", "cluster_key").to_arrow())
    session.sql("""
        create or replace temp view cluster_identities as
        select record_key, cluster_components.cluster_key, identity, identity_value as value
        from cluster_one_per_person
        inner join cluster_components using (record_key)
    """)
    conflicted = session.sql("""
        select distinct cluster_key from (
            select cluster_key, identity from cluster_identities
            group by cluster_key, identity having count(distinct value) > 1
        ) as conflicts
    """).pl()["cluster_key"]
    identities = session.sql(
        """
        select record_key, identity, value from cluster_identities
        where cluster_key in (select unnest(?::varchar[]))
    """,
        params=[conflicted.to_list()],
    ).pl()
    clusters = split(components, conflicted, edges, identities)
    return clusters.with_columns(clustered_at=pl.lit(now))
