"""The dbt models as Dagster assets: one graph with the raw assets that feed them."""

import json
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from ingestion.lake import attach_spark_tables, detach_spark_tables, sync_raw
from orchestration.builds import inputs_fingerprint, nothing_to_build, project_built, record_build
from orchestration.project import dbt_project, project_fingerprint
from orchestration.settings import engine, path_setting

TEST_ALL_ROWS = "SCRM_TEST_ALL_ROWS"  # read by dbt_project/macros/tests.sql


class Translator(DagsterDbtTranslator):
    """Group models and seeds by their folder: staging, intermediate, the marts by area
    (marts_core, marts_engagement, ...), identity for the identity configuration seeds. Sources
    keep the raw asset key from their `meta.dagster.asset_key`, which the default translator
    already reads."""

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """The YAML description, then the model's SQL; a seed has no SQL to show."""
        description = dbt_resource_props.get("description") or f"dbt {dbt_resource_props['resource_type']}"
        code = (dbt_resource_props.get("raw_code") or "").strip()
        return f"{description}\n\n#### Raw SQL:\n```sql\n{code}\n```" if code else description

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] in ("model", "seed"):
            fqn = dbt_resource_props["fqn"]
            return f"marts_{fqn[2]}" if fqn[1] == "marts" else fqn[1]
        return super().get_group_name(dbt_resource_props)


def relations() -> list[tuple[str, str]]:
    """(schema, name) of every table and view the build makes."""
    nodes = json.loads(dbt_project().manifest_path.read_text())["nodes"].values()
    return [
        (node["schema"], node["alias"])
        for node in nodes
        if node["resource_type"] in ("model", "seed") and node["config"].get("materialized") != "ephemeral"
    ]


class BuildConfig(dg.Config):
    rebuild: bool = False  # build even when nothing changed since the last build


@dbt_assets(manifest=dbt_project().manifest_path, dagster_dbt_translator=Translator())
def scrm_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource, config: BuildConfig
):
    """`dbt build` of the whole project, unless nothing it reads changed since the last one
    (orchestration/builds.py): then no asset is materialised and the steps after it skip."""
    whole = set(context.selected_asset_keys) == set(context.assets_def.keys)
    # unit tests check the SQL on hand-made rows, not the data: they run in the test suite
    # (tests/integration/test_end_to_end.py, on DuckDB) and by hand, as dbt advises, not on each
    # build (8.5 s of a 1M full build, 2026-12-08)
    args = ["build", "--exclude-resource-type", "unit_test"]
    on_spark = engine() == "spark"
    all_rows = False
    if whole:
        project = project_fingerprint()
        with duckdb.get_connection() as conn:
            fingerprint = inputs_fingerprint(conn)
            reason = None if config.rebuild else nothing_to_build(conn, relations(), fingerprint)
            if project_built(conn, project):
                context.log.info(
                    "the project is the one the last build ran: the data tests of the models kept by key read "
                    "the rows changed since that build"
                )
            else:  # every data test reads every row (dbt_project/macros/tests.sql)
                all_rows = True
        if reason:
            context.log.info(reason)
            return
    lake = path_setting("SCRM_LAKE_DIR")
    with duckdb.get_connection() as conn:
        if on_spark:
            synced = sync_raw(conn, lake)
            context.log.info(
                f"raw layer in the lake {lake}: {synced.written} batch files written, {synced.removed} removed, "
                f"{synced.kept} already there"
            )
        elif dropped := detach_spark_tables(conn, lake):
            context.log.info(f"the {dropped} views of the last Spark build are dropped: this build is on DuckDB")
    yield from _cli(dbt, args, context, all_rows).stream()
    with duckdb.get_connection() as conn:
        if on_spark:
            views = attach_spark_tables(conn, lake, relations())
            context.log.info(f"the {views} tables of the Spark build are readable in the warehouse as views")
        if whole:
            record_build(conn, context.run_id, fingerprint, project)


def _cli(dbt: DbtCliResource, args: list[str], context: dg.AssetExecutionContext, all_rows: bool):
    """Start dbt; with `all_rows`, SCRM_TEST_ALL_ROWS=true in its environment, which dagster-dbt
    copies when it starts the process: every data test reads every row."""
    before = os.environ.get(TEST_ALL_ROWS)
    if all_rows:
        os.environ[TEST_ALL_ROWS] = "true"
    try:
        return dbt.cli(args, context=context)
    finally:
        if before is None:
            os.environ.pop(TEST_ALL_ROWS, None)
        else:
            os.environ[TEST_ALL_ROWS] = before
