"""Day-to-day benchmark: a warehouse built on N people, then a day of new data (about
`--fraction` of every source's rows, from sample.next_day) run through the whole pipeline
incrementally, then the same run again with nothing new, against a dbt full refresh of the same
warehouse.

    .venv/bin/python benchmarks/incremental.py                       # 1M people, 1% delta
    .venv/bin/python benchmarks/incremental.py --sample /tmp/m1/sample   # reuse a generated sample

Prints the figures as JSON and writes benchmarks/results/incremental_<N>.json. Not a test.
"""

import argparse
import json
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench import (  # noqa: E402
    BIN,
    dbt_stages,
    latest_dbt_run,
    machine,
    run_figures,
    scratch_env,
    step_seconds,
    timed,
    versions,
)
from orchestration.project import dbt_executable  # noqa: E402
from sample.next_day import write_delta  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--fraction", type=float, default=0.01)
    parser.add_argument("--sample", type=Path, help="an existing generated sample to copy instead of generating")
    parser.add_argument("--scratch", type=Path, default=ROOT / "benchmarks" / "scratch")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()

    work = args.scratch / f"incremental_{args.people}"
    env = scratch_env(work)
    scrm = str(BIN / "scrm")
    if args.sample:
        shutil.copytree(args.sample / "landing", work / "sample" / "landing")
    else:
        generate = ["generate", "--people", str(args.people), "--seed", str(args.seed), "--out", str(work / "sample")]
        timed([scrm, *generate], env, work / "generate.log")

    print("day one: the whole pipeline on a new warehouse", flush=True)
    full = run_figures(work, *timed([scrm, "run", "--no-truth"], env, work / "day_one.log"))
    started = time.perf_counter()
    written = write_delta(work / "sample" / "landing", fraction=args.fraction, seed=args.seed)
    delta_seconds = round(time.perf_counter() - started, 2)
    print(f"day two: {sum(written.values()):,} new rows, the whole pipeline incrementally", flush=True)
    incremental = run_figures(work, *timed([scrm, "run", "--no-truth"], env, work / "day_two.log"))

    print("day two again: nothing new, the whole pipeline", flush=True)
    seconds, peak = timed([scrm, "run", "--no-truth"], env, work / "nothing_new.log")
    nothing_new = {"seconds": seconds, "peak_rss_gib": round(peak, 2), "steps": step_seconds(work / "dagster_home")}

    print("the same warehouse, dbt build --full-refresh", flush=True)
    dbt = [dbt_executable(), "build", "--full-refresh", "--profiles-dir", str(ROOT / "dbt_project")]
    started = time.perf_counter()
    subprocess.run(dbt, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    refresh_seconds = round(time.perf_counter() - started, 2)
    manifest, results = latest_dbt_run(work / "target")

    figures = {
        "people": args.people,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "delta_rows": written,
        "delta_written_seconds": delta_seconds,
        "day_one_full_pipeline": full,
        "day_two_incremental_pipeline": incremental,
        "run_with_nothing_new": nothing_new,
        "dbt_full_refresh": {"seconds": refresh_seconds, "dbt_stages": dbt_stages(manifest, results)},
        "machine": machine(),
        "versions": versions(),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"incremental_{args.people}.json"
    out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
