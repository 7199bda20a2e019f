"""Offline POS sales: one CSV per store per day, walk-ins and returns."""

from __future__ import annotations

import numpy as np
import polars as pl

from sample.generator.config import (
    JUNK_PHONES,
    PAYMENTS,
)
from sample.generator.people import phone_at
from sample.generator.shard import Shard


def write_pos_receipts(g: Shard) -> None:
    p, cfg = g.p, g.cfg
    w0 = g.t1 - cfg.pos_days * 86400
    off = np.flatnonzero(p["is_offline"])
    counts = 1 + g.rng.poisson(1.2 * p["activity"][off])
    who = np.repeat(off, counts)
    m = len(who)
    sold = g.times(np.maximum(p["joined_at"][who], w0), g.t1 - 3600, m)
    store = np.where(g.flag(m, 0.8), g.home_store[who], g.rng.integers(0, g.n_stores, m))
    # A member is identified at the till by the card or by the mobile: a lookup by mobile finds
    # the card, so the receipt records both. Someone without a card gives their mobile (for the
    # e-receipt) or nothing at all.
    ident = g.rng.choice(3, size=m, p=[0.55, 0.35, 0.10])  # card, mobile looked up, both
    member = p["is_member"][who]
    ident = np.where(member, np.where(ident == 1, 2, ident), np.where(g.flag(m, 0.5), 1, -1))
    extra = np.array([g.extra_card.get(int(x), -1) for x in who], dtype=np.int64)
    extra_open = np.array([g.extra_card_opened.get(int(x), g.t1 + 1) for x in who], dtype=np.int64)
    reissued = np.isin(who, list(g.reissued_from))
    use_extra = (extra >= 0) & (sold >= extra_open) & (reissued | g.flag(m, 0.5))
    card = g.opt(member, g.card_no[np.where(use_extra, extra, who)])
    raw_phone = phone_at(g, who, sold)
    phone = g.opt(ident >= 1, g.phone_noise(pl.Series(raw_phone)))
    # Walk-ins: strangers who give no card and no number. For some the cashier types a
    # placeholder (13800000000), for others the store's own mobile or their own: each till
    # number at its own pace, a few to thousands of times a year.
    k = int(round(m * cfg.walk_in_receipt_rate))
    wstore = g.rng.integers(0, g.n_stores, k)
    kind = g.rng.choice(3, size=k, p=[1 - cfg.walk_in_junk_phone_rate - cfg.walk_in_till_number_rate,
                                      cfg.walk_in_junk_phone_rate, cfg.walk_in_till_number_rate])  # fmt: skip
    till = np.array([pick_till(g, s) for s in wstore], dtype=np.int64) if k else np.array([], dtype=np.int64)
    wraw = np.where(kind == 2, g.till_numbers[np.maximum(till, 0)], np.where(kind == 1, g.pick(JUNK_PHONES, k), ""))
    wphone = g.opt(kind != 0, wraw)
    store_number = (kind == 2) & (g.till_staff[np.maximum(till, 0)] < 0)
    staff_number = (kind == 2) & (g.till_staff[np.maximum(till, 0)] >= 0)
    sold_tags = g.tags(
        reissued_card=(extra >= 0) & reissued,
        second_card=(extra >= 0) & ~reissued,
        **g.number_tags(np.where(ident >= 1, raw_phone, "")),
    )
    walk_in_tags = g.tags(walk_in=np.ones(k), store_number=store_number, staff_number=staff_number)
    sales = pl.DataFrame(
        {
            "person_id": np.concatenate(
                [p["person_id"][who], g.stable_person_ids(np.arange(k) + g.shard * 10**7, "W")]
            ),
            "store_i": np.concatenate([store, wstore]),
            "store_id": g.stores[np.concatenate([store, wstore])],
            "sold": np.concatenate([sold, g.times(w0, g.t1 - 3600, k)]),
            "card": pl.concat([card, pl.repeat(None, k, dtype=pl.String, eager=True)]),
            "phone": pl.concat([phone, wphone]),
            "phenomena": pl.concat([sold_tags, walk_in_tags]),
        }
    )
    n = sales.height
    sales = sales.with_columns(
        amount=pl.Series(np.round(g.rng.lognormal(4.5, 0.8, n), 2)),
        payment=pl.Series(g.pick(PAYMENTS, n, np.array([0.5, 0.35, 0.1, 0.05]))),
        items=pl.Series(1 + g.rng.poisson(1.5, n)),
        receipt_type=pl.lit("sale"),
        original=pl.lit(None, dtype=pl.String),
    )
    returned = g.flag(n, cfg.refund_rate) & (sales["sold"].to_numpy() + 2 * 86400 < g.t1)
    returns = sales.filter(pl.Series(returned)).with_columns(
        receipt_type=pl.lit("return"),
        sold=pl.col("sold") + pl.Series(g.times(3600, 2 * 86400, int(returned.sum()))),
        card=pl.lit(None, dtype=pl.String),
        phone=pl.lit(None, dtype=pl.String),
        phenomena=pl.lit([], dtype=pl.List(pl.String)),
    )
    allr = (
        pl.concat([sales, returns])
        .with_columns(
            day=g.local_time("sold", "%Y%m%d"),
        )
        .sort("sold")
    )
    allr = allr.with_columns(
        seq=pl.int_range(pl.len()).over("store_id", "day") + 1,
    ).with_columns(
        # a sharded run numbers each shard's receipts as another till of the store
        receipt_no=pl.concat_str(
            [
                pl.col("store_id"),
                pl.col("day"),
                pl.lit(f"{g.shard:02d}" if g.shards > 1 else ""),
                pl.col("seq").cast(pl.String).str.zfill(5),
            ]
        ),
    )
    # a return points at the receipt it undoes
    originals = allr.filter(pl.col("receipt_type") == "sale").select(
        "person_id", "sold", "store_i", "amount", orig_no="receipt_no"
    )
    allr = allr.join(originals, on=["person_id", "store_i", "amount"], how="left", suffix="_o")
    allr = (
        allr.filter((pl.col("receipt_type") == "sale") | (pl.col("sold_o") < pl.col("sold")))
        .unique(subset=["receipt_no"], keep="first", maintain_order=True)
        .with_columns(original=pl.when(pl.col("receipt_type") == "return").then(pl.col("orig_no")))
    )
    out = allr.with_columns(
        sold_at=g.local_time("sold"),
        amount_yuan=g.yuan("amount"),
        date=g.local_time("sold", "%Y-%m-%d"),
    )
    cols = [
        "receipt_no",
        "store_id",
        "sold_at",
        "receipt_type",
        "original_receipt_no",
        "member_card_no",
        "phone",
        "amount_yuan",
        "payment_method",
        "item_count",
    ]
    out = out.rename(
        {
            "original": "original_receipt_no",
            "card": "member_card_no",
            "payment": "payment_method",
            "items": "item_count",
        }
    ).with_columns(pl.col("item_count").cast(pl.String))
    groups = list(out.group_by(["store_id", "date"], maintain_order=True))
    spoiled = set(g.rng.choice(len(groups), size=min(len(groups), g.n_bad(out.height)), replace=False))
    for i, ((store_id, date), frame) in enumerate(groups):
        body, bad = frame.select(cols), 0
        if i in spoiled:  # a few files carry one corrupt row
            body, bad = g.corrupt(body, "receipt_no", "sold_at", "not a time", rows=1)
        g.write_csv(body, g.landing / "pos_receipts" / f"{store_id}_{date}.csv", "pos_receipts", bad=bad)
    g.add_truth("pos_receipts", out["receipt_no"], out["person_id"], out["phenomena"])
    g.progress(f"  pos receipts: {out.height:,}")


# ---- truth -------------------------------------------------------------------------------


def pick_till(g: Shard, store: int) -> int:
    """One of the store's till numbers, each as often as its weight says."""
    numbers = np.flatnonzero(g.till_store == store)
    weights = g.till_weight[numbers]
    return int(numbers[g.rng.choice(len(numbers), p=weights / weights.sum())])
