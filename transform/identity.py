"""Clusters of the identity graph: the one step where SQL is the wrong tool.

Connected components (scipy, a linear-time graph search in C) give each record its component.
A component may join records whose strong identities disagree: two different WeChat unionids,
two accounts of one shop platform, two Weibo uids. One person has one of each, so such a
component holds more than one person, whatever joined it. Those components alone are clustered
again, link by link, strongest first (the rules' priority): a link that would put two different
values of such an identity in one cluster is refused. The dbt Python model
`int_identity__clusters` calls `resolve` with the records, edges and identities of the run.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def cluster(record_keys: pl.Series, edge_from: pl.Series, edge_to: pl.Series) -> pl.DataFrame:
    """Each record's connected component: (record_key, cluster_key, cluster_size). The cluster
    key is the smallest record key of the component, so it does not depend on row order."""
    nodes = pl.DataFrame({"record_key": record_keys}).with_row_index("node")
    edges = pl.DataFrame({"a": edge_from, "b": edge_to})
    edges = edges.join(nodes.rename({"record_key": "a", "node": "na"}), on="a").join(
        nodes.rename({"record_key": "b", "node": "nb"}), on="b"
    )
    n = nodes.height
    graph = coo_matrix(
        (np.ones(edges.height, dtype=np.int8), (edges["na"].to_numpy(), edges["nb"].to_numpy())), shape=(n, n)
    )
    _, labels = connected_components(graph, directed=False)
    out = nodes.with_columns(component=pl.Series(labels))
    return out.select(
        "record_key",
        cluster_key=pl.col("record_key").min().over("component"),
        cluster_size=pl.len().over("component").cast(pl.Int64),
    )


def resolve(records: pl.Series, edges: pl.DataFrame, identities: pl.DataFrame) -> pl.DataFrame:
    """Each record's cluster, with no two different values of one strong identity in a cluster.

    records: record keys. edges: record_key_from, record_key_to, priority (lower is stronger).
    identities: record_key, identity (e.g. 'unionid', 'platform_buyer:tmall'), value.
    Returns record_key, cluster_key, cluster_size, component_key (the unconstrained component:
    a component holding several clusters is a merge that was refused)."""
    components = cluster(records, edges["record_key_from"], edges["record_key_to"])
    conflicted = conflicted_components(components, identities)
    return split(components, conflicted, edges, identities)


def conflicted_components(components: pl.DataFrame, identities: pl.DataFrame) -> pl.Series:
    """The components holding two values of one identity (their cluster_key)."""
    return (
        identities.join(components.select("record_key", "cluster_key"), on="record_key")
        .group_by("cluster_key", "identity")
        .agg(pl.col("value").n_unique().alias("values"))
        .filter(pl.col("values") > 1)["cluster_key"]
        .unique()
    )


def split(components: pl.DataFrame, conflicted: pl.Series, edges: pl.DataFrame, identities: pl.DataFrame):
    """Components as clusters, but the conflicted ones clustered again link by link (edges and
    identities need only cover the conflicted components' records)."""
    components = components.with_columns(component_key=pl.col("cluster_key"))
    if conflicted.len() == 0:
        return components
    inside = components.filter(pl.col("component_key").is_in(conflicted.implode()))
    keys = inside["record_key"].implode()
    again = _constrained(
        inside,
        edges.filter(pl.col("record_key_from").is_in(keys)),
        identities.filter(pl.col("record_key").is_in(keys)),
    )
    return pl.concat(
        [components.filter(~pl.col("component_key").is_in(conflicted.implode())), again.select(components.columns)]
    )


def _constrained(members: pl.DataFrame, edges: pl.DataFrame, identities: pl.DataFrame) -> pl.DataFrame:
    """Union-find over the edges of conflicted components, strongest first, refusing a union
    that would hold two values of one identity."""
    keys = members["record_key"].to_list()
    index = {key: i for i, key in enumerate(keys)}
    parent = list(range(len(keys)))
    held: list[dict[str, str]] = [{} for _ in keys]
    for key, identity, value in identities.iter_rows():
        held[index[key]].setdefault(identity, value)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ordered = edges.sort(["priority", "record_key_from", "record_key_to"])
    for a, b in zip(ordered["record_key_from"], ordered["record_key_to"], strict=True):
        ra, rb = find(index[a]), find(index[b])
        if ra == rb:
            continue
        mine, theirs = held[ra], held[rb]
        if any(theirs.get(identity, value) != value for identity, value in mine.items()):
            continue  # refused: the two sides are different people
        if len(mine) < len(theirs):
            ra, rb, mine, theirs = rb, ra, theirs, mine
        parent[rb] = ra
        mine.update(theirs)
    roots = pl.DataFrame({"record_key": keys, "root": [find(i) for i in range(len(keys))]})
    return roots.join(members.select("record_key", "component_key"), on="record_key").select(
        "record_key",
        cluster_key=pl.col("record_key").min().over("root"),
        cluster_size=pl.len().over("root").cast(pl.Int64),
        component_key="component_key",
    )
