"""Online orders: platform exports, one CSV per month of changes (refunds come later)."""

from __future__ import annotations

import numpy as np
import polars as pl

from sample.generator.config import (
    PLATFORM_MASK_RATE,
    PLATFORM_WEIGHTS,
    PLATFORMS,
)
from sample.generator.people import housemates, nicknames, phone_at
from sample.generator.shard import Shard


def write_online_orders(g: Shard) -> None:
    p, cfg = g.p, g.cfg
    o = np.flatnonzero(p["is_online"])
    counts = 1 + g.rng.poisson(1.5 * p["activity"][o])
    who = np.repeat(o, counts)
    m = len(who)
    first = np.r_[True, who[1:] != who[:-1]]
    home = g.rng.choice(len(PLATFORMS), size=len(p["i"]), p=PLATFORM_WEIGHTS)
    plat_idx = np.where(g.flag(m, 0.7), home[who], g.rng.choice(len(PLATFORMS), size=m, p=PLATFORM_WEIGHTS))
    plat = np.asarray(PLATFORMS)[plat_idx]
    paid = g.times(p["joined_at"][who], g.t1 - 3600, m)
    paid = np.where(first, np.minimum(p["joined_at"][who] + 3600, g.t1 - 3600), paid)
    by_code = first & (p["ref_channel"][who] == "order_code")
    g.ref_time[who[by_code]] = paid[by_code]
    ref_code = g.opt(by_code, g.card_no[np.maximum(p["referrer"][who], 0)])
    own = p["is_member"][who] & g.flag(m, cfg.self_referral_rate) & ~by_code
    ref_code = pl.Series(g.card_no[who]).zip_with(pl.Series(own), ref_code)  # g-referrals
    # the delivery: to the buyer, or as a gift to somebody else (often a household member); the
    # platforms that mask the mobile mask the receiver's name with it
    gift = g.flag(m, cfg.gift_order_rate)
    housemate = housemates(g, who)
    friend = g.rng.integers(0, g.n, m)
    receiver = np.where(gift, np.where((housemate >= 0) & g.flag(m, 0.5), housemate, friend), who)
    gift &= receiver != who
    raw_phone = phone_at(g, receiver, paid)
    mobile = pl.Series(raw_phone)
    masked = g.rng.random(m) < np.vectorize(PLATFORM_MASK_RATE.get)(plat)
    mobile = pl.Series(np.where(masked, g.mask(mobile).to_numpy(), g.phone_noise(mobile).to_numpy()))
    names, typo = g.name_noise(pl.Series(p["name"][receiver]))
    names = pl.Series(np.where(masked, (names.str.slice(0, 1) + "**").to_numpy(), names.to_numpy()))
    per_platform = [nicknames(g, who, 10 + k) for k in range(len(PLATFORMS))]
    nick = np.choose(plat_idx, per_platform)
    buyer = np.select(
        [plat == "tmall", plat == "jd", plat == "douyin"],
        [
            g.stable_ids("tb", who + g.offset, 11, 10).to_numpy(),
            g.stable_ids("jd_", who + g.offset, 22, 10).to_numpy(),
            g.stable_ids("dy", who + g.offset, 33, 12).to_numpy(),
        ],
        default=g.mini_openid[who],
    )
    mini = plat == "miniprogram"
    amount = np.round(g.rng.lognormal(5.0, 0.7, m), 2)
    refunded = g.flag(m, cfg.refund_rate)
    refund_at = paid + g.times(3 * 86400, 30 * 86400, m)
    refunded &= refund_at < g.t1
    partial = refunded & g.flag(m, 0.3)
    refund = np.where(partial, np.round(amount * 0.5, 2), amount)
    orders = pl.DataFrame(
        {
            "order_id": (10**15 + g.unique_ints(m, 0, 10**15)).astype(str),
            "platform": plat,
            "shop_id": np.char.add(plat.astype(str), "_flagship"),
            "buyer_id": buyer,
            "buyer_nick": nick,
            "receiver_name": names,
            "receiver_mobile": mobile,
            "receiver_city": p["city"][receiver],
            "receiver_address": p["address"][receiver],
            "openid": g.opt(mini, g.mini_openid[who]),
            "unionid": g.opt(mini & p["has_unionid"][who], g.unionid[who]),
            "paid": paid,
            "status": "completed",
            "amount_yuan": amount,
            "refund_yuan": pl.Series([None] * m, dtype=pl.Float64),
            "coupon_code": g.opt(g.flag(m, 0.2), np.char.add("CPN", g.rng.integers(100, 999, m).astype(str))),
            "referral_code": ref_code,
            "updated": paid,
            "person_id": p["person_id"][who],
        }
    )
    refunds = orders.filter(pl.Series(refunded)).with_columns(
        status=pl.when(pl.Series(partial[refunded])).then(pl.lit("partially_refunded")).otherwise(pl.lit("refunded")),
        refund_yuan=pl.Series(refund[refunded]),
        updated=pl.Series(refund_at[refunded]),
    )
    allo = pl.concat([orders, refunds]).with_columns(
        paid_at=g.local_time("paid"),
        updated_at=g.local_time("updated"),
        month=g.local_time("updated", "%Y-%m"),
        amount_yuan=g.yuan("amount_yuan"),
        refund_yuan=g.yuan("refund_yuan"),
    )
    cols = [
        "order_id",
        "platform",
        "shop_id",
        "buyer_id",
        "buyer_nick",
        "receiver_name",
        "receiver_mobile",
        "receiver_city",
        "receiver_address",
        "openid",
        "unionid",
        "paid_at",
        "status",
        "amount_yuan",
        "refund_yuan",
        "coupon_code",
        "referral_code",
        "updated_at",
    ]
    for (month,), frame in allo.sort("updated").group_by(["month"], maintain_order=True):
        frame, bad = g.corrupt(frame.select(cols), "order_id", "amount_yuan", "12,3O")
        g.write_csv(frame, g.landing / "online_orders" / f"orders_{month}.csv", "online_orders", bad=bad)
    tags = g.tags(gift=gift, name_typo=typo & ~masked, **g.number_tags(np.where(masked, "", raw_phone)))
    g.add_truth("online_orders", orders["order_id"], orders["person_id"], tags)
    g.progress(f"  online orders: {m:,} (+{int(refunded.sum()):,} refund updates, {int(gift.sum()):,} gifts)")
