"""Asset checks on the raw assets: a Great Expectations suite on the rows this run loaded (a
failed critical expectation blocks everything downstream in the same run), and a freshness
check per source (nothing new for longer than the contract's `freshness_hours` fails it)."""

import time
from datetime import UTC, datetime

import dagster as dg
import polars as pl
import pyarrow as pa
from dagster_duckdb import DuckDBResource

from ingestion.contracts import Contract
from ingestion.load import first_row
from ingestion.validation import validate_slices
from orchestration.raw_assets import raw_key

SLICE_ROWS = 1_000_000  # rows validated at a time: Great Expectations holds a slice in pandas


def run_batches(conn, source: str, run_id: str) -> list[str]:
    """The loads of this run that brought rows for this source (a retried load makes two)."""
    rows = conn.execute(
        """select distinct batch_id from raw._load_ledger
        where source = ? and run_id = ? and rows_loaded > 0 order by batch_id""",
        [source, run_id],
    ).fetchall()
    return [r[0] for r in rows]


def batch_slices(conn, source: str, batch_ids: list[str]):
    """The batches' rows as polars frames of about SLICE_ROWS rows, streamed from DuckDB."""
    reader = conn.sql(
        f'select * from raw."{source}" where list_contains(?, _batch_id)', params=[batch_ids]
    ).to_arrow_reader(SLICE_ROWS)
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
        description="Great Expectations suite on the rows this run loaded: keys present, amounts not negative "
        "and timestamps in a sane range are critical (they block downstream assets); enumerations warn.",
    )
    def _check(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
        started = time.perf_counter()
        with duckdb.get_connection() as conn:
            batch_ids = run_batches(conn, contract.source, context.run.run_id)
            if not batch_ids:
                return dg.AssetCheckResult(
                    passed=True,
                    description="no new rows in this run (earlier rows were validated when they were loaded)",
                    metadata={"rows validated": 0},
                )
            slices = logged(batch_slices(conn, contract.source, batch_ids), contract.source, context.log.info)
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
                "batches": ", ".join(batch_ids),
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


def build_freshness_check(contract: Contract) -> dg.AssetChecksDefinition:
    hours = contract.freshness_hours

    @dg.asset_check(
        asset=raw_key(contract.source),
        name="freshness",
        description=f"Fails when no new rows arrived for more than {hours:g} hours (the contract's "
        "`freshness_hours`): a silent source is found the day it stops, not when a marketer asks.",
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as conn:
            row = first_row(
                conn,
                """select max(loaded_at) from raw._load_ledger
                   where source = ? and status = 'loaded' and rows_loaded > 0""",
                [contract.source],
            )
        last = row[0] if row else None
        if last is None:
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
                description=f"{contract.source}: no rows ever loaded",
                metadata={"limit (hours)": hours},
            )
        age = (datetime.now(UTC).replace(tzinfo=None) - last).total_seconds() / 3600
        stale = age > hours
        return dg.AssetCheckResult(
            passed=not stale,
            severity=dg.AssetCheckSeverity.ERROR,
            description=(
                f"{contract.source}: nothing new for {age:.1f} hours (limit {hours:g})"
                if stale
                else f"{contract.source}: new rows {age:.1f} hours ago"
            ),
            metadata={
                "last new rows at (UTC)": str(last),
                "hours since": round(age, 2),
                "limit (hours)": hours,
            },
        )

    return _check
