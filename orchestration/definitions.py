"""The one Definitions object of the project."""

import dagster as dg

from ingestion.contracts import load_contracts
from orchestration.checks import build_columns_check, build_freshness_check, build_raw_check
from orchestration.dbt_assets import scrm_dbt_models
from orchestration.jobs import pipeline_job
from orchestration.raw_assets import build_raw_asset
from orchestration.report_assets import fan_marts_report, identity_graph_report
from orchestration.resources import build_resources
from orchestration.runs import orphaned_run_sensor
from orchestration.schedules import daily_schedule
from orchestration.segment_assets import build_segment_assets, build_serving_asset, segment_exports
from orchestration.sensors import failure_alert_sensor, landing_sensor


def build_definitions() -> dg.Definitions:
    contracts = load_contracts().values()
    return dg.Definitions(
        assets=[
            *(build_raw_asset(c) for c in contracts),
            scrm_dbt_models,
            identity_graph_report,
            fan_marts_report,
            segment_exports,
            *build_segment_assets(),
            build_serving_asset(),
        ],
        asset_checks=[
            *(build_raw_check(c) for c in contracts),
            *(build_columns_check(c) for c in contracts),
            *(build_freshness_check(c) for c in contracts if c.freshness_hours),
        ],
        jobs=[pipeline_job],
        schedules=[daily_schedule],
        sensors=[landing_sensor, failure_alert_sensor, orphaned_run_sensor],
        resources=build_resources(),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
