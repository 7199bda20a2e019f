"""The serving copy BI tools open: the marts, personal data masked, plus BI views, written to
a new DuckDB file under a temporary name and renamed into place. A BI client sees the old
complete copy or the new complete copy, never a half-built one, and never holds a lock the
pipeline waits for: the working warehouse is never opened by BI.

Publishing only what changed: the new file starts as a byte copy of the last one (the page cache
and the kernel copy it: about 1 s for 1.5 GB at 1M people), and the changes since it are
applied. Keeping the copy before the last one aside and applying two runs' changes to it instead
was slower, and kept a second copy on disk: a 1% day at 1M people published in 16.4 / 16.9 s
from it against 15.0 / 15.8 s from a byte copy (the run's publish step, alternating). A mart
kept incrementally (`publish_key` and `changed_at` in its dbt meta: the key its rows are built
by, and the column that dates them) takes only the rows of the keys built again since that copy,
and loses the keys that left the warehouse; a mart dbt builds as a view over models kept that
way (fan_engagement, fan_rfm, fan_360, fan_trust, fan_lifecycle) is a view in the copy too, over
masked copies of those models, when each personal column it shows is one of theirs; every other
mart is written whole. A mart whose masked columns changed, a copy written with another storage
version, or a delta that does not end with the warehouse's row count is written whole too; a
copy with more free blocks than used ones (the old blocks of the tables written whole) is
written whole again, compact, so the file stays under twice its data."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb

from activation.privacy import mask_sql, personal_columns
from common.warehouse import first_row

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
    conn: duckdb.DuckDBPyConnection,
    target: Path,
    manifest_path: Path,
    run_id: str,
    version: str | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> dict:
    """Copy every table of the published schemas from the working warehouse into a new file
    at `target`, masking the columns the dbt docs mark as personal data, starting from an earlier
    copy when there is one (see above); `log` is told which; returns table -> rows."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # what runs that were killed left, and the copy an earlier version kept aside (.spare)
    for pattern in (f".{target.name}.*.tmp", f".{target.name}.*.tmp.wal", f".{target.name}.spare"):
        for leftover in target.parent.glob(pattern):
            leftover.unlink()
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
    marked = personal_columns(manifest_path)
    keys = publish_keys(manifest_path)
    version = version or DEFAULT_STORAGE_VERSION
    working = conn.execute("select current_database()").fetchone()[0]
    previous = _last_copy(conn, target, version)
    if previous:
        shutil.copyfile(target, tmp)
    log("starting from a byte copy of the last copy" if previous else "writing every table whole")
    conn.execute(f"attach '{tmp}' as serving (storage_version '{version}')")
    rows: dict[str, int] = {}
    published: list[tuple] = []
    views = _views_to_keep(conn, working, manifest_path, marked)
    copied = [(schema, name) for schema, name, _ in _relations(conn, working) if schema in SCHEMAS]
    copied = [relation for relation in copied if relation not in views]
    copied += sorted({upstream for _, reads in views.values() for upstream in reads} - set(copied) - set(views))
    # one transaction: the copy is checkpointed once, when it is detached, not each time its
    # log passes the threshold (a table written whole after the deletes of a delta paid for it)
    conn.execute("begin")
    # rows in a table have no order a BI query may count on: DuckDB then writes a table's row
    # groups on every thread (the 1M profile: 3.6 s against 5.3 s with its checkpoint)
    (ordered,) = first_row(conn, "select current_setting('preserve_insertion_order')")
    conn.execute("set preserve_insertion_order = false")
    try:
        gone = _fans_gone(conn, previous, marked)
        wanted = set(copied) | set(views)
        for schema in sorted({schema for schema, _ in wanted}):
            conn.execute(f"create schema if not exists serving.{schema}")
        for schema, gone, kind in _relations(conn, "serving"):  # dropped from the project, or now a view
            if (schema, gone) not in wanted or (kind == "VIEW") != ((schema, gone) in views):
                conn.execute(f'drop {"view" if kind == "VIEW" else "table"} serving.{schema}."{gone}"')
        for schema, table in copied:
            masks = marked.get((schema, table), {})
            columns = [
                c
                for (c,) in conn.execute(
                    "select column_name from information_schema.columns where table_catalog = current_database() "
                    "and table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
            ]
            select = ", ".join(_column(c, masks.get(c)) for c in columns)
            definition = hashlib.sha256(select.encode()).hexdigest()[:16]
            name = f'{schema}."{table}"'
            key, changed_at = keys.get((schema, table), (None, None))
            if changed_at not in columns or masks.get(key) not in (None, "id"):  # a masked key: several rows
                key = None
            last = previous.get(f"{schema}.{table}") if previous else None
            kept = (
                last is not None
                and last["definition"] == definition
                and key is not None
                and _apply_changes(conn, name, select, key, masks.get(key), changed_at, last["refreshed_through"], gone)
            )
            if not kept:
                conn.execute(f"create or replace table serving.{name} as select {select} from {name}")
            rows[f"{schema}.{table}"] = _rows(conn, f"serving.{name}")
            through = conn.execute(f'select max("{changed_at}") from {name}').fetchone()[0] if key else None
            published.append((f"{schema}.{table}", rows[f"{schema}.{table}"], definition, through, bool(kept)))
        # views are stored with the names as written: create them from inside the new file, so
        # they resolve there when BI opens it on its own
        conn.execute("use serving")
        for (schema, view), (sql, _) in views.items():  # its SQL names what it reads without a catalog
            conn.execute(f'drop view if exists {schema}."{view}"')
            conn.execute(sql)
            rows[f"{schema}.{view}"] = _rows(conn, f'{schema}."{view}"')
            definition = hashlib.sha256(sql.encode()).hexdigest()[:16]
            published.append((f"{schema}.{view}", rows[f"{schema}.{view}"], definition, None, False))
        conn.execute("create schema if not exists bi")
        for name, sql in BI_VIEWS.items():
            conn.execute(f"create or replace view bi.{name} as {sql}")
        conn.execute("create schema if not exists _serving")
        conn.execute(
            "create or replace table _serving.published as select ?::varchar as run_id, "
            "?::timestamp as published_at, ?::varchar as storage_version, "
            "unnest(?::varchar[]) as table_name, unnest(?::bigint[]) as row_count, "
            "unnest(?::varchar[]) as definition, unnest(?::timestamp[]) as refreshed_through, "
            "unnest(?::boolean[]) as changes_only",
            [run_id, datetime.now(), version, *(list(column) for column in zip(*published, strict=True))],
        )
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        conn.execute(f'use "{working}"')
        conn.execute("detach serving")
        tmp.unlink(missing_ok=True)
        raise
    finally:
        conn.execute(f"set preserve_insertion_order = {ordered}")
    conn.execute(f'use "{working}"')
    conn.execute("detach serving")  # checkpoints: no WAL is left beside the file
    os.replace(tmp, target)  # atomic: readers see the old file or the new one, and keep the one they opened
    return rows


def _views_to_keep(
    conn: duckdb.DuckDBPyConnection, working: str, manifest_path: Path, marked: dict
) -> dict[tuple[str, str], tuple[str, list[tuple[str, str]]]]:
    """(schema, view) -> (its CREATE VIEW statement, the (schema, model) relations it reads), for
    the marts dbt builds as views over other models (fan_engagement over the kept activity,
    fan_360 over the kept profile): the copy holds them as views too, over copies of what they
    read, which are kept by key, so a new reporting day rewrites nothing. The copies of what a
    view reads are masked, so the view in the copy sees masked values only; a view is kept when
    every personal column it shows is a personal column, masked the same way, of a model it
    reads (fan_360's phone is the profile's phone). Any other view is copied as a table, masked
    (a Spark build's marts, views over its Parquet files, are tables in the manifest)."""
    nodes = json.loads(Path(manifest_path).read_text())["nodes"]
    models = {uid: n for uid, n in nodes.items() if n["resource_type"] == "model"}
    found = {}
    for node in models.values():
        if node["config"].get("materialized") != "view" or node["schema"] not in SCHEMAS:
            continue
        reads = [
            (models[uid]["schema"], models[uid]["name"])
            for uid in node["depends_on"]["nodes"]
            if uid in models and models[uid]["config"].get("materialized") != "ephemeral"
        ]
        # what it reads is copied masked, so the view reads masked values in the copy; each
        # personal column it shows must be one of them, masked as its own docs say
        own = marked.get((node["schema"], node["name"]), {})
        read = [marked.get(relation, {}) for relation in reads]
        if any(all(masks.get(column) != kind for masks in read) for column, kind in own.items()):
            continue
        sql = conn.execute(
            "select sql from duckdb_views() where database_name = ? and schema_name = ? and view_name = ?",
            [working, node["schema"], node["name"]],
        ).fetchall()
        if sql:
            found[(node["schema"], node["name"])] = (sql[0][0], reads)
    return found


def _relations(conn: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str, str]]:
    """(schema, name, 'BASE TABLE' or 'VIEW') of the relations of a catalog, but the copy's BI
    views and its record of what was published. A view counts too: a Spark build's marts are
    views over its Parquet files (ingestion/lake.py), copied as tables."""
    return conn.execute(
        "select table_schema, table_name, table_type from information_schema.tables where table_catalog = ? "
        "and table_schema not in ('bi', '_serving') order by 1, 2",
        [catalog],
    ).fetchall()


def publish_keys(manifest_path: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(schema, model) -> (key, change column) of a mart kept incrementally (`publish_key` and
    `changed_at` in the model's dbt meta): its rows built again since the last copy replace
    that key's rows."""
    nodes = json.loads(Path(manifest_path).read_text())["nodes"].values()
    metas = {(n["schema"], n["name"]): n["config"].get("meta") or {} for n in nodes if n["resource_type"] == "model"}
    return {
        model: (meta["publish_key"], meta["changed_at"])
        for model, meta in metas.items()
        if "publish_key" in meta and "changed_at" in meta
    }


def _last_copy(conn: duckdb.DuckDBPyConnection, target: Path, version: str) -> dict | None:
    """What the last copy holds (table -> definition, refreshed_through), when it can be built
    on: it exists, was written by this code with the same storage version."""
    if not target.exists():
        return None
    try:
        conn.execute(f"attach '{target}' as last_copy (read_only)")
    except duckdb.Error:
        return None  # not a DuckDB file we can read: written whole
    try:
        found = conn.execute(
            "select table_name, definition, refreshed_through, storage_version from last_copy._serving.published"
        ).fetchall()
        # tables written whole leave their old blocks free in a copy: more free than used, and
        # the copy is written whole again, compact
        used, free = conn.execute(
            "select used_blocks, free_blocks from pragma_database_size() where database_name = 'last_copy'"
        ).fetchone()
    except duckdb.Error:
        return None  # written before it recorded what it holds
    finally:
        conn.execute("detach last_copy")
    if not found or any(v != version for *_, v in found) or free > used:
        return None
    return {t: {"definition": d, "refreshed_through": r} for t, d, r, _ in found}


def _fans_gone(conn: duckdb.DuckDBPyConnection, previous: dict | None, marked: dict) -> bool:
    """The fans of the last copy that left marts.fans since (merged into another, erased), into
    the temporary table `_gone_fans`; False when the copy has no fans to compare."""
    if not previous or "marts.fans" not in previous or marked.get(("marts", "fans"), {}).get("fan_id"):
        return False
    conn.execute(
        "create or replace temporary table _gone_fans as "
        "select fan_id from serving.marts.fans except select fan_id from marts.fans"
    )
    return True


def _apply_changes(
    conn: duckdb.DuckDBPyConnection,
    name: str,
    select: str,
    key: str,
    mask: str | None,
    changed_at: str,
    since,
    gone: bool = False,
) -> bool:
    """Replace in the copy the rows of the keys built again since `since`, drop the keys that
    left the warehouse; False (the caller writes the table whole) when there is no watermark,
    when most keys changed, or when the result does not match the warehouse's row count. The
    copy holds the key as published: a pseudonym when the key is personal data (mask `id`).
    `gone`: `_gone_fans` holds the fans that left marts.fans (see `_fans_gone`)."""
    if since is None:
        return False
    quoted = f'"{key}"'
    published = mask_sql(quoted, mask) if mask else quoted
    built_since = f'"{changed_at}" > ?'
    changed = f"(select distinct {quoted} from {name} where {built_since})"
    (count,) = conn.execute(f"select count(*) from {changed}", [since]).fetchone()
    total = _rows(conn, name)
    if count * 2 > total:  # most of it changed: writing it whole is cheaper
        return False
    changed_published = f"(select distinct {published} from {name} where {built_since})"
    conn.execute(f"delete from serving.{name} where {quoted} in {changed_published}", [since])
    # a mart kept by key builds every row of a key together: the changed keys' rows are the new ones
    conn.execute(f"insert into serving.{name} select {select} from {name} where {built_since}", [since])
    # what the copy holds beyond the warehouse now are the keys that left it: a table kept by
    # fan first loses the fans that left marts.fans (most of them: 0.1 s, where looking for
    # every key that left scanned 6.8M rows of fan_engagement_weekly in 1.4 s at 1M people);
    # the keys still over, when rows are (a scan of both tables, masking every key)
    if gone and key == "fan_id" and mask is None and _rows(conn, f"serving.{name}") != total:
        conn.execute(f"delete from serving.{name} where fan_id in (select fan_id from _gone_fans)")
    if _rows(conn, f"serving.{name}") != total:
        conn.execute(f"delete from serving.{name} where {quoted} not in (select {published} from {name})")
    return _rows(conn, f"serving.{name}") == total


def _rows(conn: duckdb.DuckDBPyConnection, relation: str) -> int:
    return conn.execute(f"select count(*) from {relation}").fetchone()[0]


def _column(name: str, kind: str | None) -> str:
    quoted = f'"{name}"'
    return f"{mask_sql(quoted, kind)} as {quoted}" if kind else quoted
