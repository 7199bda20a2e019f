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
    recycled_from = p["recycled_from"]
    pl.DataFrame(
        {
            "person_id": p["person_id"],
            "name": p["name"],
            "surname": p["surname"],
            "phone": p["current_phone"],
            "old_phone": p["old_phone"],
            "has_changed_phone": p["changed"],
            "shares_family_phone": p["family_of"] >= 0,
            "household": p["household"],
            "address": p["address"],
            "city": p["city"],
            "number_reissued_from": g.opt(recycled_from >= 0, p["person_id"][np.maximum(recycled_from, 0)]),
            "cashier_at_store": g.opt(g.staff_store >= 0, g.stores[np.maximum(g.staff_store, 0)]),
            "cards": 1 + np.isin(p["i"], list(g.extra_card)).astype(np.int64),
            **{k: p[k] for k in ("is_member", "is_wechat", "is_weibo", "is_online", "is_offline")},
        }
    ).with_columns(
        cards=pl.when(pl.col("is_member")).then(pl.col("cards")).otherwise(0),
        household=pl.when(pl.col("household") >= 0).then(pl.col("household")),
    ).write_parquet(parts / f"people_{part}")
