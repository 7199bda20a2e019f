"""Great Expectations suites as asset checks on the raw assets. A failed critical
expectation blocks everything downstream in the same run."""

import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from ingestion.contracts import Contract
from ingestion.load import first_row
from ingestion.validation import validate
from orchestration.raw_assets import raw_key


def latest_batch_rows(conn, source: str):
    """Rows of the latest load that brought rows for this source (polars), or None."""
    row = first_row(
        conn,
        """select batch_id from raw._load_ledger
        where source = ? and rows_loaded > 0 order by loaded_at desc limit 1""",
        [source],
    )
    if row is None:
        return None, None
    return row[0], conn.sql(f'select * from raw."{source}" where _batch_id = ?', params=[row[0]]).pl()


def build_raw_check(contract: Contract) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_key(contract.source),
        name="great_expectations",
        blocking=True,
        description="Great Expectations suite on the latest batch: keys present, amounts not negative and "
        "timestamps in a sane range are critical (they block downstream assets); enumerations warn.",
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as conn:
            batch_id, rows = latest_batch_rows(conn, contract.source)
        if rows is None:
            return dg.AssetCheckResult(passed=True, description="no rows loaded yet", metadata={"rows validated": 0})
        started = time.perf_counter()
        outcomes = validate(rows, contract)
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
                "rows validated": len(rows),
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
