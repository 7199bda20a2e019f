"""Identity accuracy against the generator's truth: pairwise precision, recall and F1.

A pair is two records put in the same fan (predicted) or belonging to the same person (true).
Counting pairs per (fan, person) cell, per fan and per person gives the figures without
enumerating pairs, so it runs at 10M records.
"""

from pathlib import Path

import duckdb
import polars as pl

from scrm.identity import cluster


def _pairs(counts: pl.Series) -> int:
    n = counts.cast(pl.Int64)
    return int((n * (n - 1) // 2).sum())


def pairwise_accuracy(fan_records: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """fan_records: source, source_record_id, fan_id; truth: source, source_record_id, person_id."""
    joined = fan_records.join(truth, on=["source", "source_record_id"], how="inner")
    together = _pairs(joined.group_by("fan_id", "person_id").len()["len"])
    predicted = _pairs(joined.group_by("fan_id").len()["len"])
    actual = _pairs(joined.group_by("person_id").len()["len"])
    precision = together / predicted if predicted else 1.0
    recall = together / actual if actual else 1.0
    sizes = joined.group_by("fan_id").len()["len"]
    return {
        "records": joined.height,
        "records_without_truth": fan_records.height - joined.height,
        "fans": joined["fan_id"].n_unique(),
        "people": joined["person_id"].n_unique(),
        "pairs_predicted": predicted,
        "pairs_true": actual,
        "pairs_correct": together,
        "precision": round(precision, 6),
        "recall": round(recall, 6),
        "f1": round(2 * precision * recall / (precision + recall), 6) if precision + recall else 0.0,
        "largest_fan_records": int(sizes.max()) if sizes.len() else 0,
    }


def reachable_partition(identifiers: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """What the best exact-match linker could join without ever merging two people: each
    person's records connected by identifier values that no other person's records carry.
    Returns source, source_record_id, fan_id (the reachable group)."""
    keyed = truth.with_columns(record_key=pl.concat_str("source", pl.lit(":"), "source_record_id"))
    ids = identifiers.join(keyed.select("record_key", "person_id"), on="record_key", how="inner")
    private = ids.filter(pl.col("person_id").n_unique().over("identifier_type", "identifier_value") == 1)
    anchored = private.with_columns(anchor=pl.col("record_key").min().over("identifier_type", "identifier_value"))
    edges = anchored.filter(pl.col("record_key") != pl.col("anchor"))
    groups = cluster(keyed["record_key"], edges["record_key"], edges["anchor"])
    return keyed.join(groups, on="record_key").select("source", "source_record_id", fan_id="cluster_key")


def measure(warehouse: Path, truth_dir: Path) -> dict:
    """Accuracy of the warehouse's fans against truth, and recall against what was reachable."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        fan_records = conn.sql("select source, source_record_id, fan_id from marts.fan_records").pl()
        identifiers = conn.sql(
            "select record_key, identifier_type, identifier_value from intermediate.int_identity__identifiers"
        ).pl()
    truth = pl.read_parquet(Path(truth_dir) / "records.parquet")
    figures = pairwise_accuracy(fan_records, truth)
    reachable = reachable_partition(identifiers, truth)
    # truth restricted to reachable groups: a pair counts only if evidence connects it
    reachable_truth = reachable.rename({"fan_id": "person_id"})
    against_reachable = pairwise_accuracy(fan_records, reachable_truth)
    figures["pairs_reachable"] = against_reachable["pairs_true"]
    figures["reachable_share_of_true_pairs"] = round(against_reachable["pairs_true"] / figures["pairs_true"], 6)
    figures["recall_of_reachable"] = against_reachable["recall"]
    return figures
