"""Great Expectations suites as asset checks on the raw assets. A failed critical
expectation blocks everything downstream in the same run."""

import time

import dagster as dg
import polars as pl
import pyarrow as pa
from dagster_duckdb import DuckDBResource

from ingestion.contracts import Contract
from ingestion.load import first_row
from ingestion.validation import validate_slices
from orchestration.raw_assets import raw_key

SLICE_ROWS = 1_000_000  # rows validated at a time: Great Expectations holds a slice in pandas


def latest_batch(conn, source: str) -> str | None:
    """The latest load that brought rows for this source."""
    row = first_row(
        conn,
        """select batch_id from raw._load_ledger
        where source = ? and rows_loaded > 0 order by loaded_at desc limit 1""",
        [source],
    )
    return row[0] if row else None


def batch_slices(conn, source: str, batch_id: str):
    """The batch's rows as polars frames of about SLICE_ROWS rows, streamed from DuckDB."""
    reader = conn.sql(f'select * from raw."{source}" where _batch_id = ?', params=[batch_id]).to_arrow_reader(
        SLICE_ROWS
    )
    pending, size = [], 0
    for record_batch in reader:
        pending.append(record_batch)
        size += record_batch.num_rows
        if size >= SLICE_ROWS:
            yield pl.from_arrow(pa.Table.from_batches(pending))
            pending, size = [], 0
    if pending:
        yield pl.from_arrow(pa.Table.from_batches(pending))


def logged(slices, source: str, log):
    """Pass the slices through, saying how far validation has got (a 10M-people batch takes minutes)."""
    done = 0
    for df in slices:
        yield df
        done += df.height
        log(f"{source}: validated {done:,} rows")


def build_raw_check(contract: Contract) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_key(contract.source),
        name="great_expectations",
        blocking=True,
        description="Great Expectations suite on the latest batch: keys present, amounts not negative and "
        "timestamps in a sane range are critical (they block downstream assets); enumerations warn.",
    )
    def _check(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
        started = time.perf_counter()
        with duckdb.get_connection() as conn:
            batch_id = latest_batch(conn, contract.source)
            if batch_id is None:
                return dg.AssetCheckResult(
                    passed=True, description="no rows loaded yet", metadata={"rows validated": 0}
                )
            slices = logged(batch_slices(conn, contract.source, batch_id), contract.source, context.log.info)
            outcomes, rows = validate_slices(slices, contract)
        seconds = time.perf_counter() - started
        failed = [o for o in outcomes if not o.success]
        critical = [o for o in failed if o.critical]
        table = "\n".join(
            f"| {o.expectation} | {o.column} | {'critical' if o.critical else 'warn'} | "
            f"{'ok' if o.success else 'FAILED'} | {o.unexpected} | {', '.join(o.examples[:3])} |"
            for o in outcomes
        )
        return dg.AssetCheckResult(
            passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR if critical else dg.AssetCheckSeverity.WARN,
            description="; ".join(o.describe() for o in failed) or "all expectations met",
            metadata={
                "batch_id": batch_id,
                "rows validated": rows,
                "expectations": len(outcomes),
                "failed": len(failed),
                "failed critical": len(critical),
                "seconds": round(seconds, 2),
                "results": dg.MetadataValue.md(
                    "| expectation | column | level | result | unexpected | examples |\n|---|---|---|---|---|---|\n"
                    + table
                ),
            },
        )

    return _check
