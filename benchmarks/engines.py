"""DuckDB and Apache Spark side by side: generate N people once, run the whole pipeline on each
engine in its own scratch folder (a full build, then a day of new data, about 1%), and print
the figures per stage as JSON, with Spark's time over DuckDB's. Spark runs in dbt's process on
`local[2]` (dbt_project/profiles.yml), so this measures what one machine costs, not a cluster:
the fixed cost of a Spark job per model and per round of the clustering, against DuckDB's.

    make bench-spark                                      # 20,000 people
    .venv/bin/python benchmarks/engines.py --people 100000

Results go to benchmarks/results/engines_<N>.json. Not a test: the figures depend on the machine.
"""

import argparse
import json
import re
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench import BIN, machine, run_figures, scratch_env, timed, versions  # noqa: E402
from sample.next_day import write_delta  # noqa: E402

STAGES = ("seconds", "ingest", "validate", "dbt", "exports", "publish")


def clustering_rounds(log: Path) -> list[int]:
    """The rounds of each connected-components run the Spark clustering logged."""
    return [int(n) for n in re.findall(r"connected components: (\d+) rounds", log.read_text())]


def one_engine(engine: str, sample: Path, work: Path, fraction: float, seed: int) -> dict:
    env = scratch_env(work)
    env["SCRM_ENGINE"] = engine
    shutil.copytree(sample, work / "sample")
    scrm = str(BIN / "scrm")
    print(f"{engine}: full build", flush=True)
    full = run_figures(work, *timed([scrm, "run", "--no-truth"], env, work / "run.log"))
    out = {"full_build": full}
    if fraction:
        written = write_delta(work / "sample" / "landing", fraction=fraction, seed=seed)
        print(f"{engine}: a day of new data ({sum(written.values()):,} rows)", flush=True)
        out["day"] = run_figures(work, *timed([scrm, "run", "--no-truth"], env, work / "day.log"))
        out["delta_rows"] = written
    if engine == "spark":
        out["clustering_rounds"] = {"full_build": clustering_rounds(work / "run.log")}
        if fraction:
            out["clustering_rounds"]["day"] = clustering_rounds(work / "day.log")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scratch", type=Path, default=ROOT / "benchmarks" / "scratch")
    parser.add_argument("--day-fraction", type=float, default=0.01, help="the day of new data; 0 skips it")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()

    base = args.scratch / f"engines_{args.people}"
    shutil.rmtree(base, ignore_errors=True)
    sample = base / "sample"
    generate = ["generate", "--people", str(args.people), "--seed", str(args.seed), "--out", str(sample)]
    timed([str(BIN / "scrm"), *generate], scratch_env(base / "generate"), base / "generate.log")
    engines = {}
    for engine in ("duckdb", "spark"):
        engines[engine] = one_engine(engine, sample, base / engine, args.day_fraction, args.seed)
    ratios = {}
    for run in ("full_build", "day"):
        if run in engines["duckdb"]:
            duck, spark = engines["duckdb"][run], engines["spark"][run]
            ratios[run] = {stage: round(spark[stage] / duck[stage], 2) if duck[stage] else None for stage in STAGES}
    figures = {
        "people": args.people,
        "seed": args.seed,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "engines": engines,
        "spark_over_duckdb": ratios,
        "machine": machine(),
        "versions": versions(),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"engines_{args.people}.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
