"""Social interactions of the followers: JSON lines, one file per month; the brand's replies."""

from __future__ import annotations

import numpy as np
import polars as pl

from sample.generator.config import (
    EVENT_TYPES,
    EVENT_WEIGHTS,
    INTERACTION_BLOCK,
)
from sample.generator.shard import Shard


def write_interactions(g: Shard) -> None:
    """Generated in blocks of followers and appended to the monthly files, so memory stays
    bounded at 10M people."""
    p = g.p
    wx = np.flatnonzero(p["is_wechat"])
    wb = np.flatnonzero(p["is_weibo"])
    followers = pl.DataFrame(
        {
            "person": np.concatenate([wx, wb]),
            "platform": pl.Series(["wechat"] * len(wx) + ["weibo"] * len(wb), dtype=pl.Categorical),
            "user_id": pl.concat([pl.Series(g.openid[wx]), g.weibo_uid.gather(wb)]),
            "start": np.concatenate([g.follow_at[wx], p["joined_at"][wb]]),
            "stop": np.concatenate([np.minimum(g.unsub_at[wx], g.t1), np.full(len(wb), g.t1)]),
        }
    )
    total, replies_total = 0, 0
    for block in followers.iter_slices(INTERACTION_BLOCK):
        events, replies = interaction_block(g, block, total, replies_total)
        total += events.height
        replies_total += replies.height
        frame = pl.concat([events, replies]).with_columns(
            event_time=g.local_time("at", "%Y-%m-%dT%H:%M:%S+08:00"),
            month=g.local_time("at", "%Y-%m"),
        )
        for (month,), rows in frame.sort("at").group_by(["month"], maintain_order=True):
            out = rows.select("event_id", "platform", "user_id", "event_type", "event_time", "content_id", "reply_to")
            path = g.landing / "social_interactions" / f"interactions_{month}.jsonl"
            g.write_jsonl(out, path, "social_interactions", g.n_bad(out.height))
    g.progress(f"  interactions: {total + replies_total:,}")


def interaction_block(g: Shard, block: pl.DataFrame, first_event: int, first_reply: int):
    counts = g.rng.poisson(g.cfg.interactions_per_follower * g.p["activity"][block["person"].to_numpy()])
    rep = np.repeat(np.arange(block.height), counts)
    m = len(rep)
    at = g.times(block["start"].to_numpy()[rep], block["stop"].to_numpy()[rep], m)
    kind = g.pick(EVENT_TYPES, m, EVENT_WEIGHTS)
    first_event += g.shard * 10**9  # event ids stay unique across shards
    event_ids = g.stable_ids("E", np.arange(first_event, first_event + m), 12345, 11)
    who = block.select("platform", "user_id")[rep]
    events = who.with_columns(
        event_id=event_ids,
        event_type=pl.Series(kind),
        at=pl.Series(at),
        content_id=pl.Series(g.rng.integers(1000, 1400, m)).cast(pl.String).str.replace(r"^", "A"),
        reply_to=pl.lit(None, dtype=pl.String),
    )
    # The brand answers most direct messages: the reciprocity the trust mart measures.
    msg = np.flatnonzero((kind == "message") & g.flag(m, 0.6))
    replies = who[msg].with_columns(
        event_id=g.stable_ids("R", g.shard * 10**9 + np.arange(first_reply, first_reply + len(msg)), 54321, 11),
        event_type=pl.lit("brand_reply"),
        at=pl.Series(np.minimum(at[msg] + g.times(60, 6 * 3600, len(msg)), g.t1)),
        content_id=pl.lit(None, dtype=pl.String),
        reply_to=event_ids.gather(msg),
    )
    return events, replies.select(events.columns)


# ---- online orders: platform exports, one CSV per month of changes -----------------------
