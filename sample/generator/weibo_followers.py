"""Weibo followers: a weekly CSV export."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from sample.generator.shard import Shard


def write_weibo_followers(g: Shard) -> None:
    p = g.p
    w = np.flatnonzero(p["is_weibo"])
    n = len(w)
    g.weibo_uid = g.stable_ids("", np.arange(len(p["i"])) + g.offset, 7_000_000_000, 10)
    bound = g.flag(n, 0.3)
    frame = (
        pl.DataFrame(
            {
                "uid": g.weibo_uid.gather(w),
                "screen_name": pl.Series(p["name"][w], dtype=pl.String)
                + pl.Series(g.rng.integers(10, 9999, n)).cast(pl.String),
                "gender": np.where(p["gender"][w] == "男", "m", "f"),
                "location": pl.Series(p["city"][w], dtype=pl.String),
                "followed": p["joined_at"][w] + g.times(0, 30 * 86400, n),
                "bound_mobile": g.opt(bound, p["current_phone"][w]),
            }
        )
        .with_columns(followed_at=g.local_time("followed"))
        .drop("followed")
    )
    frame = frame.select("uid", "screen_name", "gender", "location", "followed_at", "bound_mobile")
    frame, bad = g.corrupt(frame, "uid", "followed_at", "not a time")
    g.write_csv(
        frame,
        g.landing / "weibo_followers" / f"weibo_followers_{datetime.fromtimestamp(g.t1):%Y%m%d}.csv",
        "weibo_followers",
        bad=bad,
    )
    g.add_truth("weibo_followers", g.weibo_uid.gather(w), p["person_id"][w])
    g.progress(f"  weibo followers: {n:,}")


# ---- interactions: JSON lines per month -------------------------------------------------
