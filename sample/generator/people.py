"""Everyone in the sample, drawn once: names, numbers, cities, silos, households and referrals."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from sample.generator.config import (
    CITIES,
    CITY_WEIGHTS,
    EMAIL_DOMAINS,
    GIVEN,
    MOBILE_PREFIXES,
    SURNAMES,
)
from sample.generator.shard import Shard


def make_people(g: Shard) -> None:
    cfg, rng, n = g.cfg, g.rng, g.n
    i = np.arange(n)
    given2 = np.where(g.flag(n, 0.7), g.pick(GIVEN, n), "")
    names = np.char.add(np.char.add(g.pick(SURNAMES, n), g.pick(GIVEN, n)), given2)
    prefixes = MOBILE_PREFIXES[rng.integers(0, len(MOBILE_PREFIXES), 2 * n)]
    phones = (prefixes * 100_000_000 + g.unique_ints(2 * n, 10_000_000, 99_999_999)).astype(str)
    locals_ = np.char.add(
        g.pick(["wei", "li", "zhang", "chen", "yang", "mei", "jun", "hao"], n),
        rng.integers(100, 9_999_999, n).astype(str),
    )
    emails = np.char.add(np.char.add(locals_, "@"), g.pick(EMAIL_DOMAINS, n))
    joined = np.sort(g.times(g.t0, g.t1 - 45 * 86400, n))  # person i joins before i+1

    silos = {s: g.flag(n, getattr(cfg, f"{s}_rate")) for s in ("member", "wechat", "weibo", "online", "offline")}
    silos["offline"] |= ~np.logical_or.reduce(list(silos.values()))

    changed = g.flag(n, cfg.changed_phone_rate)
    family_of = np.where(g.flag(n, cfg.family_phone_rate) & (i > 0), (rng.random(n) * i).astype(np.int64), -1)
    new_phone = np.where(changed, phones[n:], phones[:n])
    current_phone = np.where(family_of >= 0, new_phone[np.maximum(family_of, 0)], new_phone)

    # Referrals: earlier people bring later ones; u**3 makes a few people bring many.
    referrer = np.where(g.flag(n, cfg.referred_rate) & (i > 10), (rng.random(n) ** 3 * i).astype(np.int64), -1)
    r = np.maximum(referrer, 0)
    has_ref = referrer >= 0
    # Only referrals that some source can see are real for the warehouse (and for truth).
    channel = np.select(
        [
            has_ref & silos["wechat"] & silos["wechat"][r],
            has_ref & silos["member"] & silos["member"][r],
            has_ref & silos["online"] & silos["member"][r],
        ],
        ["wechat_qr", "invite_code", "order_code"],
        default="",
    )
    g.p = {
        "i": i,
        "person_id": g.stable_person_ids(i + g.offset),
        "name": names,
        "old_phone": phones[:n],
        "current_phone": current_phone,
        "family_of": family_of,
        "changed": changed,
        "email": g.opt(g.flag(n, cfg.email_rate), emails),
        "city": g.pick(CITIES, n, CITY_WEIGHTS),
        "gender": g.pick(["男", "女"], n),
        "birthday": g.times(int(datetime(1960, 1, 1).timestamp()), int(datetime(2006, 1, 1).timestamp()), n),
        "joined_at": joined,
        "referrer": np.where(channel != "", referrer, -1),
        "ref_channel": channel,
        "has_unionid": g.flag(n, cfg.unionid_rate),
        "activity": rng.lognormal(-0.5, 1.0, n),
        **{f"is_{s}": v for s, v in silos.items()},
    }
    g.n_stores = int(np.clip(cfg.people // 25_000, 3, 30))
    g.stores = np.array([f"S{k + 1:03d}" for k in range(g.n_stores)])
    g.home_store = rng.integers(0, g.n_stores, n)
    g.card_no = (800_000_000 + g.unique_ints(n, 0, 199_999_999)).astype(str)
    g.openid = g.tokens("oA1x", n)
    g.unionid = g.tokens("oU9x", n)
    g.mini_openid = g.tokens("oM5x", n)
    g.snapshot_at = g.t1 - 60 * 86400  # first full exports; later files carry changes
    g.ref_time = np.full(n, -1, dtype=np.int64)  # when each referral happened
    g.progress(f"  people: {n:,}, stores: {g.n_stores}")
