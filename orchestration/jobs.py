"""Jobs are asset selections, run in one process: DuckDB has one writer at a time."""

import dagster as dg

pipeline_job = dg.define_asset_job(
    "scrm_pipeline",
    selection=dg.AssetSelection.all(),
    description="Load new landing files, validate, build every dbt model, export the segments and publish "
    "the serving copy.",
    executor_def=dg.in_process_executor,
)
