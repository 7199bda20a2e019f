"""Asset checks on the raw assets: a Great Expectations suite on every batch not judged yet (a
failed critical expectation holds the batch out of staging until someone releases or drops it,
and blocks everything downstream in the run that found it), the contract's columns present in
every file, and a freshness check per source (nothing new for longer than the contract's
`freshness_hours` fails it)."""

import time
from datetime import UTC, datetime

import dagster as dg
from dagster_duckdb import DuckDBResource

from common.warehouse import first_row
from ingestion.batches import describe, held_batches, record_verdicts, unjudged_batches
from ingestion.contracts import Contract
from ingestion.validation import Outcome, validate_batches
from orchestration.raw_assets import raw_key


def judge_batches(conn, contract: Contract, batches: dict[str, int], log) -> tuple[list[Outcome], int, dict[str, str]]:
    """Validate the batches together and record a verdict for each: a batch is held when one of
    its rows failed a critical expectation. Returns (outcomes, rows, batch -> verdict)."""
    started = time.perf_counter()
    outcomes, rows = validate_batches(conn, contract, list(batches))
    seconds = time.perf_counter() - started
    log(f"{contract.source}: validated {rows:,} rows of {len(batches)} batch(es) in {seconds:.1f}s")
    critical = [o for o in outcomes if o.critical and o.batches]
    judged = {
        batch_id: (batch_rows, "; ".join(o.describe() for o in critical if batch_id in o.batches) or None)
        for batch_id, batch_rows in batches.items()
    }
    return outcomes, rows, record_verdicts(conn, contract.source, judged)


def build_raw_check(contract: Contract) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_key(contract.source),
        name="great_expectations",
        blocking=True,
        description="Great Expectations suite on every batch not validated yet: keys present, amounts not negative "
        "and timestamps in a sane range are critical (the batch is held out of staging until someone releases or "
        "drops it, and the run that found it stops before dbt); enumerations warn. Held batches are listed here "
        "every run until dealt with.",
    )
    def _check(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
        started = time.perf_counter()
        outcomes, rows, verdicts = [], 0, {}
        with duckdb.get_connection() as conn:
            batches = unjudged_batches(conn, contract.source)
            if batches:
                outcomes, rows, verdicts = judge_batches(conn, contract, batches, context.log.info)
            held = held_batches(conn, contract.source)
        seconds = time.perf_counter() - started
        failed = [o for o in outcomes if not o.success]
        newly_held = [b for b, v in verdicts.items() if v == "held"]
        table = "\n".join(
            f"| {o.expectation} | {o.column} | {'critical' if o.critical else 'warn'} | "
            f"{'ok' if o.success else 'FAILED'} | {o.unexpected} | {', '.join(o.examples[:3])} |"
            for o in outcomes
        )
        if newly_held:
            description = "; ".join(o.describe() for o in failed)
        elif held:
            description = f"{len(held)} batch(es) held out of staging until released or dropped: " + "; ".join(
                describe(b) for b in held
            )
        elif verdicts:
            description = "; ".join(o.describe() for o in failed) or "all expectations met"
        else:
            description = "no new rows to validate (every batch was validated when it was loaded)"
        return dg.AssetCheckResult(
            passed=not failed and not held,
            # only a batch found bad in this run stops the run: held ones are already out of staging
            severity=dg.AssetCheckSeverity.ERROR if newly_held else dg.AssetCheckSeverity.WARN,
            description=description,
            metadata={
                "batches validated": len(verdicts),
                "rows validated": rows,
                "expectations": len(outcomes),
                "failed": len(failed),
                "failed critical": sum(o.critical for o in failed),
                "held batches": len(held),
                "seconds": round(seconds, 2),
                "results": dg.MetadataValue.md(
                    "| expectation | column | level | result | unexpected | examples |\n|---|---|---|---|---|---|\n"
                    + table
                ),
                "held": dg.MetadataValue.md(
                    "| batch | rows | files | held since (UTC) | problems |\n|---|---|---|---|---|\n"
                    + "\n".join(
                        f"| {b['batch_id']} | {b['rows']} | {', '.join(b['files'])} "
                        f"| {b['validated_at']:%Y-%m-%d %H:%M} | {b['problems']} |"
                        for b in held
                    )
                ),
            },
        )

    return _check


def build_columns_check(contract: Contract) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_key(contract.source),
        name="contract_columns",
        description="Warns when a file loaded in this run lacks a column its contract declares (a renamed header "
        "loads as empty values). Columns marked `column_required` fail the file instead.",
    )
    def _check(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as conn:
            rows = conn.execute(
                """select source_file, missing_columns from raw._load_ledger
                   where source = ? and run_id = ? and len(missing_columns) > 0 order by 1""",
                [contract.source, context.run.run_id],
            ).fetchall()
        files = "\n".join(f"| {name} | {', '.join(missing)} |" for name, missing in rows)
        return dg.AssetCheckResult(
            passed=not rows,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"{len(rows)} file(s) lack declared columns, loaded as empty: "
                + "; ".join(f"{name}: {', '.join(missing)}" for name, missing in rows)
                if rows
                else "every file loaded in this run has every declared column"
            ),
            metadata={"files": dg.MetadataValue.md(f"| file | missing columns |\n|---|---|\n{files}")},
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
