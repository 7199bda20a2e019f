"""Sample-data generator: four silos exported the way real systems export them.

Every person is drawn once (vectorised with numpy), then each silo writes the records it
would hold about that person, with the noise DOMAIN.md lists. The ground truth (who is
really who, who referred whom, who consented) goes to `truth/`, outside the landing folder.
The pipeline never reads truth; tests and benchmarks do. One module per silo.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import polars as pl

from sample.generator.config import SHARD_PEOPLE, SOURCES, GeneratorConfig
from sample.generator.interactions import write_interactions
from sample.generator.member_cards import write_member_cards
from sample.generator.online_orders import write_online_orders
from sample.generator.people import make_people
from sample.generator.pos_receipts import write_pos_receipts
from sample.generator.shard import Shard
from sample.generator.truth import write_truth
from sample.generator.wechat_followers import write_wechat_followers
from sample.generator.weibo_followers import write_weibo_followers

__all__ = ["GeneratorConfig", "generate"]
# in this order: later silos use what earlier ones drew (follow times, referral times)
STEPS = (
    make_people,
    write_member_cards,
    write_wechat_followers,
    write_weibo_followers,
    write_interactions,
    write_online_orders,
    write_pos_receipts,
    write_truth,
)


def generate(config: GeneratorConfig, out: Path, progress=print) -> dict:
    """Write `out/landing/<source>/...` and `out/truth/*.parquet`; return the manifest.

    People are generated in shards of at most SHARD_PEOPLE, each with its own disjoint id
    ranges, appending to the same files: memory stays that of one shard, so 10M people fit.
    """
    out = Path(out)
    for source in SOURCES:  # the generator owns these folders: start them empty
        shutil.rmtree(out / "landing" / source, ignore_errors=True)
    shutil.rmtree(out / "truth", ignore_errors=True)
    shards = max(1, -(-config.people // SHARD_PEOPLE))
    progress(f"generating {config.people:,} people (seed {config.seed}, {shards} shard(s))")
    sources: dict = {}
    for shard in range(shards):
        people = min(SHARD_PEOPLE, config.people - shard * SHARD_PEOPLE)
        generator = Shard(config, out, progress, shard, shards, people)
        for step in STEPS:
            step(generator)
        manifest = generator.manifest
        for source, counts in manifest.items():
            total = sources.setdefault(source, {"files": 0, "rows": 0, "bad_rows": 0})
            for key, value in counts.items():
                total[key] += value
    truth = out / "truth"
    for name in ("records", "referrals", "consent", "people"):
        parts = sorted((truth / "parts").glob(f"{name}_*.parquet"))
        pl.concat([pl.read_parquet(part) for part in parts]).write_parquet(truth / f"{name}.parquet")
    shutil.rmtree(truth / "parts")
    manifest = {"config": asdict(config), "sources": sources}
    (truth / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    progress(f"  truth written to {truth}")
    return manifest
