"""One asset per source: new landing files (and new API pages, where the source has a configured
API) -> raw.<source>, through the source's contract."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from common.warehouse import first_row
from ingestion.api import API_SOURCES, pull_configured
from ingestion.contracts import Contract
from ingestion.load import LoadReport, load_source
from ingestion.validation import import_in_background
from orchestration.resources import LandingFolder, ShopApi, WeChatApi


def raw_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def _metadata(report: LoadReport, total_rows: int, total_rejects: int) -> dict:
    summary = report.summary()
    failed = [f for f in report.files if f.status == "failed"]
    meta = {
        "dagster/row_count": dg.MetadataValue.int(total_rows),
        "rejected rows (all loads)": dg.MetadataValue.int(total_rejects),
        "load id": report.load_id,
        **{key.replace("_", " ") + " (this run)": dg.MetadataValue.int(v) for key, v in summary.items()},
    }
    if failed:
        table = "\n".join(f"| {f.source_file} | {f.message} |" for f in failed)
        meta["failed files"] = dg.MetadataValue.md(f"| file | problem |\n|---|---|\n{table}")
    return meta


def build_raw_asset(contract: Contract) -> dg.AssetsDefinition:
    columns = dg.TableSchema(
        columns=[dg.TableColumn(c.name, c.type, description=c.description) for c in contract.columns]
    )

    @dg.asset(
        key=raw_key(contract.source),
        group_name="raw",
        description=f"{contract.description}\n\nContract: `ingestion/contracts/{contract.path.name}`; "
        f"files `{contract.files}` ({contract.format}, {contract.encoding})"
        + (f"; also pulled from {API_SOURCES[contract.source]}." if contract.source in API_SOURCES else "."),
        kinds={"polars", "duckdb"},
        metadata={"dagster/column_schema": columns},
        # transient failures (an API down for a minute) are retried; a page that still fails
        # leaves its cursor where it was, so a retry starts from the same place
        retry_policy=dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL),
    )
    def _raw(
        context: dg.AssetExecutionContext,
        duckdb: DuckDBResource,
        landing: LandingFolder,
        wechat_api: WeChatApi,
        shop_api: ShopApi,
    ) -> dg.MaterializeResult:
        with duckdb.get_connection() as conn:
            report = load_source(conn, contract, landing.folder, run_id=context.run_id, progress=context.log.info)
            wechat = {"url": wechat_api.url, "app_id": wechat_api.app_id, "app_secret": wechat_api.app_secret}
            shop = {"url": shop_api.url, "api_key": shop_api.api_key}
            pull_configured(conn, contract, report, wechat, shop, context.run_id, context.log.info)
            if report.total("rows_loaded"):
                import_in_background()  # the check that follows validates them
            total = first_row(conn, f'select count(*) from raw."{contract.source}"')[0]
            rejects = first_row(conn, "select count(*) from raw._rejects where source = ?", [contract.source])[0]
        for f in report.files:
            if f.status == "failed" or f.missing_columns:
                context.log.warning(f"{contract.source}: {f.message}")
        context.log.info(f"{contract.source}: {report.summary()}")
        return dg.MaterializeResult(metadata=_metadata(report, total, rejects))

    return _raw
