"""Identity stitching benchmark: connected components of N edges, as the pipeline runs them
(string record keys mapped to integers, scipy's components, cluster keys back).

    .venv/bin/python benchmarks/identity.py --edges 10000000 [--splink]

The graph has the shape of the pipeline's: stars of records around the first record carrying
an identifier value, fan sizes skewed (most fans small, a few large), chains of stars joined
by a second identifier. With --splink, Splink's cluster_pairwise_predictions_at_threshold
(DuckDB backend) clusters the same edges in the same run, and the two partitions are compared.
Prints JSON and writes it under benchmarks/results/.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transform.identity import cluster  # noqa: E402


def synthetic_graph(edges: int, seed: int = 7) -> tuple[pl.Series, pl.Series, pl.Series, int]:
    """Records and edges; returns (record keys, edge from, edge to, true number of components)."""
    rng = np.random.default_rng(seed)
    nodes = int(edges * 1.25)
    sizes = np.minimum(rng.geometric(0.35, size=nodes), 200)  # fans of 1, 2, 3 ... records
    sizes = sizes[np.cumsum(sizes) <= nodes]
    sizes = np.append(sizes, nodes - sizes.sum())
    sizes = sizes[sizes > 0]
    component = np.repeat(np.arange(len(sizes)), sizes)
    first = np.repeat(np.cumsum(sizes) - sizes, sizes)
    order = rng.permutation(nodes)  # keys in no particular order
    keys = pl.Series(order).cast(pl.String).str.zfill(12).str.replace(r"^", "online_orders:")
    # each non-first record of a component links to the first one (a star per identifier value)
    src = np.flatnonzero(np.arange(nodes) != first)
    dst = first[src]
    need = edges - len(src)
    if need > 0:  # extra edges inside components (a second shared identifier)
        pick = rng.choice(src, size=need)
        src, dst = np.concatenate([src, pick]), np.concatenate([dst, first[pick] + (pick - first[pick]) // 2])
    return keys, keys.gather(src[:edges]), keys.gather(dst[:edges]), len(np.unique(component))


def splink_clusters(keys: pl.Series, src: pl.Series, dst: pl.Series) -> pl.DataFrame:
    """The same edges through Splink's clustering (every edge a certain match)."""
    import duckdb
    from splink import DuckDBAPI
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    nodes = pl.DataFrame({"unique_id": keys}).to_arrow()
    edges = pl.DataFrame({"unique_id_l": src, "unique_id_r": dst, "match_probability": 1.0}).to_arrow()
    with duckdb.connect() as conn:
        conn.register("nodes", nodes)
        conn.register("edges", edges)
        result = cluster_pairwise_predictions_at_threshold(
            "nodes",
            "edges",
            db_api=DuckDBAPI(connection=conn),
            node_id_column_name="unique_id",
            edge_id_column_name_left="unique_id_l",
            edge_id_column_name_right="unique_id_r",
            threshold_match_probability=0.5,
        )
        return conn.sql(f"select unique_id as record_key, cluster_id from {result.physical_name}").pl()


def canonical(partition: pl.DataFrame, label: str) -> pl.DataFrame:
    """record_key -> the smallest record key of its cluster: equal frames = equal partitions."""
    return partition.select("record_key", canon=pl.col("record_key").min().over(label)).sort("record_key")


def compare(keys, src, dst, components: int, with_splink: bool) -> dict:
    started = time.perf_counter()
    ours = cluster(keys, src, dst)
    seconds = time.perf_counter() - started
    found = ours["cluster_key"].n_unique()
    figures = {
        "edges": len(src),
        "records": len(keys),
        "components_expected": components,
        "components_found": found,
        "same_partition": found == components,
        "cluster_seconds": round(seconds, 2),
    }
    if with_splink:
        started = time.perf_counter()
        theirs = splink_clusters(keys, src, dst)
        figures["splink_seconds"] = round(time.perf_counter() - started, 2)
        figures["splink_components"] = theirs["cluster_id"].n_unique()
        figures["same_partition_as_splink"] = canonical(ours, "cluster_key").equals(canonical(theirs, "cluster_id"))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=10_000_000)
    parser.add_argument("--splink", action="store_true", help="also cluster with Splink and compare")
    args = parser.parse_args()
    started = time.perf_counter()
    keys, src, dst, components = synthetic_graph(args.edges)
    built = time.perf_counter() - started
    figures = {**compare(keys, src, dst, components, args.splink), "graph_build_seconds": round(built, 2)}
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"identity_{args.edges}.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0 if figures["same_partition"] and figures.get("same_partition_as_splink", True) else 1


if __name__ == "__main__":
    sys.exit(main())
