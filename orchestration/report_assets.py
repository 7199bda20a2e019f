"""Reports computed from the marts, shown as asset metadata in the UI."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from activation.figures import identity_figures, marts_figures
from orchestration.dbt_assets import scrm_dbt_models


def md_table(header: list[str], rows: list) -> dg.MetadataValue:
    """A Markdown table for asset metadata."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return dg.MetadataValue.md("\n".join(lines))


def identity_metadata(figures: dict) -> dict:
    return {
        "fans": dg.MetadataValue.int(figures["fans"]),
        "records": dg.MetadataValue.int(figures["records"]),
        "single-record fans": dg.MetadataValue.int(figures["single_record_fans"]),
        "fans in two or more silos": dg.MetadataValue.int(figures["fans_in_two_or_more_silos"]),
        "largest fan (records)": dg.MetadataValue.int(figures["largest_fan"]),
        "mean records per fan": dg.MetadataValue.float(figures["mean_records_per_fan"]),
        "fan size distribution": md_table(["records", "fans"], figures["sizes"]),
        "largest fans": md_table(["fan", "records", "silos"], figures["largest_fans"]),
        "identifier decisions (marts.quarantined_identifiers)": md_table(
            ["type", "decision", "values", "records"], figures["quarantine"]
        ),
        "merges refused (marts.refused_merges)": dg.MetadataValue.int(figures["refused_merges"]),
        "links refused": dg.MetadataValue.int(figures["refused_links"]),
        "fans over the size limit": dg.MetadataValue.int(figures["fans_over_size_limit"]),
        "merges (all runs)": dg.MetadataValue.int(figures["merges"]),
        "splits (all runs)": dg.MetadataValue.int(figures["splits"]),
        "probable links waiting for review (scrm links)": dg.MetadataValue.int(figures["probable_links_pending"]),
        "probable links (marts.probable_fan_links)": md_table(
            ["rule", "pending", "accepted", "rejected"], figures["probable_links"]
        ),
    }


@dg.asset(
    key=["reports", "identity_graph"],
    group_name="reports",
    deps=[
        get_asset_key_for_model([scrm_dbt_models], name)
        for name in ("fans", "quarantined_identifiers", "identity_changes", "probable_fan_links")
    ],
    description="Identity graph statistics: fans, size distribution, largest fans, quarantined identifiers, "
    "merges and splits, the probable links waiting for review. Read the metadata of the latest materialisation.",
    kinds={"duckdb"},
)
def identity_graph_report(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        return dg.MaterializeResult(metadata=identity_metadata(identity_figures(conn)))


def marts_metadata(figures: dict) -> dict:
    return {
        "as of": dg.MetadataValue.text(figures["as_of_date"]),
        "ladder (customer -> user -> fan -> friend)": md_table(["rung", "fans"], figures["ladder"]),
        "community steps": md_table(["step", "fans"], figures["community_steps"]),
        "engagement tiers": md_table(["tier", "fans", "mean score"], figures["engagement_tiers"]),
        "trust tiers": md_table(["tier", "fans", "mean score"], figures["trust_tiers"]),
        "suspected bought followers": dg.MetadataValue.int(figures["suspected_fakes"]),
        "RFM segments": md_table(["segment", "fans"], figures["rfm_segments"]),
        "top advocates": md_table(
            ["rank", "fan", "referrals", "converted", "downstream", "revenue (yuan)", "rewards (yuan)"],
            figures["top_advocates"],
        ),
        "referral campaigns": md_table(
            ["campaign", "referrals", "converted", "K-factor", "revenue (yuan)", "excluded"], figures["campaigns"]
        ),
        "channel overlap": md_table(["silos", "fans", "% of fans"], figures["channel_overlap"]),
        "share of offline buyers reachable on WeChat": dg.MetadataValue.float(
            figures["share_offline_reachable_on_wechat"]
        ),
    }


@dg.asset(
    key=["reports", "fan_marts"],
    group_name="reports",
    deps=[
        get_asset_key_for_model([scrm_dbt_models], name)
        for name in (
            "fan_lifecycle",
            "fan_engagement",
            "fan_rfm",
            "fan_trust",
            "referral_advocates",
            "referral_campaigns",
            "channel_overlap",
            "channel_reach",
        )
    ],
    description="The marts at a glance: the customer -> user -> fan -> friend ladder, community steps, "
    "engagement and trust tiers, top advocates, referral campaigns and channel overlap.",
    kinds={"duckdb"},
)
def fan_marts_report(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        return dg.MaterializeResult(metadata=marts_metadata(marts_figures(conn)))
