"""End-to-end benchmark: generate N people, run the whole pipeline in a scratch folder, and
print the figures per stage as JSON; then the floor, bare DuckDB doing the same work with no
orchestration (the same files through DuckDB's own readers, the same SQL the dbt models compile
to, run one after the other), and the pipeline's ratio to it; then a day of new data (1%) run
incrementally and a run with nothing new; and the identity clustering side by side with Splink.

    make bench                                   # 1M people
    .venv/bin/python benchmarks/bench.py --people 10000000 --memory-limit 12GB

Results go to benchmarks/results/bench_<N>.json. Not a test: the figures depend on the machine.
"""

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.identity import compare, synthetic_graph  # noqa: E402
from benchmarks.ingest import floor_read  # noqa: E402
from ingestion.contracts import load_contracts  # noqa: E402
from orchestration.settings import prepare_dagster_home  # noqa: E402
from sample.next_day import write_delta  # noqa: E402
from transform.identity import resolve  # noqa: E402

BIN = Path(sys.executable).parent


def scratch_env(work: Path, memory_limit: str = "50%") -> dict:
    """A new empty scratch folder for a benchmark run, and the environment that points every
    setting of the pipeline into it."""
    shutil.rmtree(work, ignore_errors=True)
    prepare_dagster_home(work / "dagster_home")
    return {
        **os.environ,
        "SCRM_DUCKDB_PATH": str(work / "warehouse.duckdb"),
        "SCRM_LANDING_DIR": str(work / "sample" / "landing"),
        "SCRM_EXPORT_DIR": str(work / "exports"),
        "SCRM_SERVING_PATH": str(work / "serving" / "warehouse.duckdb"),
        "SCRM_ALERT_DIR": str(work / "alerts"),
        "SCRM_LAKE_DIR": str(work / "lake"),  # on Spark
        "SCRM_DUCKDB_MEMORY_LIMIT": memory_limit,
        "DAGSTER_HOME": str(work / "dagster_home"),
        "DBT_TARGET_PATH": str(work / "target"),
    }


def timed(command: list[str], env: dict, log: Path) -> tuple[float, float]:
    """Run a command under GNU time; returns (seconds, peak resident GiB of its process tree's
    largest process)."""
    stats = log.with_suffix(".time")
    with log.open("w") as out:
        subprocess.run(
            ["/usr/bin/time", "-o", str(stats), "-f", "%e %M", *command], env=env, stdout=out, stderr=out, check=True
        )
    seconds, kib = stats.read_text().split()[-2:]
    return float(seconds), int(kib) / 1024**2


def step_seconds(dagster_home: Path) -> dict[str, float]:
    """Seconds per Dagster step of the latest run, from the instance's event log."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        started: dict[str, float] = {}
        seconds: dict[str, float] = {}
        for event in instance.all_logs(run.run_id):
            if not event.is_dagster_event or not event.step_key:
                continue
            kind = event.dagster_event.event_type_value
            if kind == "STEP_START":
                started[event.step_key] = event.timestamp
            elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
                seconds[event.step_key] = round(event.timestamp - started[event.step_key], 2)
    return seconds


def latest_dbt_run(target: Path) -> tuple[dict, dict]:
    """The manifest and run results of the newest dbt invocation under the target folder."""
    results = max(target.rglob("run_results.json"), key=lambda p: p.stat().st_mtime)
    return json.loads((results.parent / "manifest.json").read_text()), json.loads(results.read_text())


def dbt_stages(manifest: dict, results: dict) -> dict[str, float]:
    """dbt's node time grouped: staging, identity (intermediate/identity), marts (every other
    model), tests (data and unit tests), seeds."""
    stages: dict[str, float] = {}
    for result in results["results"]:
        node = manifest["nodes"].get(result["unique_id"]) or manifest.get("unit_tests", {}).get(result["unique_id"])
        kind = result["unique_id"].split(".")[0]
        if kind == "model":
            folder = node["fqn"][1:3]
            stage = (
                "staging"
                if folder[0] == "staging"
                else "identity"
                if folder == ["intermediate", "identity"]
                else "marts"
            )
        else:
            stage = {"seed": "seeds", "test": "dbt tests", "unit_test": "dbt tests"}.get(kind, kind)
        stages[stage] = round(stages.get(stage, 0) + result["execution_time"], 2)
    return stages


def is_check(step: str) -> bool:
    return step.endswith(("great_expectations", "freshness"))


def run_figures(work: Path, seconds: float, peak: float) -> dict:
    """Seconds per stage of the latest Dagster run, and its slowest dbt nodes."""
    steps = step_seconds(work / "dagster_home")
    manifest, results = latest_dbt_run(work / "target")
    slowest = sorted(results["results"], key=lambda r: -r["execution_time"])[:8]
    return {
        "seconds": seconds,
        "peak_rss_gib": round(peak, 2),
        "ingest": round(sum(s for k, s in steps.items() if k.startswith("raw__") and not is_check(k)), 2),
        "validate": round(sum(s for k, s in steps.items() if is_check(k)), 2),
        "dbt": steps.get("scrm_dbt_models", 0.0),
        "dbt_stages": dbt_stages(manifest, results),
        "dbt_slowest": {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2) for r in slowest},
        "exports": round(sum(s for k, s in steps.items() if k.startswith(("exports__", "segments__"))), 2),
        "publish": steps.get("serving__warehouse", 0.0),
    }


def day_to_day(work: Path, env: dict, fraction: float, seed: int) -> dict:
    """A day of new data (about `fraction` of every source, sample.next_day) through the whole
    pipeline incrementally, the day after the full build; then the next day, which starts from
    what a daily run leaves (the serving copy it changes, the exports' contact log, the scoped
    tests' watermark); then the same run again with nothing new."""
    scrm = str(BIN / "scrm")
    figures = {}
    for key, day, log in (("day", "2026-11-02", "day.log"), ("next_day", "2026-11-03", "next_day.log")):
        written = write_delta(work / "sample" / "landing", day=day, fraction=fraction, seed=seed + len(figures))
        print(f"{day}: {sum(written.values()):,} new rows, the whole pipeline incrementally", flush=True)
        seconds, peak = timed([scrm, "run", "--no-truth"], env, work / log)
        figures[key] = {"delta_rows": written, **run_figures(work, seconds, peak)}
    print("the same again with nothing new", flush=True)
    seconds, peak = timed([scrm, "run", "--no-truth"], env, work / "nothing_new.log")
    idle = {"seconds": seconds, "peak_rss_gib": round(peak, 2), "steps": step_seconds(work / "dagster_home")}
    return {**figures, "nothing_new": idle}


def warehouse_counts(path: Path) -> dict:
    with duckdb.connect(str(path), read_only=True) as conn:

        def one(sql: str) -> int:
            return conn.execute(sql).fetchone()[0]

        return {
            "rows_by_source": dict(
                conn.execute("select source, sum(rows_read) from raw._load_ledger group by 1 order by 1").fetchall()
            ),
            "records": one("select count(*) from intermediate.int_identity__records"),
            "edges": one("select count(*) from intermediate.int_identity__edges"),
            "fans": one("select count(*) from marts.fans"),
            "segment_members": one("select coalesce(sum(members), 0) from segments.exports"),
        }


def floor(pipeline_db: Path, landing: Path, scratch: Path, manifest: dict) -> dict:
    """Bare DuckDB: read the same files with DuckDB's readers (all text), then run the SQL every
    dbt model compiled to, in dependency order, as plain CREATE statements on a copy of the
    pipeline's typed raw tables (the copy is not timed)."""
    scratch.mkdir(parents=True, exist_ok=True)
    load_seconds = 0.0
    with duckdb.connect(str(scratch / "floor_load.duckdb")) as conn:
        for contract in load_contracts().values():
            if not any(landing.glob(contract.files)):  # e.g. no erasure requests
                continue
            seconds, _ = floor_read(conn, contract, landing, scratch)
            load_seconds += seconds
    db = scratch / pipeline_db.name  # same name: the compiled SQL names the catalog
    db.unlink(missing_ok=True)
    models = {k: n for k, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    with duckdb.connect(str(db)) as conn:
        conn.execute(f"attach '{pipeline_db}' as pipeline (read_only)")
        for schema in ("raw", "config"):
            conn.execute(f"create schema {schema}")
            for (table,) in conn.execute(
                "select table_name from information_schema.tables where table_catalog = 'pipeline' "
                "and table_schema = ?",
                [schema],
            ).fetchall():
                conn.execute(f'create table {schema}."{table}" as select * from pipeline.{schema}."{table}"')
        conn.execute("detach pipeline")
        for schema in {n["schema"] for n in models.values()}:
            conn.execute(f"create schema if not exists {schema}")
        started = time.perf_counter()
        for key in topological(models):
            node = models[key]
            name = f'{node["schema"]}."{node["alias"]}"'
            if node["language"] == "python":  # the one Python model: the clustering
                records = conn.sql('select record_key from intermediate."int_identity__records"').pl()
                edges = conn.sql(
                    'select record_key_from, record_key_to, priority from intermediate."int_identity__edges"'
                ).pl()
                identities = conn.sql(
                    'select record_key, identity, identity_value as value from intermediate."int_identity__identities"'
                ).pl()
                # the model's bookkeeping column too: what reads the clusters selects it
                clusters = resolve(records["record_key"], edges, identities).with_columns(
                    clustered_at=pl.lit(datetime.now(UTC).replace(tzinfo=None))
                )
                conn.register("_clusters", clusters)
                conn.execute(f"create table {name} as select * from _clusters")
                conn.unregister("_clusters")
                continue
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            conn.execute(f"create {kind} {name} as {node['compiled_code']}")
        transform_seconds = time.perf_counter() - started
    return {
        "load_seconds": round(load_seconds, 2),
        "transform_seconds": round(transform_seconds, 2),
        "seconds": round(load_seconds + transform_seconds, 2),
    }


def topological(models: dict) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()

    def visit(key: str) -> None:
        if key in seen or key not in models:
            return
        seen.add(key)
        for parent in models[key]["depends_on"]["nodes"]:
            visit(parent)
        order.append(key)

    for key in sorted(models):
        visit(key)
    return order


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    cpu = next(
        (
            line.split(":")[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(int(meminfo[1]) / 1024**2, 1),
        "cpu": cpu,
        "platform": platform.platform(),
    }


def versions() -> dict:
    names = ["duckdb", "polars", "dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "great-expectations", "splink"]
    found = {n: version(n) for n in names}
    for optional in ("pyspark", "dbt-spark"):  # the spark extra (make setup-spark)
        with contextlib.suppress(PackageNotFoundError):
            found[optional] = version(optional)
    return {"python": platform.python_version(), **found}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scratch", type=Path, default=ROOT / "benchmarks" / "scratch")
    parser.add_argument("--memory-limit", default="50%", help="DuckDB's memory limit (it spills beyond it)")
    parser.add_argument("--splink-edges", type=int, default=10_000_000, help="0 skips the Splink comparison")
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--day-fraction", type=float, default=0.01, help="the day of new data; 0 skips it")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()

    work = args.scratch / f"people_{args.people}"
    env = scratch_env(work, args.memory_limit)
    scrm = str(BIN / "scrm")
    generate = ["generate", "--people", str(args.people), "--seed", str(args.seed), "--out", str(work / "sample")]
    gen_seconds, gen_peak = timed([scrm, *generate], env, work / "generate.log")
    manifest_rows = json.loads((work / "sample" / "truth" / "manifest.json").read_text())["sources"]
    rows_generated = sum(s["rows"] for s in manifest_rows.values())
    run_seconds, run_peak = timed([scrm, "run", "--no-truth"], env, work / "run.log")

    steps = step_seconds(work / "dagster_home")
    dbt_manifest, dbt_results = latest_dbt_run(work / "target")
    counts = warehouse_counts(work / "warehouse.duckdb")
    stages: dict[str, dict] = {}
    for source, rows in counts["rows_by_source"].items():
        seconds = steps.get(f"raw__{source}", 0.0)
        check = next((s for k, s in steps.items() if k.startswith(f"raw__{source}") and "great_expectations" in k), 0.0)
        stages[f"ingest {source}"] = {"seconds": seconds, "rows": rows, "rows_per_second": rate(rows, seconds)}
        stages[f"validate {source}"] = {"seconds": check, "rows": rows, "rows_per_second": rate(rows, check)}
    dbt = dbt_stages(dbt_manifest, dbt_results)
    rows_for = {"staging": rows_generated, "identity": counts["records"], "marts": counts["fans"]}
    for stage, seconds in dbt.items():
        rows = rows_for.get(stage)
        stages[f"dbt {stage}"] = {"seconds": seconds, "rows": rows, "rows_per_second": rate(rows, seconds)}
    stages["dbt (whole invocation)"] = {"seconds": steps.get("scrm_dbt_models", 0.0)}
    segment_seconds = round(sum(s for k, s in steps.items() if k.startswith(("exports__", "segments__"))), 2)
    stages["segments and exports"] = {
        "seconds": segment_seconds,
        "rows": counts["segment_members"],
        "rows_per_second": rate(counts["segment_members"], segment_seconds),
    }
    stages["publish serving copy"] = {"seconds": steps.get("serving__warehouse", 0.0)}
    stages["reports"] = {"seconds": round(sum(s for k, s in steps.items() if k.startswith("reports__")), 2)}

    figures = {
        "people": args.people,
        "seed": args.seed,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "generate": {
            "seconds": gen_seconds,
            "rows": rows_generated,
            "rows_per_second": rate(rows_generated, gen_seconds),
            "peak_rss_gib": round(gen_peak, 2),
        },
        "pipeline": {
            "seconds": run_seconds,
            "rows_per_second": rate(rows_generated, run_seconds),
            "peak_rss_gib": round(run_peak, 2),
            "duckdb_memory_limit": args.memory_limit,
        },
        "stages": stages,
        "counts": {k: v for k, v in counts.items() if k != "rows_by_source"},
        "warehouse_gib": round(file_size(work / "warehouse.duckdb") / 1024**3, 3),
        "serving_copy_gib": round(file_size(work / "serving" / "warehouse.duckdb") / 1024**3, 3),
        "machine": machine(),
        "versions": versions(),
    }
    if not args.no_floor:
        figures["floor"] = floor(work / "warehouse.duckdb", work / "sample" / "landing", work / "floor", dbt_manifest)
        figures["ratio_to_floor"] = round(run_seconds / figures["floor"]["seconds"], 2)
    if args.day_fraction:
        figures["day_to_day"] = day_to_day(work, env, args.day_fraction, args.seed)
        figures["day_to_day"]["ratio_to_full_build"] = round(figures["day_to_day"]["day"]["seconds"] / run_seconds, 3)
    if args.splink_edges:
        keys, src, dst, components = synthetic_graph(args.splink_edges)
        figures["identity_vs_splink"] = compare(keys, src, dst, components, with_splink=True)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"bench_{args.people}.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


def rate(rows: int | None, seconds: float) -> int | None:
    return int(rows / seconds) if rows and seconds else None


def file_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


if __name__ == "__main__":
    sys.exit(main())
