"""Weibo followers: a weekly CSV export."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from sample.generator.people import nicknames, phone_at
from sample.generator.shard import Shard


def write_weibo_followers(g: Shard) -> None:
    p = g.p
    w = np.flatnonzero(p["is_weibo"])
    n = len(w)
    g.weibo_uid = g.stable_ids("", np.arange(len(p["i"])) + g.offset, 7_000_000_000, 10)
    bound = g.flag(n, 0.3)
    followed = p["joined_at"][w] + g.times(0, 30 * 86400, n)
    phone = phone_at(g, w, followed)
    frame = (
        pl.DataFrame(
            {
                "uid": g.weibo_uid.gather(w),
                "screen_name": nicknames(g, w, salt=2),
                "gender": np.where(p["gender"][w] == "男", "m", "f"),
                "location": pl.Series(p["city"][w], dtype=pl.String),
                "followed": followed,
                "bound_mobile": g.opt(bound, phone),
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
    tags = g.tags(nickname=np.ones(n), **g.number_tags(np.where(bound, phone, "")))
    g.add_truth("weibo_followers", g.weibo_uid.gather(w), p["person_id"][w], tags)
    g.progress(f"  weibo followers: {n:,}")
