"""The `scrm` command: generate sample data, run the pipeline, print what it did."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _generate(args: argparse.Namespace) -> int:
    from scrm.generate import GeneratorConfig, generate

    t = time.perf_counter()
    manifest = generate(GeneratorConfig(people=args.people, seed=args.seed), Path(args.out))
    rows = sum(s["rows"] for s in manifest["sources"].values())
    print(f"wrote {rows:,} rows in {time.perf_counter() - t:.1f}s to {args.out}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from scrm.pipeline import run_pipeline, summary

    t = time.perf_counter()
    ok, checks = run_pipeline()
    print(summary(checks, truth=not args.no_truth))
    print(
        f"\npipeline {'succeeded' if ok else 'FAILED'} in {time.perf_counter() - t:.1f}s "
        "(the run is in the Dagster UI: make dev)"
    )
    return 0 if ok else 1


def _accuracy(args: argparse.Namespace) -> int:
    import json

    from orchestration.settings import apply_defaults, path_setting
    from scrm.accuracy import measure

    apply_defaults()
    warehouse = Path(args.warehouse) if args.warehouse else path_setting("SCRM_DUCKDB_PATH")
    truth = Path(args.truth) if args.truth else path_setting("SCRM_LANDING_DIR").parent / "truth"
    print(json.dumps(measure(warehouse, truth), indent=2))
    return 0


def _serve_api(args: argparse.Namespace) -> int:
    import os

    from scrm.api_server import SourceApis, start

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
    run.set_defaults(func=_run)
    acc = sub.add_parser("accuracy", help="pairwise precision/recall of the fans against the generator's truth")
    acc.add_argument("--warehouse", help="DuckDB file (default: SCRM_DUCKDB_PATH)")
    acc.add_argument("--truth", help="truth folder (default: beside the landing folder)")
    acc.set_defaults(func=_accuracy)
    serve = sub.add_parser("serve-api", help="serve a sample as local WeChat and shop APIs, to try the connectors")
    serve.add_argument("--landing", default="data/sample/landing")
    serve.add_argument("--port", type=int, default=8700)
    serve.set_defaults(func=_serve_api)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
