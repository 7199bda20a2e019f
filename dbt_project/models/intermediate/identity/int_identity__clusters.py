"""Connected components over the identity edges: each record's cluster.

Incremental: only the clusters touched by records that changed since the last build are
recomputed. A changed record touches every record that carries (or carried) one of its
identifier values; their old clusters, with every record in them, are clustered again from
their edges. Untouched clusters keep their rows, so the result is the full computation's.
"""

from datetime import UTC, datetime

import polars as pl

from transform.identity import cluster


def model(dbt, session):
    dbt.config(materialized="incremental", unique_key="record_key", incremental_strategy="delete+insert")
    now = datetime.now(UTC).replace(tzinfo=None)
    dbt.ref("int_identity__identifiers").create_view("cluster_identifiers")
    dbt.ref("int_identity__edges").create_view("cluster_edges")
    dbt.ref("int_identity__records").create_view("cluster_records")
    if dbt.is_incremental:
        session.sql(f"""
            create or replace temp view cluster_scope as
            with touched_values as (
                select distinct identifier_type, identifier_value
                from cluster_identifiers
                where changed_at > (select coalesce(max(clustered_at), '1900-01-01'::timestamp) from {dbt.this})
            ),
            touched_records as (
                select distinct cluster_identifiers.record_key
                from cluster_identifiers
                inner join touched_values using (identifier_type, identifier_value)
            ),
            touched_clusters as (
                select distinct previous.cluster_key
                from {dbt.this} as previous
                inner join touched_records using (record_key)
            )
            select record_key from touched_records
            union
            select previous.record_key
            from {dbt.this} as previous
            inner join touched_clusters using (cluster_key)
        """)
    else:
        session.sql("create or replace temp view cluster_scope as select record_key from cluster_records")
    records = session.sql("select record_key from cluster_records inner join cluster_scope using (record_key)").pl()
    edges = session.sql("""
        select record_key_from, record_key_to
        from cluster_edges
        inner join cluster_scope on cluster_edges.record_key_from = cluster_scope.record_key
    """).pl()
    clusters = cluster(records["record_key"], edges["record_key_from"], edges["record_key_to"])
    return clusters.with_columns(clustered_at=pl.lit(now))
