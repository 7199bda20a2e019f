"""The raw layer for Apache Spark: the raw tables dbt reads, as Parquet under the lake folder
(SCRM_LAKE_DIR/raw/<table>/), where dbt registers them as Spark tables (macros/lake.sql).

The loader, its contracts, rejects, ledger and Great Expectations verdicts stay in the DuckDB
warehouse; this mirrors what they let through. A raw table only grows by batches and shrinks by
whole batches (`scrm batches drop`), so each batch is one file named by its id and row count:
a sync writes the batches the lake lacks and deletes the files of batches gone, and running it
twice changes nothing. Hadoop's file listing skips names starting with `_` or `.`, so folders
drop the leading `_` of the bookkeeping tables, and files are written under a `.` name and
renamed when complete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.contracts import load_contracts

VERDICTS = "_batch_verdicts"  # small and updated in place (released, dropped): written whole
EMPTY = "empty.parquet"  # a table without batches still needs a file that carries its columns


def raw_table_names() -> list[str]:
    """The raw tables dbt reads, one per source contract (the batch verdicts aside)."""
    return sorted(load_contracts())


def table_folder(lake: Path, table: str) -> Path:
    """The folder of a raw table in the lake (no leading `_`: Hadoop would hide it)."""
    return lake / "raw" / table.lstrip("_")


def spark_warehouse(lake: Path) -> Path:
    """Spark's warehouse folder (spark.sql.warehouse.dir in dbt_project/profiles.yml)."""
    return lake / "warehouse"


def spark_table_folder(lake: Path, schema: str, table: str) -> Path:
    """Where Spark keeps a managed table."""
    return spark_warehouse(lake) / f"{schema}.db" / table


@dataclass
class SyncResult:
    written: int = 0  # batch files written
    removed: int = 0  # batch files of batches no longer in the warehouse
    kept: int = 0  # batch files already there


def _batch_file(batch_id: str, rows: int) -> str:
    return f"batch-{re.sub(r'[^A-Za-z0-9-]', '_', batch_id)}-{rows}.parquet"


def _copy(conn: duckdb.DuckDBPyConnection, query: str, target: Path, params: list | None = None) -> None:
    """COPY a query to a Parquet file under a hidden name, then rename it into place."""
    partial = target.with_name(f".{target.name}.partial")
    conn.execute(f"copy ({query}) to '{partial}' (format parquet)", params or [])
    partial.replace(target)


def sync_raw(conn: duckdb.DuckDBPyConnection, lake: Path) -> SyncResult:
    """Bring the lake's raw folders in line with the warehouse's raw tables."""
    result = SyncResult()
    raw_tables = conn.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
    present = {name for (name,) in raw_tables}
    for table in raw_table_names():
        folder = table_folder(lake, table)
        folder.mkdir(parents=True, exist_ok=True)
        if table not in present:
            continue
        batches = conn.execute(f'select _batch_id, count(*) from raw."{table}" group by _batch_id').fetchall()
        wanted = {_batch_file(batch_id, rows): batch_id for batch_id, rows in batches}
        if not wanted:
            wanted = {EMPTY: None}
        existing = {path.name for path in folder.glob("*.parquet")}
        for name in sorted(existing - wanted.keys()):
            (folder / name).unlink()
            result.removed += name != EMPTY
        for name, batch_id in sorted(wanted.items()):
            if name in existing:
                result.kept += batch_id is not None
            elif batch_id is None:
                _copy(conn, f'select * from raw."{table}" limit 0', folder / name)
            else:
                _copy(conn, f'select * from raw."{table}" where _batch_id = ?', folder / name, [batch_id])
                result.written += 1
    folder = table_folder(lake, VERDICTS)
    folder.mkdir(parents=True, exist_ok=True)
    if VERDICTS in present:
        _copy(conn, f"select * from raw.{VERDICTS}", folder / "verdicts.parquet")
    return result


def attach_spark_tables(conn: duckdb.DuckDBPyConnection, lake: Path, tables: list[tuple[str, str]]) -> int:
    """Make the tables a Spark build wrote readable in the DuckDB warehouse, under the same
    names: a view over each table's Parquet files, replacing a table of that name (the marts
    of a DuckDB build). Segments, exports, the serving copy and the summary read them there
    as they do after a DuckDB build. Returns the number of views."""
    existing = dict(
        ((schema, name), kind)
        for schema, name, kind in conn.execute(
            "select table_schema, table_name, table_type from information_schema.tables"
        ).fetchall()
    )
    views = 0
    for schema, table in tables:
        folder = spark_table_folder(lake, schema, table)
        if not any(folder.rglob("*.parquet")):
            raise FileNotFoundError(f"{folder}: the Spark build wrote no Parquet file for {schema}.{table}")
        conn.execute(f'create schema if not exists "{schema}"')
        if existing.get((schema, table)) == "BASE TABLE":
            conn.execute(f'drop table "{schema}"."{table}"')
        # a partitioned table (fan_trust_weekly) keeps its files in <column>=<value>/ folders, and
        # its partition column comes last
        files = f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"
        conn.execute(f'create or replace view "{schema}"."{table}" as select * from {files}')
        views += 1
    return views


def detach_spark_tables(conn: duckdb.DuckDBPyConnection, lake: Path) -> int:
    """Drop the views a Spark build left in the DuckDB warehouse (a build on DuckDB after one on
    Spark writes tables of those names; dbt cannot seed over a view). Returns how many."""
    prefix = str(spark_warehouse(lake))
    views = conn.execute(
        "select schema_name, view_name from duckdb_views() where not internal and contains(sql, ?)", [prefix]
    ).fetchall()
    for schema, view in views:
        conn.execute(f'drop view "{schema}"."{view}"')
    return len(views)
