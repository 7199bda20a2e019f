"""WeChat followers: API-style JSON lines, a snapshot then the changes; bought followers."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from sample.generator.people import nicknames
from sample.generator.shard import Shard


def write_wechat_followers(g: Shard) -> None:
    p, cfg = g.p, g.cfg
    f = np.flatnonzero(p["is_wechat"])
    n = len(f)
    sub = np.minimum(p["joined_at"][f] + g.times(0, 30 * 86400, n), g.t1 - 3600)
    ref = p["referrer"][f]
    by_qr = p["ref_channel"][f] == "wechat_qr"
    g.follow_at = np.full(len(p["i"]), -1, dtype=np.int64)
    g.follow_at[f] = sub
    # a referee joins by scanning the referrer's code, after the referrer followed
    sub = np.where(by_qr, np.maximum(p["joined_at"][f], g.follow_at[np.maximum(ref, 0)] + 3600), sub)
    sub = np.minimum(sub, g.t1 - 60)
    g.follow_at[f] = sub
    g.ref_time[f[by_qr]] = sub[by_qr]
    scene = np.where(
        by_qr,
        np.char.add(np.char.add(np.char.add("ref_", g.campaign_of(sub)), "_"), g.openid[np.maximum(ref, 0)]),
        np.where(g.flag(n, 0.3), np.char.add("store_", g.stores[g.home_store[f]]), ""),
    )
    unsub = g.flag(n, cfg.unsubscribe_rate)
    unsub_at = np.maximum(sub + 86400, g.times(g.snapshot_at, g.t1, n))
    unsub &= unsub_at < g.t1
    g.unsub_at = np.full(len(p["i"]), g.t1 + 1, dtype=np.int64)
    g.unsub_at[f[unsub]] = unsub_at[unsub]
    tags = [[int(t) for t in np.flatnonzero(row) + 100] for row in g.rng.random((n, 3)) < 0.2]
    real = pl.DataFrame(
        {
            "openid": g.openid[f],
            "unionid": g.opt(p["has_unionid"][f], g.unionid[f]),
            "nickname": nicknames(g, f, salt=1),
            "sex": np.where(p["gender"][f] == "男", 1, 2),
            "city": p["city"][f],
            "language": "zh_CN",
            "subscribe": np.ones(n, dtype=np.int64),
            "subscribe_time": sub,
            "subscribe_scene": np.where(
                np.char.startswith(scene.astype(str), "ref_") | np.char.startswith(scene.astype(str), "store_"),
                "ADD_SCENE_QR_CODE",
                "ADD_SCENE_SEARCH",
            ),
            "qr_scene_str": scene,
            "tagid_list": pl.Series(tags, dtype=pl.List(pl.Int64)),
            "person_id": p["person_id"][f],
            "unsub": unsub,
            "unsub_at": unsub_at,
        }
    )
    # Bought followers: bulk subscribes minutes apart, no unionid, never interact.
    k = int(round(g.n * cfg.fake_follower_rate))
    bulk_days = g.times(g.t0, g.t1 - 86400, 3)
    fake_sub = bulk_days[g.rng.integers(0, 3, k)] + g.rng.integers(0, 600, k)
    fake_ids = g.stable_person_ids(np.arange(k) + g.offset, "F")
    fake = pl.DataFrame(
        {
            "openid": g.tokens("oA1x", k) if k else np.array([], dtype=str),
            "unionid": pl.Series([None] * k, dtype=pl.String),
            "nickname": pl.Series(g.rng.integers(10_000, 99_999, k)).cast(pl.String).str.replace(r"^", "用户"),
            "sex": np.zeros(k, dtype=np.int64),
            "city": pl.Series([""] * k, dtype=pl.String),
            "language": "zh_CN",
            "subscribe": np.ones(k, dtype=np.int64),
            "subscribe_time": fake_sub,
            "subscribe_scene": "ADD_SCENE_OTHERS",
            "qr_scene_str": pl.Series([""] * k, dtype=pl.String),
            "tagid_list": pl.Series([[] for _ in range(k)], dtype=pl.List(pl.Int64)),
            "person_id": fake_ids,
            "unsub": np.zeros(k, dtype=bool),
            "unsub_at": np.zeros(k, dtype=np.int64),
        }
    )
    g.fake_ids = fake_ids
    allf = pl.concat([real, fake])
    cols = [c for c in allf.columns if c not in ("person_id", "unsub", "unsub_at")]
    snapshot = allf.filter(pl.col("subscribe_time") <= g.snapshot_at).select(cols)
    new = allf.filter(pl.col("subscribe_time") > g.snapshot_at).select(cols)
    # WeChat answers an unsubscribed user's details with only these three fields.
    gone = allf.filter(pl.col("unsub")).select(
        "openid", "unionid", subscribe=pl.lit(0, dtype=pl.Int64), unsubscribe_time=pl.col("unsub_at")
    )
    changes = pl.concat([new, gone], how="diagonal")
    for day, frame in ((g.snapshot_at, snapshot), (g.t1, changes)):
        path = g.landing / "wechat_followers" / f"followers_{datetime.fromtimestamp(day):%Y%m%d}.jsonl"
        g.write_jsonl(frame, path, "wechat_followers", g.n_bad(frame.height))
    g.add_truth("wechat_followers", allf["openid"], allf["person_id"], g.tags(nickname=np.ones(allf.height)))
    g.consent_rows.append(
        pl.DataFrame({"person_id": real["person_id"], "channel": "wechat", "opted_in": ~real["unsub"]})
    )
    g.progress(f"  wechat followers: {n:,} real, {k:,} bought")
