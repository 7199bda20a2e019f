"""Member cards: the store CRM's CSV in GBK with Chinese headers, a full export then a delta."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from sample.generator.config import (
    JUNK_PHONES,
    LEVELS,
    MEMBER_HEADERS,
)
from sample.generator.people import phone_at
from sample.generator.shard import Shard


def write_member_cards(g: Shard) -> None:
    p, cfg = g.p, g.cfg
    first = np.flatnonzero(p["is_member"])
    # some members hold a second card (another store) or had a lost card replaced (a new number):
    # the same person, name and phone on two cards
    second = first[g.flag(len(first), cfg.second_card_rate)]
    reissued = np.setdiff1d(first[g.flag(len(first), cfg.reissued_card_rate)], second)
    extra = np.concatenate([second, reissued])
    m = np.concatenate([first, extra])
    n, k = len(m), len(extra)
    is_extra = np.arange(n) >= len(first)
    g.card_no = np.concatenate([g.card_no, (600_000_000 + g.unique_ints(k, 0, 199_999_999)).astype(str)])
    card_index = np.concatenate([first, g.n + np.arange(k)])  # row of each card in g.card_no
    g.extra_card = dict(zip(extra.tolist(), (g.n + np.arange(k)).tolist(), strict=True))
    g.reissued_from = {int(person): None for person in reissued}
    opened = np.minimum(p["joined_at"][m] + g.times(0, 20 * 86400, n), g.t1 - 3600)
    opened = np.where(is_extra, np.minimum(opened + g.times(30 * 86400, 300 * 86400, n), g.t1 - 3600), opened)
    g.extra_card_opened = dict(zip(extra.tolist(), opened[is_extra].tolist(), strict=True))
    raw_phone = phone_at(g, m, opened)
    junk = g.flag(n, cfg.junk_phone_card_rate)
    phone = np.where(junk, g.pick(JUNK_PHONES, n), raw_phone)
    email = pl.Series(p["email"][m], dtype=pl.String)
    ref = p["referrer"][m]
    invited = (p["ref_channel"][m] == "invite_code") & ~is_extra
    opened = np.where(invited, p["joined_at"][m], opened)  # an invited friend joins by opening the card
    g.ref_time[m[invited]] = opened[invited]
    sms = g.flag(n, 0.7)
    opt_out = sms & g.flag(n, cfg.sms_opt_out_rate) & (opened < g.snapshot_at)
    # a person's consent is one: a second card carries what the first says
    first_row = np.searchsorted(first, m[is_extra])
    sms[is_extra], opt_out[is_extra] = sms[first_row], opt_out[first_row]
    opt_out_at = g.times(g.snapshot_at, g.t1, n)
    # Binding the WeChat member card stores the official-account openid (and the unionid,
    # when WeChat gives one) on the card.
    wechat_bound = p["is_wechat"][m] & g.flag(n, cfg.wechat_card_binding_rate) & ~is_extra
    names, typo = g.name_noise(pl.Series(p["name"][m]))
    store = np.where(is_extra & np.isin(m, second), (g.home_store[m] + 1) % g.n_stores, g.home_store[m])
    cards = pl.DataFrame(
        {
            "card_no": g.card_no[card_index],
            "name": names,
            "phone": g.phone_noise(pl.Series(phone)),
            "email": g.email_noise(email.fill_null("")).replace("", None),
            "gender": p["gender"][m],
            "birthday": pl.Series(p["birthday"][m]),
            "city": p["city"][m],
            "store": g.stores[store],
            "opened": pl.Series(opened),
            "level": g.pick(LEVELS, n, np.array([0.6, 0.25, 0.12, 0.03])),
            "points": g.rng.integers(0, 20_000, n),
            "unionid": g.opt(wechat_bound & p["has_unionid"][m], g.unionid[m]),
            "wechat_openid": g.opt(wechat_bound, g.openid[m]),
            "referrer_card_no": g.opt(invited, g.card_no[np.maximum(ref, 0)]),
            "sms": np.where(sms, "是", "否"),
            "email_opt_in": np.where(email.is_not_null().to_numpy() & g.flag(n, 0.5), "是", "否"),
            "updated": pl.Series(opened),
            "opt_out": opt_out,
            "opt_out_at": pl.Series(opt_out_at),
        }
    )
    g.consent_rows = [
        pl.DataFrame(
            {
                "person_id": p["person_id"][m],
                "channel": "sms",
                "opted_in": sms & ~opt_out,
            }
        ).unique("person_id", keep="first", maintain_order=True),
        pl.DataFrame(
            {
                "person_id": p["person_id"][m],
                "channel": "email",
                "opted_in": (cards["email_opt_in"] == "是").to_numpy(),
            }
        )
        .group_by("person_id", maintain_order=True)
        .agg(pl.col("channel").first(), pl.col("opted_in").all()),
    ]
    export = cards.with_columns(
        g.local_time("birthday", "%Y-%m-%d").alias("birthday"),
        g.local_time("opened", "%Y-%m-%d").alias("opened_on"),
        g.local_time("updated").alias("updated_at"),
        pl.col("points").cast(pl.String),
    )
    full = export.filter(pl.col("opened") <= g.snapshot_at)
    changed = export.filter(pl.col("opt_out")).with_columns(sms=pl.lit("否"), updated_at=g.local_time("opt_out_at"))
    delta = pl.concat([export.filter(pl.col("opened") > g.snapshot_at), changed])
    cols = list(MEMBER_HEADERS)
    for label, frame in (("full", full), ("delta", delta)):
        frame = frame.rename({"store": "store", "sms": "sms_opt_in"}).select(cols)
        frame, bad = g.corrupt(frame, "card_no", "opened_on", "2026-13-45")
        frame = frame.rename(MEMBER_HEADERS)
        day = g.snapshot_at if label == "full" else g.t1
        name = f"members_{label}_{datetime.fromtimestamp(day):%Y%m%d}.csv"
        g.write_csv(frame, g.landing / "member_cards" / name, "member_cards", "gbk", bad)
    two_cards = np.isin(m, extra)
    tags = g.tags(
        second_card=two_cards & np.isin(m, second),
        reissued_card=two_cards & np.isin(m, reissued),
        name_typo=typo,
        **g.number_tags(np.where(junk, "", raw_phone)),
    )
    g.add_truth("member_cards", g.card_no[card_index], p["person_id"][m], tags)
    g.progress(f"  member cards: {n:,} ({len(second):,} second cards, {len(reissued):,} reissued)")


# ---- WeChat followers: API-style JSON lines, a snapshot then the changes -----------------
