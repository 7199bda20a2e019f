"""Great Expectations suites per source, built from the source's contract.

The reader already rejects rows it cannot type; these suites are the second line of defence on
what reached raw: keys present, amounts not negative, timestamps in a sane range (critical,
they block downstream assets) and enumerations (a warning: a new value needs a look, not a
stopped pipeline). Great Expectations is imported inside the functions: it adds seconds to
start-up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from ingestion.contracts import Contract

BATCH = "_batch_id"  # each row's batch: a failure is traced back to the batches (files) it came from
EARLIEST = {"date": datetime(1900, 1, 1), "datetime": datetime(2000, 1, 1), "epoch_seconds": datetime(2000, 1, 1)}


@dataclass(frozen=True)
class Outcome:
    expectation: str
    column: str
    critical: bool
    success: bool
    unexpected: int
    examples: list
    batches: frozenset = field(default_factory=frozenset)  # batches with an unexpected row

    def describe(self) -> str:
        status = "ok" if self.success else f"FAILED ({self.unexpected} rows, e.g. {self.examples[:3]})"
        return f"{self.expectation}({self.column}){' [critical]' if self.critical else ''}: {status}"


def _context():
    """An in-memory Great Expectations context: no files, no analytics, no progress bars."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def build_suite(contract: Contract, now: datetime | None = None):
    """The suite for one source; an expectation's meta says whether it is critical."""
    import great_expectations as gx

    _context()

    latest = (now or datetime.now()) + timedelta(days=1)
    suite = gx.ExpectationSuite(name=f"{contract.source}_raw")

    def add(expectation, is_critical: bool) -> None:
        expectation.meta = {"critical": is_critical}
        suite.add_expectation(expectation)

    for column in contract.columns:
        name = column.name
        if column.required or name in contract.key:
            add(gx.expectations.ExpectColumnValuesToNotBeNull(column=name), True)
        if column.type in ("integer", "decimal") and (column.min is not None or column.max is not None):
            add(
                gx.expectations.ExpectColumnValuesToBeBetween(column=name, min_value=column.min, max_value=column.max),
                True,
            )
        if column.type in EARLIEST:
            add(
                gx.expectations.ExpectColumnValuesToBeBetween(
                    column=name, min_value=EARLIEST[column.type], max_value=latest
                ),
                True,
            )
        if column.allowed is not None:
            add(gx.expectations.ExpectColumnValuesToBeInSet(column=name, value_set=list(column.allowed)), False)
    return suite


def validate(df: pl.DataFrame, contract: Contract, now: datetime | None = None) -> list[Outcome]:
    """Run the source's suite on rows of its raw table (canonical column names)."""
    context = _context()
    suite = build_suite(contract, now)
    frame = _for_pandas(df, contract)
    batch = (
        context.data_sources.add_pandas(f"{contract.source}_frames")
        .add_dataframe_asset(contract.source)
        .add_batch_definition_whole_dataframe("rows")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    # every unexpected row's batch, so a failure holds the batches (files) it came from, not the others
    result = batch.validate(
        suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [BATCH]}
    )
    outcomes = []
    for r in result.results:
        config = r.expectation_config
        outcomes.append(
            Outcome(
                expectation=config.type,
                column=config.kwargs.get("column", ""),
                critical=bool((config.meta or {}).get("critical")),
                success=bool(r.success),
                unexpected=int(r.result.get("unexpected_count") or 0),
                examples=[str(v) for v in (r.result.get("partial_unexpected_list") or [])[:5]],
                batches=frozenset(row[BATCH] for row in r.result.get("unexpected_index_list") or [] if row[BATCH]),
            )
        )
    return outcomes


def validate_slices(slices, contract: Contract, now: datetime | None = None) -> tuple[list[Outcome], int]:
    """The suite over a batch given as slices of rows (pandas needs the whole frame in memory, so
    a big batch goes through in slices); returns the outcomes summed over slices and the rows."""
    merged: dict[tuple[str, str], Outcome] = {}
    rows = 0
    for df in slices:
        rows += df.height
        for o in validate(df, contract, now):
            key = (o.expectation, o.column)
            seen = merged.get(key)
            merged[key] = (
                o
                if seen is None
                else Outcome(
                    expectation=o.expectation,
                    column=o.column,
                    critical=o.critical,
                    success=seen.success and o.success,
                    unexpected=seen.unexpected + o.unexpected,
                    examples=(seen.examples + o.examples)[:5],
                    batches=seen.batches | o.batches,
                )
            )
    return list(merged.values()), rows


def _for_pandas(df: pl.DataFrame, contract: Contract):
    """Great Expectations takes pandas, not polars; dates become timestamps to compare."""
    columns = [c for c in contract.columns if c.name in df.columns]
    cast = [pl.col(BATCH) if BATCH in df.columns else pl.lit(None, dtype=pl.String).alias(BATCH)]
    for c in columns:
        if c.type == "decimal":
            cast.append(pl.col(c.name).cast(pl.Float64))
        elif c.type == "date":
            cast.append(pl.col(c.name).cast(pl.Datetime("us")))
        else:
            cast.append(pl.col(c.name))
    return df.select(cast).to_pandas()
