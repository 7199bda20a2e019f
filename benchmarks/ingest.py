"""Ingestion benchmark: generator time, contract-driven loading per source against DuckDB's
own readers on the same files (the floor), Great Expectations time per source, peak memory.

    .venv/bin/python benchmarks/ingest.py --people 1000000 [--scratch benchmarks/scratch]

Prints JSON and writes it under benchmarks/results/. Not a test: figures depend on the machine.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingestion.contracts import load_contracts  # noqa: E402
from ingestion.load import load_source  # noqa: E402
from ingestion.validation import validate_batches  # noqa: E402
from sample.generator import GeneratorConfig, generate  # noqa: E402


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def floor_read(conn: duckdb.DuckDBPyConnection, contract, landing: Path, scratch: Path) -> tuple[float, int]:
    """DuckDB reading the same files with its own readers, all columns as text (no contract)."""
    files = sorted(landing.glob(contract.files))
    started = time.perf_counter()
    if contract.encoding.lower() not in ("utf-8", "utf8"):
        # DuckDB reads GBK only with an extension fetched from the internet: transcode first,
        # and count the transcoding in the floor's time.
        utf8 = scratch / "floor_utf8" / contract.source
        utf8.mkdir(parents=True, exist_ok=True)
        for f in files:
            (utf8 / f.name).write_bytes(f.read_bytes().decode(contract.encoding).encode())
        files = sorted(utf8.iterdir())
    names = [str(f) for f in files]
    if contract.format == "csv":
        query = "select * from read_csv($files, all_varchar = true, quote = '\"', ignore_errors = true)"
    else:
        query = "select * from read_json($files, format = 'newline_delimited', ignore_errors = true)"
    conn.execute(f"create or replace table floor_{contract.source} as {query}", {"files": names})
    rows = conn.execute(f"select count(*) from floor_{contract.source}").fetchall()[0][0]
    return time.perf_counter() - started, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scratch", default=str(ROOT / "benchmarks" / "scratch"))
    parser.add_argument("--reuse", action="store_true", help="reuse a sample already in the scratch folder")
    args = parser.parse_args()

    scratch = Path(args.scratch)
    sample = scratch / f"sample_{args.people}"
    figures: dict = {
        "people": args.people,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "duckdb": duckdb.__version__,
            "polars": pl.__version__,
            "platform": platform.platform(),
        },
    }
    if not (args.reuse and (sample / "truth" / "manifest.json").exists()):
        shutil.rmtree(sample, ignore_errors=True)
        started = time.perf_counter()
        generate(
            GeneratorConfig(people=args.people, seed=args.seed), sample, progress=lambda m: print(m, file=sys.stderr)
        )
        figures["generate_seconds"] = round(time.perf_counter() - started, 2)
        figures["generate_peak_rss_gib"] = round(peak_rss_gib(), 2)

    landing = sample / "landing"
    contracts = load_contracts()
    warehouse = scratch / "bench.duckdb"
    floor_db = scratch / "floor.duckdb"
    for path in (warehouse, floor_db):
        path.unlink(missing_ok=True)
    per_source = {}
    with duckdb.connect(str(warehouse)) as conn:
        for name, contract in contracts.items():
            started = time.perf_counter()
            report = load_source(conn, contract, landing)
            seconds = time.perf_counter() - started
            rows = report.total("rows_read")
            per_source[name] = {
                "files": len(report.files),
                "rows": rows,
                "rejected": report.total("rows_rejected"),
                "seconds": round(seconds, 2),
                "rows_per_s": round(rows / seconds),
            }
            print(f"{name}: {rows:,} rows in {seconds:.1f}s", file=sys.stderr)
        ingest_peak = peak_rss_gib()
        started = time.perf_counter()
        validate_batches(conn, contracts["member_cards"], [])  # import and warm up GX once
        figures["validation_startup_seconds"] = round(time.perf_counter() - started, 2)
        for name, contract in contracts.items():
            batches = [b for (b,) in conn.execute(f"select distinct _batch_id from raw.{name}").fetchall()]
            started = time.perf_counter()
            outcomes, _ = validate_batches(conn, contract, batches)
            per_source[name]["validation_seconds"] = round(time.perf_counter() - started, 2)
            per_source[name]["validation_passed"] = all(o.success for o in outcomes)
    with duckdb.connect(str(floor_db)) as conn:
        for name, contract in contracts.items():
            seconds, rows = floor_read(conn, contract, landing, scratch)
            per_source[name]["floor_seconds"] = round(seconds, 2)
            per_source[name]["floor_rows_per_s"] = round(rows / seconds)
            per_source[name]["ratio_to_floor"] = round(per_source[name]["seconds"] / seconds, 2)

    total_rows = sum(s["rows"] for s in per_source.values())
    total_seconds = sum(s["seconds"] for s in per_source.values())
    floor_seconds = sum(s["floor_seconds"] for s in per_source.values())
    figures.update(
        {
            "sources": per_source,
            "ingest_rows": total_rows,
            "ingest_seconds": round(total_seconds, 2),
            "ingest_rows_per_s": round(total_rows / total_seconds),
            "floor_seconds": round(floor_seconds, 2),
            "floor_rows_per_s": round(total_rows / floor_seconds),
            "ratio_to_floor": round(total_seconds / floor_seconds, 2),
            "validation_seconds": round(sum(s["validation_seconds"] for s in per_source.values()), 2),
            "ingest_peak_rss_gib": round(ingest_peak, 2),
            "peak_rss_gib": round(peak_rss_gib(), 2),
        }
    )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"ingest_{args.people}.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
