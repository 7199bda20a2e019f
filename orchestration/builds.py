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

from orchestration.project import project_fingerprint

BUILDS_DDL = """
create table if not exists raw._dbt_builds (
    run_id varchar not null,
    built_at timestamp not null,     -- UTC
    fingerprint varchar not null,    -- of everything the build read (project_fingerprint, inputs)
    depends_on_run_day boolean not null
)"""


def inputs_fingerprint(conn: duckdb.DuckDBPyConnection) -> str:
    """The project and the raw data as the ledger and the verdicts describe them."""
    ledger, verdicts = conn.execute("""
        select
            (select md5(coalesce(string_agg(concat_ws('|', batch_id, status, rows_loaded), ',' order by batch_id), ''))
             from raw._load_ledger),
            (select md5(coalesce(string_agg(concat_ws('|', batch_id, verdict, decided_at), ',' order by batch_id), ''))
             from raw._batch_verdicts)""").fetchone()
    return hashlib.sha256(f"{project_fingerprint()}|{ledger}|{verdicts}".encode()).hexdigest()


def nothing_to_build(conn: duckdb.DuckDBPyConnection, models: list[tuple[str, str]]) -> str | None:
    """Why this run need not build (the last build read the same and its models are all there),
    or None. models: (schema, name) of every model the build makes."""
    conn.execute(BUILDS_DDL)
    if not conn.execute(
        "select count(*) = 2 from information_schema.tables where table_schema = 'raw' "
        "and table_name in ('_load_ledger', '_batch_verdicts')"
    ).fetchone()[0]:
        return None  # nothing was ever loaded or validated: build
    last = conn.execute(
        "select run_id, built_at, fingerprint, depends_on_run_day from raw._dbt_builds order by built_at desc limit 1"
    ).fetchone()
    if last is None or last[3] or last[2] != inputs_fingerprint(conn):
        return None
    present = {
        (schema, name)
        for schema, name in conn.execute("select table_schema, table_name from information_schema.tables").fetchall()
    }
    if any(model not in present for model in models):
        return None
    return f"nothing new since the build of {last[1]:%Y-%m-%d %H:%M:%S} UTC (run {last[0][:8]}): the build is skipped"


def record_build(conn: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Keep what a successful build read."""
    conn.execute(BUILDS_DDL)
    (depends,) = conn.execute("select depends_on_run_day from intermediate.int_calendar__as_of").fetchone()
    conn.execute(
        "insert into raw._dbt_builds values (?, ?, ?, ?)",
        [run_id, datetime.now(UTC).replace(tzinfo=None), inputs_fingerprint(conn), depends],
    )


def built_in_run(conn: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """Whether the run built the models (False: it found nothing to build, or failed first)."""
    exists = "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = '_dbt_builds'"
    if not conn.execute(exists).fetchone()[0]:
        return False
    return conn.execute("select count(*) from raw._dbt_builds where run_id = ?", [run_id]).fetchone()[0] > 0
