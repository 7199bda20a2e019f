"""Preview an identity configuration change before it is applied.

The identity seeds (rules, blocklist, never-link pairs, accepted probable links) as they are now in the working tree are
run against a copy of the warehouse; the clusters they give are compared with the fans the
warehouse has. Nothing published changes: not the warehouse, not the marts, not the serving copy.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import polars as pl

from common.errors import UserError
from orchestration.project import dbt_environment, dbt_executable
from orchestration.settings import ROOT, path_setting

IDENTITY_MODELS = [
    "int_identity__records",
    "int_identity__identifiers",
    "int_identity__identifier_values",
    "int_identity__edges",
    "int_identity__probable_links",
    "int_identity__probable_edges",
    "int_identity__graph_edges",
    "int_identity__clusters",
]


def copy_warehouse(warehouse: Path, scratch: Path) -> Path:
    """A copy of the warehouse to try the change on (a read-only connection is held while copying,
    so no run writes meanwhile; it fails at once if a run holds the warehouse)."""
    if not warehouse.exists():
        raise UserError(f"{warehouse}: no warehouse to preview against (run the pipeline first)")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    copy = scratch / warehouse.name
    try:
        with duckdb.connect(str(warehouse), read_only=True):
            shutil.copy2(warehouse, copy)
            wal = warehouse.with_name(warehouse.name + ".wal")
            if wal.exists():
                shutil.copy2(wal, copy.with_name(copy.name + ".wal"))
    except duckdb.IOException as error:
        raise UserError(f"{warehouse}: busy (a pipeline run holds it); preview again when it ends ({error})") from None
    return copy


def run_identity(copy: Path, scratch: Path, log=print) -> None:
    """The identity seeds and models, built from scratch in the copy."""
    env = {**dbt_environment(), "SCRM_DUCKDB_PATH": str(copy), "DBT_TARGET_PATH": str(scratch / "target")}
    for args in (
        ["seed", "--select", "path:dbt_project/seeds/identity", "--full-refresh"],
        ["run", "--select", *IDENTITY_MODELS, "--full-refresh"],
    ):
        log(f"dbt {' '.join(args[:1])} in the copy ...")
        done = subprocess.run([dbt_executable(), *args, "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise UserError(f"the identity models do not build with this configuration:\n{done.stdout[-3000:]}")


def compare(before: pl.DataFrame, after: pl.DataFrame) -> dict:
    """before: record_key, fan_id (the warehouse now); after: record_key, cluster_key (with the
    change). Fans that would merge or split, records that would move, the largest fans."""
    both = before.join(after, on="record_key", how="full", coalesce=True)
    known = both.filter(pl.col("fan_id").is_not_null() & pl.col("cluster_key").is_not_null())
    # each new cluster keeps the fan most of its records come from; the others' records move
    cells = known.group_by("cluster_key", "fan_id").len()
    heir = cells.sort(["cluster_key", "len", "fan_id"], descending=[False, True, False]).unique(
        "cluster_key", keep="first", maintain_order=True
    )
    # and each fan stays with the cluster holding most of its records; the rest of it moves
    keeper = cells.sort(["fan_id", "len", "cluster_key"], descending=[False, True, False]).unique(
        "fan_id", keep="first", maintain_order=True
    )
    moved = (
        known.join(heir.select("cluster_key", heir="fan_id"), on="cluster_key")
        .join(keeper.select("fan_id", keeper="cluster_key"), on="fan_id")
        .filter((pl.col("fan_id") != pl.col("heir")) | (pl.col("cluster_key") != pl.col("keeper")))
    )
    fans_per_cluster = cells.group_by("cluster_key").len()
    clusters_per_fan = cells.group_by("fan_id").len()

    def largest(frame: pl.DataFrame, key: str) -> list:
        sizes = frame.group_by(key).len().sort(["len", key], descending=[True, False]).head(5)
        return [(k, n) for k, n in sizes.iter_rows()]

    # a new cluster is named by the fan it keeps (cluster keys are record keys: personal data)
    named_after = after.join(heir.select("cluster_key", "fan_id"), on="cluster_key", how="left").with_columns(
        fan=pl.coalesce("fan_id", pl.lit("(new fan)"))
    )

    return {
        "records": both.height,
        "fans_before": before["fan_id"].n_unique(),
        "fans_after": after["cluster_key"].n_unique(),
        "merges": fans_per_cluster.filter(pl.col("len") > 1).height,
        "fans_merged_away": int((fans_per_cluster["len"] - 1).sum()),
        "splits": clusters_per_fan.filter(pl.col("len") > 1).height,
        "records_moved": moved.height,
        "new_records": both.filter(pl.col("fan_id").is_null()).height,
        "largest_before": largest(before, "fan_id"),
        "largest_after": [
            (fan, n)
            for _, fan, n in named_after.group_by("cluster_key", "fan")
            .len()
            .sort(["len", "fan"], descending=[True, False])
            .head(5)
            .iter_rows()
        ],
    }


def preview(log=print) -> dict:
    warehouse = path_setting("SCRM_DUCKDB_PATH")
    scratch = warehouse.parent / "preview"
    copy = copy_warehouse(warehouse, scratch)
    with duckdb.connect(str(copy)) as conn:
        before = conn.sql("select record_key, fan_id from intermediate.int_identity__current_assignments").pl()
        decisions_before = conn.sql(
            "select identifier_type, identifier_value, is_quarantined from intermediate.int_identity__identifier_values"
        ).pl()
    run_identity(copy, scratch, log)
    with duckdb.connect(str(copy), read_only=True) as conn:
        after = conn.sql("select record_key, cluster_key from intermediate.int_identity__clusters").pl()
        decisions_after = conn.sql(
            "select identifier_type, identifier_value, is_quarantined from intermediate.int_identity__identifier_values"
        ).pl()
    figures = compare(before, after)
    changed = decisions_before.join(decisions_after, on=["identifier_type", "identifier_value"], suffix="_after")
    figures["values_newly_quarantined"] = changed.filter(
        ~pl.col("is_quarantined") & pl.col("is_quarantined_after")
    ).height
    figures["values_released"] = changed.filter(pl.col("is_quarantined") & ~pl.col("is_quarantined_after")).height
    figures["scratch"] = str(scratch)
    return figures


def report(f: dict) -> str:
    lines = [
        "identity configuration preview (nothing published has changed; the copy is in " + f["scratch"] + "):",
        f"  fans: {f['fans_before']:,} now -> {f['fans_after']:,} with the change ({f['records']:,} records)",
        f"  merges: {f['merges']:,} fans would absorb {f['fans_merged_away']:,} others",
        f"  splits: {f['splits']:,} fans would split",
        f"  records that would move to another fan: {f['records_moved']:,}",
        f"  identifier values newly quarantined: {f['values_newly_quarantined']:,}; released: {f['values_released']:,}",
        "  largest fans now:          " + ", ".join(f"{k} ({n})" for k, n in f["largest_before"]),
        "  largest with the change:   " + ", ".join(f"{k} ({n})" for k, n in f["largest_after"]),
        "apply it with a full refresh of the identity models (README: Full refresh); fan ids stay stable",
    ]
    return "\n".join(lines)
