"""Connected components of the identity graph: the one step where SQL is the wrong tool.

scipy's connected_components is a linear-time graph search in C; the dbt Python model
`int_identity__clusters` calls `cluster` with the records and edges of the run.
"""

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def cluster(record_keys: pl.Series, edge_from: pl.Series, edge_to: pl.Series) -> pl.DataFrame:
    """Each record's cluster: (record_key, cluster_key, cluster_size). The cluster key is the
    smallest record key of the component, so it does not depend on row order."""
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
