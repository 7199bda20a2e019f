"""Reports computed from the marts, shown as asset metadata in the UI."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from orchestration.dbt_assets import scrm_dbt_models


def identity_figures(conn) -> dict:
    """Graph statistics: fans, size distribution, largest fans, quarantine, merges and splits."""
    fans, records, singles, largest, mean, multi_silo = conn.execute("""
        select count(*), sum(record_count), count(*) filter (where record_count = 1), max(record_count),
               avg(record_count), count(*) filter (where silo_count >= 2)
        from marts.fans""").fetchall()[0]
    sizes = conn.execute("""
        select case when record_count = 1 then '1' when record_count <= 3 then '2-3'
                    when record_count <= 10 then '4-10' when record_count <= 30 then '11-30' else '>30' end,
               count(*)
        from marts.fans group by 1 order by min(record_count)""").fetchall()
    top = conn.execute("""
        select fan_id, record_count, silo_count from marts.fans
        order by record_count desc, fan_id limit 5""").fetchall()
    quarantine = conn.execute("""
        select identifier_type, split_part(quarantine_reason, ':', 1) as reason, count(*), sum(records)
        from marts.quarantined_identifiers group by all order by 3 desc""").fetchall()
    changes = dict(conn.execute("select change_type, count(*) from marts.identity_changes group by 1").fetchall())
    return {
        "fans": fans,
        "records": int(records or 0),
        "single_record_fans": singles,
        "largest_fan": largest or 0,
        "mean_records_per_fan": float(mean or 0),
        "fans_in_two_or_more_silos": multi_silo,
        "sizes": sizes,
        "largest_fans": top,
        "quarantine": quarantine,
        "merges": changes.get("merge", 0),
        "splits": changes.get("split", 0),
    }


def identity_metadata(figures: dict) -> dict:
    return {
        "fans": dg.MetadataValue.int(figures["fans"]),
        "records": dg.MetadataValue.int(figures["records"]),
        "single-record fans": dg.MetadataValue.int(figures["single_record_fans"]),
        "fans in two or more silos": dg.MetadataValue.int(figures["fans_in_two_or_more_silos"]),
        "largest fan (records)": dg.MetadataValue.int(figures["largest_fan"]),
        "mean records per fan": dg.MetadataValue.float(figures["mean_records_per_fan"]),
        "fan size distribution": dg.MetadataValue.md(
            "| records | fans |\n|---|---|\n" + "\n".join(f"| {s} | {n} |" for s, n in figures["sizes"])
        ),
        "largest fans": dg.MetadataValue.md(
            "| fan | records | silos |\n|---|---|---|\n"
            + "\n".join(f"| {f} | {r} | {s} |" for f, r, s in figures["largest_fans"])
        ),
        "quarantined identifiers": dg.MetadataValue.md(
            "| type | reason | values | records |\n|---|---|---|---|\n"
            + "\n".join(f"| {t} | {r} | {n} | {c} |" for t, r, n, c in figures["quarantine"])
        ),
        "merges (all runs)": dg.MetadataValue.int(figures["merges"]),
        "splits (all runs)": dg.MetadataValue.int(figures["splits"]),
    }


@dg.asset(
    key=["reports", "identity_graph"],
    group_name="reports",
    deps=[
        get_asset_key_for_model([scrm_dbt_models], name)
        for name in ("fans", "quarantined_identifiers", "identity_changes")
    ],
    description="Identity graph statistics: fans, size distribution, largest fans, quarantined identifiers, "
    "merges and splits. Read the metadata of the latest materialisation.",
    kinds={"duckdb"},
)
def identity_graph_report(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        return dg.MaterializeResult(metadata=identity_metadata(identity_figures(conn)))
