"""Great Expectations suites per source, built from the source's contract, run in DuckDB.

The reader already rejects rows it cannot type; these suites are the second line of defence on
what reached raw: keys present, amounts not negative, timestamps in a sane range (critical,
they block downstream assets) and enumerations (a warning: a new value needs a look, not a
stopped pipeline). The suites run through Great Expectations' SQL execution engine on the
warehouse (`ingestion/gx_duckdb.py`): the rows are never copied out. Great Expectations is
imported inside the functions: it adds seconds to start-up. A load that brought rows starts that
import on a thread (`import_in_background`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from ingestion.contracts import Contract

BATCH = "_batch_id"  # each row's batch: a failure is traced back to the batches (files) it came from
EARLIEST = {"date": datetime(1900, 1, 1), "datetime": datetime(2000, 1, 1), "epoch_seconds": datetime(2000, 1, 1)}


class ValidationError(RuntimeError):
    """An expectation Great Expectations could not evaluate (not one that failed): the check
    stops instead of passing rows nobody looked at."""


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


_importing: threading.Thread | None = None


def import_in_background() -> None:
    """Start importing Great Expectations (about 4 s) on a thread, once per process, so that it
    runs beside the loads before the first suite. They share the interpreter's lock: a full
    build at 1M gains about 3 s, a day of 1% about nothing (its short loads slow down by what
    the suites gain). A suite's own import waits for this one to finish (Python locks a module
    while it is imported); one that failed here is tried again there and raises there."""
    global _importing
    if _importing is None and "great_expectations" not in sys.modules:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        _importing = threading.Thread(target=_import_gx, name="import great_expectations", daemon=True)
        _importing.start()


def _import_gx() -> None:
    with contextlib.suppress(Exception):  # the suite's own import raises it, where it is reported
        import great_expectations  # noqa: F401


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


def validate_batches(
    conn: duckdb.DuckDBPyConnection, contract: Contract, batch_ids: list[str], now: datetime | None = None
) -> tuple[list[Outcome], int]:
    """Run the source's suite on the rows the batches brought to its raw table, inside DuckDB
    (Great Expectations' SQL execution engine: a million rows take a fraction of a second, where
    pandas took seconds). Returns the outcomes, each with the batches that have an unexpected
    row, and the rows validated."""
    context = _context()
    suite = build_suite(contract, now)
    # The rows being judged, as a view in the default schema: Great Expectations reads a table's
    # columns without its schema when duckdb-engine cannot reflect them (DuckDB has no pg_collation).
    view = f"_gx_{contract.source}"
    ids = ", ".join("'" + b.replace("'", "''") + "'" for b in batch_ids)
    judged = f"_batch_id in ({ids})" if ids else "false"
    conn.execute(f'create or replace view main."{view}" as select * from raw."{contract.source}" where {judged}')
    from ingestion import gx_duckdb

    datasource = context.data_sources.add_sql(
        f"{contract.source}_warehouse", connection_string=gx_duckdb.URL, kwargs=gx_duckdb.engine_kwargs(conn)
    )
    try:
        batch = (
            datasource.add_table_asset(contract.source, table_name=view)
            .add_batch_definition_whole_table("rows")
            .get_batch()
        )
        result = batch.validate(
            suite,
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": [BATCH],
                "return_unexpected_index_query": True,
            },
        )
        outcomes = [_outcome(conn, r, batch_ids) for r in result.results]
    finally:
        datasource.get_engine().dispose()
        conn.execute(f'drop view if exists main."{view}"')
    rows = max((int(r.result.get("element_count") or 0) for r in result.results), default=0)
    return outcomes, rows


def _outcome(conn: duckdb.DuckDBPyConnection, r, batch_ids: list[str]) -> Outcome:
    config = r.expectation_config
    failures = [e for e in (r.exception_info or {}).values() if isinstance(e, dict) and e.get("raised_exception")]
    if failures:
        raise ValidationError(
            f"Great Expectations could not evaluate {config.type}({config.kwargs.get('column', '')}): "
            + failures[0].get("exception_message", "")
        )
    unexpected = int(r.result.get("unexpected_count") or 0)
    query = r.result.get("unexpected_index_query")
    return Outcome(
        expectation=config.type,
        column=config.kwargs.get("column", ""),
        critical=bool((config.meta or {}).get("critical")),
        success=bool(r.success),
        unexpected=unexpected,
        examples=[str(v) for v in (r.result.get("partial_unexpected_list") or [])[:5]],
        batches=_failing_batches(conn, query, batch_ids) if unexpected else frozenset(),
    )


def _failing_batches(conn: duckdb.DuckDBPyConnection, query: str | None, batch_ids: list[str]) -> frozenset:
    """The batches of the unexpected rows, from the query Great Expectations gives for them (its
    lists stop at 200 rows). Without that query no batch can be cleared: all of them count."""
    if not query:
        return frozenset(batch_ids)
    rows = conn.execute(f"select distinct {BATCH} from ({query.strip().rstrip(';')}) where {BATCH} is not null")
    return frozenset(b for (b,) in rows.fetchall())
