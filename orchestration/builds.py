"""When the dbt build may be skipped: nothing it reads changed since the last successful build.

What a build reads: the dbt project (models, macros, seeds, variables) and the Python the
clustering imports; the raw tables, whose every change goes through the load ledger (a batch
loaded, failed or dropped) or the batch verdicts (held, released); and the day of the run, but
only while the reporting day may still move (`int_calendar__as_of.depends_on_run_day`). Their
fingerprint is kept with every successful build in `raw._dbt_builds`; a run whose fingerprint is
the last build's, on a warehouse that still holds every model, has nothing to build.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import duckdb

from common.warehouse import first_row
from orchestration.project import project_fingerprint

# every change to the raw tables goes through these: table -> the columns that record it
RAW_BOOKKEEPING = {"_load_ledger": "batch_id, status, rows_loaded", "_batch_verdicts": "batch_id, verdict, decided_at"}
BUILDS_DDL = """
create table if not exists raw._dbt_builds (
    run_id varchar not null,
    built_at timestamp not null,     -- UTC
    fingerprint varchar not null,    -- of everything the build read (project_fingerprint, inputs)
    depends_on_run_day boolean not null,
    project_fingerprint varchar      -- of the project alone: its unit tests passed on it
);
alter table raw._dbt_builds add column if not exists project_fingerprint varchar"""


def _tables(conn: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(schema, name) of every table and view in the warehouse."""
    return set(conn.execute("select table_schema, table_name from information_schema.tables").fetchall())


def inputs_fingerprint(conn: duckdb.DuckDBPyConnection) -> str:
    """The project and the raw data as the ledger and the verdicts describe them (empty before
    anything was loaded or validated)."""
    tables = _tables(conn)
    digests = []
    for table, columns in RAW_BOOKKEEPING.items():
        rows = f"string_agg(concat_ws('|', {columns}), ',' order by batch_id)"
        query = f"select md5(coalesce({rows}, '')) from raw.{table}"
        digests.append(first_row(conn, query)[0] if ("raw", table) in tables else "")
    return hashlib.sha256("|".join([project_fingerprint(), *digests]).encode()).hexdigest()


def nothing_to_build(conn: duckdb.DuckDBPyConnection, models: list[tuple[str, str]], fingerprint: str) -> str | None:
    """Why this run need not build (the last build read what `fingerprint` describes and its
    models are all there), or None. models: (schema, name) of every model the build makes."""
    tables = _tables(conn)
    if ("raw", "_dbt_builds") not in tables:
        return None
    last = first_row(
        conn,
        "select run_id, built_at, fingerprint, depends_on_run_day from raw._dbt_builds order by built_at desc limit 1",
    )
    if last is None or last[3] or last[2] != fingerprint or any(model not in tables for model in models):
        return None
    return f"nothing new since the build of {last[1]:%Y-%m-%d %H:%M:%S} UTC (run {last[0][:8]}): the build is skipped"


def project_built(conn: duckdb.DuckDBPyConnection, project: str) -> bool:
    """Whether the last successful build ran this very project: its data tests read every row
    then, and a build of the same project tests only the rows changed since."""
    if ("raw", "_dbt_builds") not in _tables(conn):
        return False
    conn.execute(BUILDS_DDL)
    last = first_row(conn, "select project_fingerprint from raw._dbt_builds order by built_at desc limit 1")
    return last is not None and last[0] == project


def record_build(conn: duckdb.DuckDBPyConnection, run_id: str, fingerprint: str, project: str) -> None:
    """Keep what a successful build read (its fingerprints, taken before it ran)."""
    conn.execute(BUILDS_DDL)
    (depends,) = first_row(conn, "select depends_on_run_day from intermediate.int_calendar__as_of")
    conn.execute(
        "insert into raw._dbt_builds (run_id, built_at, fingerprint, depends_on_run_day, project_fingerprint) "
        "values (?, ?, ?, ?, ?)",
        [run_id, datetime.now(UTC).replace(tzinfo=None), fingerprint, depends, project],
    )


def built_in_run(conn: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """Whether the run built the models (False: it found nothing to build, or failed first)."""
    if ("raw", "_dbt_builds") not in _tables(conn):
        return False
    return first_row(conn, "select count(*) from raw._dbt_builds where run_id = ?", [run_id])[0] > 0
