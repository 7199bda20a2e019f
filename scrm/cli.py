"""The `scrm` command: run the pipeline and print what it did; deal with held batches. The demo
and test tooling (generate, next-day, serve-api, accuracy) comes from the `sample/` folder of a
clone, which the installed package does not ship."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def _needs_sample() -> None:
    """The sample tooling lives beside the package in a clone, not in the installed wheel."""
    from common.errors import UserError
    from scrm.pipeline import has_sample_tooling

    if not has_sample_tooling():
        raise UserError("this command needs the sample tooling (sample/), which comes with a clone")


def _generate(args: argparse.Namespace) -> int:
    _needs_sample()
    from sample.generator import GeneratorConfig, generate

    t = time.perf_counter()
    manifest = generate(GeneratorConfig(people=args.people, seed=args.seed), Path(args.out))
    rows = sum(s["rows"] for s in manifest["sources"].values())
    print(f"wrote {rows:,} rows in {time.perf_counter() - t:.1f}s to {args.out}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from scrm.pipeline import run_pipeline, summary

    if args.engine:
        os.environ["SCRM_ENGINE"] = args.engine
    t = time.perf_counter()
    run = run_pipeline(rebuild=args.rebuild)
    print(summary(run, truth=not args.no_truth))
    print(
        f"\npipeline {'succeeded' if run.ok else 'FAILED'} in {time.perf_counter() - t:.1f}s "
        f"(run {run.run_id} is in the Dagster UI: make dev)"
    )
    return 0 if run.ok else 1


def _accuracy(args: argparse.Namespace) -> int:
    import json

    import duckdb

    from orchestration.settings import apply_defaults, path_setting

    _needs_sample()
    from sample.accuracy import measure

    apply_defaults()
    warehouse = Path(args.warehouse) if args.warehouse else path_setting("SCRM_DUCKDB_PATH")
    truth = Path(args.truth) if args.truth else path_setting("SCRM_LANDING_DIR").parent / "truth"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        print(json.dumps(measure(conn, truth), indent=2))
    return 0


def _preview_identity(args: argparse.Namespace) -> int:
    import json

    from orchestration.settings import apply_defaults
    from scrm.preview import preview, report

    apply_defaults()
    figures = preview()
    print(json.dumps(figures, indent=2, ensure_ascii=False) if args.json else report(figures))
    return 0


def _batches(args: argparse.Namespace) -> int:
    from ingestion.batches import describe, drop, held_batches, release
    from orchestration.resources import warehouse_resource
    from orchestration.settings import apply_defaults

    apply_defaults()
    with warehouse_resource().get_connection() as conn:
        if args.action == "list":
            held = held_batches(conn)
            print("\n".join(describe(b) for b in held) or "no batch is held")
            return 0
        if not args.batch_id or not args.note:
            print(f"scrm batches {args.action} needs a batch id and --note (why, for the record)", file=sys.stderr)
            return 2
        if args.action == "release":
            source = release(conn, args.batch_id, args.note)
            print(f"released batch {args.batch_id} of {source}: its rows flow from the next run on")
        else:
            source, moved = drop(conn, args.batch_id, args.note)
            print(
                f"dropped batch {args.batch_id} of {source}: {moved:,} rows moved to raw._rejects; land its files "
                "again, fixed (or touched), to load them"
            )
    return 0


def _links(args: argparse.Namespace) -> int:
    from orchestration.resources import warehouse_resource
    from orchestration.settings import apply_defaults
    from scrm.links import decide, describe, pending

    apply_defaults()
    with warehouse_resource().get_connection() as conn:
        if args.action == "list":
            shown, total = pending(conn, args.rule, args.limit)
            print("\n".join(describe(link) for link in shown) or "no probable link waits for review")
            if total > len(shown):
                print(f"... {total - len(shown):,} more pending (--limit)")
            return 0
        if not args.link_ids or not args.note:
            print(f"scrm links {args.action} needs link ids and --note (who decided and why)", file=sys.stderr)
            return 2
        decided = decide(conn, args.link_ids, args.action, args.note)
    seed = "identity_probable_accepted.csv" if args.action == "accept" else "identity_never_link.csv"
    print(f"{args.action}ed {len(decided)} link(s) into dbt_project/seeds/identity/{seed}: the next run applies them")
    return 0


def _next_day(args: argparse.Namespace) -> int:
    _needs_sample()
    from sample.next_day import write_delta

    counts = write_delta(Path(args.landing), day=args.day, fraction=args.fraction, seed=args.seed)
    print(f"wrote the day {args.day} into {args.landing}: " + ", ".join(f"{s} {n:,}" for s, n in counts.items()))
    return 0


def _serve_api(args: argparse.Namespace) -> int:
    import os

    _needs_sample()
    from sample.api_simulator import SourceApis, start

    env = os.environ
    credentials = {
        "app_id": env.get("SCRM_WECHAT_APP_ID", "wx-local"),
        "app_secret": env.get("SCRM_WECHAT_APP_SECRET", "local-secret"),
        "api_key": env.get("SCRM_SHOP_API_KEY", "local-key"),
    }
    server = start(SourceApis.from_landing(Path(args.landing), **credentials), port=args.port)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"serving {args.landing} as the WeChat and shop APIs on {url} (Ctrl-C stops)")
    print(f"  SCRM_WECHAT_API_URL={url} SCRM_SHOP_API_URL={url}, credentials from the same variables")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scrm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write a realistic sample of the four sources and its truth")
    gen.add_argument("--people", type=int, default=2000)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--out", default="data/sample")
    gen.set_defaults(func=_generate)
    run = sub.add_parser("run", help="load new landing files, validate and build every model")
    run.add_argument(
        "--no-truth",
        action="store_true",
        help="skip the comparison with the generator's truth in the summary (it needs about 24 GiB at 10M people)",
    )
    run.add_argument(
        "--rebuild",
        action="store_true",
        help="build the models, exports and serving copy even when nothing changed since the last build",
    )
    run.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        help="where the dbt models run (default: SCRM_ENGINE, else duckdb); spark needs `make setup-spark`",
    )
    run.set_defaults(func=_run)
    acc = sub.add_parser("accuracy", help="pairwise precision/recall of the fans against the generator's truth")
    acc.add_argument("--warehouse", help="DuckDB file (default: SCRM_DUCKDB_PATH)")
    acc.add_argument("--truth", help="truth folder (default: beside the landing folder)")
    acc.set_defaults(func=_accuracy)
    ident = sub.add_parser(
        "preview-identity",
        help="what the identity seeds as they are now would do to the fans, on a copy of the warehouse",
    )
    ident.add_argument("--json", action="store_true", help="the figures as JSON")
    ident.set_defaults(func=_preview_identity)
    batches = sub.add_parser(
        "batches", help="list the batches held for failing validation; release or drop one (see the README)"
    )
    batches.add_argument("action", nargs="?", choices=["list", "release", "drop"], default="list")
    batches.add_argument("batch_id", nargs="?")
    batches.add_argument("--note", help="why it is released or dropped (kept with the batch)")
    batches.set_defaults(func=_batches)
    links = sub.add_parser(
        "links", help="list the probable links waiting for review; accept or reject some (see the README)"
    )
    links.add_argument("action", nargs="?", choices=["list", "accept", "reject"], default="list")
    links.add_argument("link_ids", nargs="*")
    links.add_argument("--rule", help="only this probable-link rule's candidates")
    links.add_argument("--limit", type=int, default=20, help="candidates listed (best score first)")
    links.add_argument("--note", help="who decided and why (kept in the seed)")
    links.set_defaults(func=_links)
    day = sub.add_parser("next-day", help="write a day of new data onto a generated sample (about 1%% of each source)")
    day.add_argument("--landing", default="data/sample/landing")
    day.add_argument("--day", default="2026-11-02", help="the day the new files are dated (YYYY-MM-DD)")
    day.add_argument("--fraction", type=float, default=0.01)
    day.add_argument("--seed", type=int, default=7)
    day.set_defaults(func=_next_day)
    serve = sub.add_parser("serve-api", help="serve a sample as local WeChat and shop APIs, to try the connectors")
    serve.add_argument("--landing", default="data/sample/landing")
    serve.add_argument("--port", type=int, default=8700)
    serve.set_defaults(func=_serve_api)
    args = parser.parse_args(argv)
    from common.errors import UserError

    try:
        return args.func(args)
    except UserError as error:  # something a person can fix: the message says what and where
        print(f"scrm {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
