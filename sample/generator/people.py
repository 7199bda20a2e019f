"""Everyone in the sample, drawn once: names (with China's surname frequencies), households that
share an address and a surname (and sometimes a phone), numbers that change owner, cashiers,
nicknames, silos and referrals."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from sample.generator.config import (
    CITIES,
    CITY_WEIGHTS,
    DISTRICTS,
    EMAIL_DOMAINS,
    GIVEN,
    GIVEN_WEIGHTS,
    MOBILE_PREFIXES,
    NICK_HEADS,
    NICK_LATIN,
    NICK_TAILS,
    NICK_TITLES,
    STREETS,
    SURNAME_WEIGHTS,
    SURNAMES,
)
from sample.generator.shard import Shard

DAY = 86400
CARRIER_QUARANTINE_DAYS = 90  # a number given up is reissued no sooner than this


def make_people(g: Shard) -> None:
    cfg, rng, n = g.cfg, g.rng, g.n
    i = np.arange(n)
    surname = g.pick(SURNAMES, n, SURNAME_WEIGHTS)
    given = np.char.add(g.pick(GIVEN, n, GIVEN_WEIGHTS), np.where(g.flag(n, 0.7), g.pick(GIVEN, n, GIVEN_WEIGHTS), ""))
    city = g.pick(CITIES, n, CITY_WEIGHTS)
    address = addresses(g, n)
    prefixes = MOBILE_PREFIXES[rng.integers(0, len(MOBILE_PREFIXES), 2 * n + 64)]
    numbers = (prefixes * 100_000_000 + g.unique_ints(2 * n + 64, 10_000_000, 99_999_999)).astype(str)
    joined = np.sort(g.times(g.t0, g.t1 - 45 * DAY, n))  # person i joins before i+1

    # households: a head and 1-3 others at the same address; children take the head's surname,
    # a spouse keeps their own (Chinese women keep their surnames)
    household = np.full(n, -1, dtype=np.int64)
    head_of = np.full(n, -1, dtype=np.int64)
    members = rng.permutation(np.flatnonzero(g.flag(n, cfg.household_rate)))
    sizes = rng.choice([2, 3, 4], size=max(1, len(members) // 2), p=[0.5, 0.3, 0.2])
    bounds = np.cumsum(sizes)
    bounds = bounds[bounds <= len(members)]
    for h, group in enumerate(np.split(members[: bounds[-1] if len(bounds) else 0], bounds[:-1])):
        head = group[0]
        household[group] = h + g.offset
        head_of[group[1:]] = head
        city[group] = city[head]
        address[group] = address[head]
        spouse = group[1] if len(group) > 1 and rng.random() < 0.4 else -1
        children = [k for k in group[1:] if k != spouse]
        surname[children] = surname[head]
    names = np.char.add(surname, given)

    # numbers: own, then a new one for some; a given-up number is reissued to somebody who joins
    # later (the carrier's recycling); some household members use another member's phone
    own = numbers[:n]
    changed = g.flag(n, cfg.changed_phone_rate)
    changed_at = np.minimum(joined + g.times(30 * DAY, 300 * DAY, n), g.t1 - 100 * DAY)
    changed &= changed_at > joined + 20 * DAY
    current = np.where(changed, numbers[n : 2 * n], own)
    recycled_from = np.full(n, -1, dtype=np.int64)
    reissued_at = np.full(n, -1, dtype=np.int64)
    for j in np.flatnonzero(changed & g.flag(n, cfg.recycled_number_rate)):
        later = np.searchsorted(joined, changed_at[j] + CARRIER_QUARANTINE_DAYS * DAY)
        if later >= n:
            continue
        k = int(rng.integers(later, n))
        if recycled_from[k] >= 0 or changed[k] or k == j or (recycled_from == k).any():
            continue
        recycled_from[k], reissued_at[k] = j, changed_at[j] + CARRIER_QUARANTINE_DAYS * DAY
        own[k] = current[k] = own[j]  # the old owner's number, from the reissue on
    family_of = np.full(n, -1, dtype=np.int64)
    heads = np.unique(head_of[head_of >= 0])
    sharing = heads[g.flag(len(heads), cfg.family_phone_rate)]
    for head in sharing:
        member = rng.choice(np.flatnonzero(head_of == head))
        if changed[member] or recycled_from[member] >= 0 or (recycled_from == member).any():
            continue
        family_of[member] = head
        own[member] = current[member] = current[head]

    silos = {s: g.flag(n, getattr(cfg, f"{s}_rate")) for s in ("member", "wechat", "weibo", "online", "offline")}
    silos["offline"] |= ~np.logical_or.reduce(list(silos.values()))

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
    locals_ = np.char.add(
        g.pick(["wei", "li", "zhang", "chen", "yang", "mei", "jun", "hao"], n),
        rng.integers(100, 9_999_999, n).astype(str),
    )
    emails = np.char.add(np.char.add(locals_, "@"), g.pick(EMAIL_DOMAINS, n))
    g.p = {
        "i": i,
        "person_id": g.stable_person_ids(i + g.offset),
        "name": names,
        "surname": surname,
        "old_phone": own,
        "current_phone": current,
        "changed": changed,
        "changed_at": np.where(changed, changed_at, g.t1 + DAY),
        "recycled_from": recycled_from,
        "reissued_at": reissued_at,
        "family_of": family_of,
        "household": household,
        "head_of": head_of,
        "email": g.opt(g.flag(n, cfg.email_rate), emails),
        "city": city,
        "address": address,
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
    g.snapshot_at = g.t1 - 60 * DAY  # first full exports; later files carry changes
    g.ref_time = np.full(n, -1, dtype=np.int64)  # when each referral happened
    make_tills(g, numbers[2 * n :])
    g.recycled_numbers = own[recycled_from >= 0]
    g.family_numbers = own[family_of >= 0]
    g.staff_numbers = g.till_numbers[g.till_staff >= 0]
    g.progress(
        f"  people: {n:,} ({int((household >= 0).sum()):,} in households, {int(changed.sum()):,} changed numbers, "
        f"{int((recycled_from >= 0).sum()):,} reissued, {int((family_of >= 0).sum()):,} on a family phone), "
        f"stores: {g.n_stores}"
    )


def make_tills(g: Shard, spare_numbers: np.ndarray) -> None:
    """Each store's numbers a cashier types for a walk-in who gives none: the store's own mobile
    and one to three cashiers' own mobiles. Cashiers are people of the sample; some are members
    themselves, so their number is also on their own card. How often each number is typed varies
    a lot (a lognormal weight): a few times to thousands of times a year."""
    p, rng = g.p, g.rng
    numbers, stores, staff = [], [], []
    g.staff_store = np.full(g.n, -1, dtype=np.int64)
    free = np.flatnonzero(
        (p["family_of"] < 0) & (p["recycled_from"] < 0) & ~p["changed"] & (p["joined_at"] < g.t1 - 200 * DAY)
    )
    for s in range(g.n_stores):
        numbers.append(spare_numbers[s])  # the store's own mobile: nobody's
        stores.append(s)
        staff.append(-1)
        for k in rng.choice(free, size=min(len(free), int(rng.integers(1, 4))), replace=False):
            if g.staff_store[k] >= 0:
                continue
            g.staff_store[k] = s
            g.home_store[k] = s
            p["is_member"][k] = rng.random() < g.cfg.staff_member_rate
            p["is_offline"][k] = True
            numbers.append(p["current_phone"][k])
            stores.append(s)
            staff.append(k)
    g.till_numbers = np.array(numbers)
    g.till_store = np.array(stores, dtype=np.int64)
    g.till_staff = np.array(staff, dtype=np.int64)
    g.till_weight = rng.lognormal(0.0, 1.5, len(numbers))


def addresses(g: Shard, n: int) -> np.ndarray:
    """Street addresses as typed on a delivery: district, street, number, building and flat."""
    rng = g.rng
    parts = [
        g.pick(DISTRICTS, n),
        g.pick(STREETS, n),
        rng.integers(1, 500, n).astype(str),
        np.full(n, "号"),
        rng.integers(1, 30, n).astype(str),
        np.full(n, "栋"),
        rng.integers(101, 2600, n).astype(str),
        np.full(n, "室"),
    ]
    out = parts[0]
    for part in parts[1:]:
        out = np.char.add(out, part)
    return out


def nicknames(g: Shard, who: np.ndarray, salt: int) -> np.ndarray:
    """One nickname per person for one platform (`salt` tells the platforms apart): made-up
    phrases, a surname with a title, latin handles, and for a few people their real name."""
    p, n = g.p, len(who)
    rng = np.random.default_rng([g.cfg.seed, g.shard, salt])
    real = g.cfg.nickname_is_name_rate
    style = rng.choice(5, size=n, p=[0.45 - real / 2, 0.15, 0.2, 0.2 - real / 2, real])
    heads = np.asarray(NICK_HEADS)[rng.integers(0, len(NICK_HEADS), n)]
    tails = np.asarray(NICK_TAILS)[rng.integers(0, len(NICK_TAILS), n)]
    latin = np.asarray(NICK_LATIN)[rng.integers(0, len(NICK_LATIN), n)]
    digits = rng.integers(1, 2026, n).astype(str)
    titled = np.char.add(p["surname"][who], np.asarray(NICK_TITLES)[rng.integers(0, len(NICK_TITLES), n)])
    return np.select(
        [style == 0, style == 1, style == 2, style == 3, style == 4],
        [np.char.add(heads, tails), titled, np.char.add(latin, digits), np.char.add(tails, digits), p["name"][who]],
        default=np.char.add(heads, tails),
    )


def phone_at(g: Shard, who: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The number each person used at each time: the old one before they changed it."""
    p = g.p
    return np.where(at < p["changed_at"][who], p["old_phone"][who], p["current_phone"][who])


def housemates(g: Shard, who: np.ndarray) -> np.ndarray:
    """Another member of each person's household (-1 for people who live alone)."""
    p = g.p
    head = np.where(p["head_of"][who] >= 0, p["head_of"][who], np.where(p["household"][who] >= 0, who, -1))
    others = np.flatnonzero(p["head_of"] >= 0)
    # the head's first other member, or, for the others, the head
    first_member = np.full(g.n, -1, dtype=np.int64)
    first_member[p["head_of"][others][::-1]] = others[::-1]
    return np.where(head < 0, -1, np.where(head == who, first_member[np.maximum(head, 0)], head))
