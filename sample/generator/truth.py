"""The ground truth of a shard: who each record really is, referrals, consent, people."""

from __future__ import annotations

import numpy as np
import polars as pl

from sample.generator.shard import Shard


def write_truth(g: Shard) -> None:
    p = g.p
    parts = g.truth / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    part = f"{g.shard:03d}.parquet"
    pl.concat(g.records).write_parquet(parts / f"records_{part}")
    r = np.flatnonzero(p["referrer"] >= 0)
    pl.DataFrame(
        {
            "referrer_person_id": p["person_id"][p["referrer"][r]],
            "referee_person_id": p["person_id"][r],
            "channel": p["ref_channel"][r],
            "referred_at": pl.from_epoch(pl.Series(g.ref_time[r]), time_unit="s"),
        }
    ).filter(pl.col("referred_at") > pl.datetime(2000, 1, 1)).write_parquet(parts / f"referrals_{part}")
    pl.concat(g.consent_rows).write_parquet(parts / f"consent_{part}")
    pl.DataFrame(
        {
            "person_id": p["person_id"],
            "name": p["name"],
            "phone": p["current_phone"],
            "has_changed_phone": p["changed"],
            "shares_family_phone": p["family_of"] >= 0,
            **{k: p[k] for k in ("is_member", "is_wechat", "is_weibo", "is_online", "is_offline")},
        }
    ).write_parquet(parts / f"people_{part}")
