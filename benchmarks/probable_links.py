"""Probable-link benchmark: a warehouse built on N people, its identity against the generator's
truth with exact identifiers only, then every pending link of one probable-link rule accepted
(as `scrm links accept` does) and the pipeline run again: precision and recall before and after,
what the run cost, and the merges it logged.

    .venv/bin/python benchmarks/probable_links.py --people 2000
    .venv/bin/python benchmarks/probable_links.py --people 1000000 --sample /tmp/m1/sample

The decisions go to the project's seeds for the second run and are put back afterwards.
Writes benchmarks/results/probable_links_<N>.json. Not a test.
"""

import argparse
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench import BIN, machine, scratch_env, timed, versions  # noqa: E402
from sample.accuracy import measure  # noqa: E402
from scrm import links  # noqa: E402

FIGURES = ("precision", "recall", "fans", "fans_mixing_people", "most_people_in_one_fan")


def identity(work: Path) -> dict:
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as conn:
        acc = measure(conn, work / "sample" / "truth")
        merges = conn.sql(
            "select caused_by_rule, count(*) from marts.identity_changes where change_type = 'merge' group by 1"
        ).fetchall()
        refused = conn.sql("select count(*) from marts.refused_merges").fetchall()[0][0]
    return {
        **{k: acc[k] for k in FIGURES},
        "deterministic_only": acc["deterministic_only"],
        "probable_links": acc["probable_links"],
        "merges_by_rule": {rule or "(no bridge found)": n for rule, n in merges},
        "refused_merges": refused,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rule", default="masked_phone_usual_receiver")
    parser.add_argument("--sample", type=Path, help="an existing generated sample (landing and truth) to copy")
    parser.add_argument("--scratch", type=Path, default=ROOT / "benchmarks" / "scratch")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()

    work = args.scratch / f"probable_links_{args.people}"
    env = scratch_env(work)
    scrm = str(BIN / "scrm")
    if args.sample:
        shutil.copytree(args.sample, work / "sample")
    else:
        generate = ["generate", "--people", str(args.people), "--seed", str(args.seed), "--out", str(work / "sample")]
        timed([scrm, *generate], env, work / "generate.log")

    print("exact identifiers: the whole pipeline", flush=True)
    seconds, peak = timed([scrm, "run", "--no-truth"], env, work / "run_exact.log")
    before = {"run_seconds": seconds, "peak_gib": round(peak, 2), **identity(work)}

    saved = {path: path.read_bytes() for path in (links.ACCEPTED, links.NEVER_LINK)}
    try:
        with duckdb.connect(str(work / "warehouse.duckdb")) as conn:
            pending = conn.execute(
                "select link_id from marts.probable_fan_links where status = 'pending' and rule_name = ?", [args.rule]
            ).fetchall()
            links.decide(conn, [link_id for (link_id,) in pending], "accept", f"benchmark: every pending {args.rule}")
        print(f"accepted {len(pending):,} links of {args.rule}; the pipeline again", flush=True)
        seconds, peak = timed([scrm, "run", "--no-truth"], env, work / "run_accepted.log")
    finally:
        for path, content in saved.items():
            path.write_bytes(content)
    after = {"run_seconds": seconds, "peak_gib": round(peak, 2), **identity(work)}

    figures = {
        "people": args.people,
        "rule": args.rule,
        "accepted_links": len(pending),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "exact_identifiers": before,
        "with_accepted_links": after,
        "recall_gain_points": round(100 * (after["recall"] - before["recall"]), 2),
        "machine": machine(),
        "versions": versions(),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"probable_links_{args.people}.json"
    out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: figures[k] for k in ("accepted_links", "recall_gain_points")}, indent=2))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
