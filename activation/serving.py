"""The serving copy BI tools open: the marts, personal data masked, plus BI views, written to
a new DuckDB file under a temporary name and renamed into place. A BI client sees the old
complete copy or the new complete copy, never a half-built one, and never holds a lock the
pipeline waits for: the working warehouse is never opened by BI."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path

import duckdb

from activation.privacy import mask_sql, personal_columns

DEFAULT_STORAGE_VERSION = "v1.4.0"  # BI clients embedding DuckDB 1.4 or 1.5 can open it
SCHEMAS = ("marts",)
# Views for analysts, over the published (already masked) tables.
BI_VIEWS = {
    "fans": """
        select fan_360.*, fans.fan_name, fans.first_seen_at, fans.last_seen_at
        from marts.fan_360 inner join marts.fans using (fan_id)""",
    "orders": """
        select orders.*, fan_360.city, fan_360.ladder_rung, fan_360.rfm_segment
        from marts.orders inner join marts.fan_360 using (fan_id)""",
    "ladder": "select ladder_rung, ladder_level, count(*) as fans from marts.fan_lifecycle group by all",
    "ladder_by_month": "select * from marts.lifecycle_funnel",
    "channel_overlap": "select * from marts.channel_overlap",
    "referral_campaigns": "select * from marts.referral_campaigns",
    "top_advocates": "select * from marts.referral_advocates where advocate_rank <= 100",
}


def publish(
    conn: duckdb.DuckDBPyConnection, target: Path, manifest_path: Path, run_id: str, version: str | None = None
) -> dict:
    """Copy every table of the published schemas from the working warehouse into a new file
    at `target`, masking the columns the dbt docs mark as personal data; returns table -> rows."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for pattern in (f".{target.name}.*.tmp", f".{target.name}.*.tmp.wal"):  # from runs that were killed
        for leftover in target.parent.glob(pattern):
            leftover.unlink()
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
    marked = personal_columns(manifest_path)
    version = version or DEFAULT_STORAGE_VERSION
    working = conn.execute("select current_database()").fetchone()[0]
    conn.execute(f"attach '{tmp}' as serving (storage_version '{version}')")
    rows: dict[str, int] = {}
    try:
        for schema in SCHEMAS:
            conn.execute(f"create schema serving.{schema}")
            tables = conn.execute(
                "select table_name from information_schema.tables where table_catalog = current_database() "
                "and table_schema = ? and table_type = 'BASE TABLE' order by 1",
                [schema],
            ).fetchall()
            for (table,) in tables:
                masks = marked.get((schema, table), {})
                columns = conn.execute(
                    "select column_name from information_schema.columns where table_catalog = current_database() "
                    "and table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                select = ", ".join(_column(c, masks.get(c)) for (c,) in columns)
                name = f'{schema}."{table}"'
                conn.execute(f"create table serving.{name} as select {select} from {name}")
                rows[f"{schema}.{table}"] = conn.execute(f"select count(*) from serving.{name}").fetchone()[0]
        # views are stored with the names as written: create them from inside the new file, so
        # they resolve there when BI opens it on its own
        conn.execute("use serving")
        conn.execute("create schema bi")
        for name, sql in BI_VIEWS.items():
            conn.execute(f"create view bi.{name} as {sql}")
        conn.execute("create schema _serving")
        conn.execute(
            "create table _serving.published as select ?::varchar as run_id, ?::timestamp as published_at, "
            "unnest(?::varchar[]) as table_name, unnest(?::bigint[]) as row_count",
            [run_id, datetime.now(), list(rows), list(rows.values())],
        )
    except BaseException:
        conn.execute(f'use "{working}"')
        conn.execute("detach serving")
        tmp.unlink(missing_ok=True)
        raise
    conn.execute(f'use "{working}"')
    conn.execute("detach serving")  # checkpoints: no WAL is left beside the file
    os.replace(tmp, target)  # atomic: readers see the old file or the new one
    return rows


def _column(name: str, kind: str | None) -> str:
    quoted = f'"{name}"'
    return f"{mask_sql(quoted, kind)} as {quoted}" if kind else quoted
