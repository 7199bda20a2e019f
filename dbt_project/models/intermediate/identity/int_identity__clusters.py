"""Connected components over the identity edges: each record's cluster."""

from scrm.identity import cluster


def model(dbt, session):
    dbt.config(materialized="table")
    records = dbt.ref("int_identity__records").select("record_key").pl()
    edges = dbt.ref("int_identity__edges").select("record_key_from, record_key_to").pl()
    return cluster(records["record_key"], edges["record_key_from"], edges["record_key_to"])
