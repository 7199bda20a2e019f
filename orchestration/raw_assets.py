"""One asset per source: new landing files -> raw.<source>, through the source's contract."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from ingestion.contracts import Contract
from ingestion.load import LoadReport, first_row, load_source
from orchestration.resources import LandingFolder


def raw_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def _metadata(report: LoadReport, total_rows: int, total_rejects: int) -> dict:
    summary = report.summary()
    failed = [f for f in report.files if f.status == "failed"]
    meta = {
        "dagster/row_count": dg.MetadataValue.int(total_rows),
        "rejected rows (all loads)": dg.MetadataValue.int(total_rejects),
        "batch_id": report.batch_id,
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
        f"files `{contract.files}` ({contract.format}, {contract.encoding}).",
        kinds={"polars", "duckdb"},
        metadata={"dagster/column_schema": columns},
    )
    def _raw(context: dg.AssetExecutionContext, duckdb: DuckDBResource, landing: LandingFolder) -> dg.MaterializeResult:
        with duckdb.get_connection() as conn:
            report = load_source(conn, contract, landing.folder, run_id=context.run_id, progress=context.log.info)
            total = first_row(conn, f'select count(*) from raw."{contract.source}"')[0]
            rejects = first_row(conn, "select count(*) from raw._rejects where source = ?", [contract.source])[0]
        for f in report.files:
            if f.status == "failed":
                context.log.warning(f"{contract.source}: {f.message}")
        context.log.info(f"{contract.source}: {report.summary()}")
        return dg.MaterializeResult(metadata=_metadata(report, total, rejects))

    return _raw
