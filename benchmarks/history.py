"""What a daily run pays for the history a warehouse keeps: `make bench` keeps two weeks and no
erasure, a brand running daily for a year keeps 52 weekly trust snapshots and a year of segment
snapshots, and gets erasure requests. On a copy of a built warehouse (the bench's, by default),
this builds that history by copying the latest week and the latest export under earlier dates,
then times the deletes every run makes for the fans asked to be forgotten:

- `fan_trust_weekly`'s erasure delete, with the weeks as the model writes them (no fan order)
  and, to compare, in fan order (DuckDB then skips the blocks without those fans: it helps while
  the erased fans are fewer than a week's blocks, and costs a sort every run);
- the segment history's delete of the forgotten fans.

A run used to make both deletes every day, for every fan ever erased; it now makes them only
for the fans not forgotten before (`privacy.fan_trust_weekly__forgotten`, `segments.forgotten`).

Each delete is rolled back; the figures are printed as JSON. Usage:
    .venv/bin/python benchmarks/history.py [--warehouse benchmarks/scratch/people_1000000/warehouse.duckdb]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]


def build_history(conn: duckdb.DuckDBPyConnection, weeks: int, runs: int) -> dict:
    """A year of weekly trust snapshots in both layouts, and `runs` copies of the last export's
    memberships, each under its own earlier date."""
    latest = "(select max(week_start_date) from marts.fan_trust_weekly)"
    conn.execute(f"create temp table week as select * from marts.fan_trust_weekly where week_start_date = {latest}")
    # a week comes in the order the join gives it, no fan order: a random permutation here
    for table, order in (("weeks_as_built", "order by hash(fan_id)"), ("weeks_in_fan_order", "order by fan_id")):
        conn.execute(f"create table main.{table} as select * from week where false")
        for back in range(weeks - 1, -1, -1):  # oldest first, as the days appended them
            conn.execute(
                f"""insert into main.{table} select * replace (
                        week_start_date - interval ({7 * back}) day as week_start_date,
                        as_of_date - interval ({7 * back}) day as as_of_date,
                        snapshotted_at - interval ({7 * back}) day as snapshotted_at)
                    from week {order}"""
            )
    last_run = "(select run_id from segments.exports order by exported_at desc limit 1)"
    conn.execute(f"create temp table export as select * from segments.memberships where run_id = {last_run}")
    conn.execute("create table main.memberships as select * from export where false")
    for back in range(runs - 1, -1, -1):
        conn.execute(
            f"""insert into main.memberships select * replace (
                    md5(run_id || '{back}') as run_id, snapshot_at - interval ({back}) day as snapshot_at)
                from export"""
        )
    conn.execute("checkpoint")
    return {
        table: conn.execute(f"select count(*) from main.{table}").fetchone()[0]
        for table in ("weeks_as_built", "memberships")
    }


def timed_delete(conn: duckdb.DuckDBPyConnection, table: str, repeats: int = 3) -> list[float]:
    """Seconds to delete the erased fans' rows from `table`, rolled back each time."""
    seconds = []
    for _ in range(repeats):
        conn.execute("begin")
        start = time.perf_counter()
        conn.execute(f"delete from main.{table} where fan_id in (select fan_id from erased)")
        seconds.append(round(time.perf_counter() - start, 2))
        conn.execute("rollback")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = ROOT / "benchmarks" / "scratch" / "people_1000000" / "warehouse.duckdb"
    parser.add_argument("--warehouse", type=Path, default=default, help="a built warehouse (left as it is)")
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--runs", type=int, default=365, help="daily exports kept")
    parser.add_argument("--erased", type=int, nargs="+", default=[5, 50], help="fans asked to be forgotten")
    args = parser.parse_args()
    if not args.warehouse.exists():
        print(f"{args.warehouse}: no warehouse there; run `make bench` (or pass --warehouse)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(dir=args.warehouse.parent) as scratch:
        copy = Path(scratch) / args.warehouse.name  # same name: the catalog keeps its name
        shutil.copyfile(args.warehouse, copy)
        with duckdb.connect(str(copy), config={"memory_limit": "50%"}) as conn:
            start = time.perf_counter()
            rows = build_history(conn, args.weeks, args.runs)
            built = round(time.perf_counter() - start, 1)
            figures = {
                "warehouse": str(args.warehouse),
                "weeks": args.weeks,
                "runs": args.runs,
                "rows": rows,
                "history_built_seconds": built,
                "delete_seconds": {},
            }
            for erased in args.erased:
                # fans with rows everywhere: members of the last export, so in every copied run
                sample = f"select distinct fan_id from export using sample {erased} rows"
                conn.execute(f"create or replace temp table erased as {sample}")
                figures["delete_seconds"][f"{erased} erased fans"] = {
                    "fan_trust_weekly, weeks as built": timed_delete(conn, "weeks_as_built"),
                    "fan_trust_weekly, weeks in fan order": timed_delete(conn, "weeks_in_fan_order"),
                    "segments.memberships": timed_delete(conn, "memberships"),
                }
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
