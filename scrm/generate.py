"""Sample-data generator: four silos exported the way real systems export them.

Every person is drawn once (vectorised with numpy), then each silo writes the records it
would hold about that person, with the noise DOMAIN.md lists. The ground truth (who is
really who, who referred whom, who consented) goes to `truth/`, outside the landing folder.
The pipeline never reads truth; tests and benchmarks do.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂兰玉萍红梅鑫波斌宇浩凯健俊帆帅旭宁龙林欣佳琪思雨晨阳婷雪慧颖露瑶"
)
CITIES = ["上海", "北京", "广州", "深圳", "杭州", "成都", "南京", "武汉", "苏州", "西安", "重庆", "天津"]
CITY_WEIGHTS = np.array([16, 14, 10, 10, 9, 8, 7, 6, 6, 5, 5, 4], dtype=float)
MOBILE_PREFIXES = np.array(
    [
        130,
        131,
        132,
        133,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        155,
        156,
        157,
        158,
        159,
        176,
        177,
        178,
        180,
        181,
        182,
        183,
        185,
        186,
        187,
        188,
        189,
    ]
)
EMAIL_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com"]
LEVELS = ["普通卡", "银卡", "金卡", "钻石卡"]
JUNK_PHONES = ["13800000000", "13888888888", "13900000000"]
PLATFORMS = ["tmall", "jd", "douyin", "miniprogram"]
PLATFORM_WEIGHTS = np.array([0.35, 0.2, 0.15, 0.3])
# Share of a platform's orders whose receiver mobile comes masked (138****5678).
PLATFORM_MASK_RATE = {"tmall": 0.5, "jd": 0.5, "douyin": 1.0, "miniprogram": 0.0}
PAYMENTS = ["wechat_pay", "alipay", "unionpay", "cash"]
EVENT_TYPES = ["read", "like", "comment", "share", "message", "complaint"]
EVENT_WEIGHTS = np.array([0.54, 0.2, 0.1, 0.08, 0.07, 0.01])
CAMPAIGNS = ["c2025spring", "c2025double11", "c2026spring", "c2026summer"]
SOURCES = [
    "member_cards",
    "wechat_followers",
    "weibo_followers",
    "social_interactions",
    "online_orders",
    "pos_receipts",
]
SHARD_PEOPLE = 1_000_000  # people generated at once; bigger samples are written shard by shard
INTERACTION_BLOCK = 250_000  # followers per block of generated interactions
FULLWIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}

MEMBER_HEADERS = {
    "card_no": "会员卡号",
    "name": "姓名",
    "phone": "手机号",
    "email": "邮箱",
    "gender": "性别",
    "birthday": "生日",
    "city": "城市",
    "store": "开卡门店",
    "opened_on": "开卡日期",
    "level": "等级",
    "points": "积分",
    "unionid": "微信UnionID",
    "wechat_openid": "微信OpenID",
    "referrer_card_no": "推荐人卡号",
    "sms_opt_in": "短信营销",
    "email_opt_in": "邮件营销",
    "updated_at": "更新时间",
}


@dataclass(frozen=True)
class GeneratorConfig:
    """Sizes and noise rates; the defaults are the bundled sample's."""

    people: int = 2000
    seed: int = 42
    start: str = "2025-01-01"
    end: str = "2026-10-31"
    pos_days: int = 120  # the POS export window ends at `end`
    member_rate: float = 0.45
    wechat_rate: float = 0.6
    weibo_rate: float = 0.08
    online_rate: float = 0.5
    offline_rate: float = 0.45
    unionid_rate: float = 0.6  # followers whose unionid the platform returns
    wechat_card_binding_rate: float = 0.6  # members who follow and bound the WeChat member card
    email_rate: float = 0.35
    changed_phone_rate: float = 0.04  # got a new number; old one stays on the member card
    family_phone_rate: float = 0.01  # uses a household member's phone
    junk_phone_card_rate: float = 0.005  # clerk typed a junk number on the card
    name_typo_rate: float = 0.03
    referred_rate: float = 0.15
    fake_follower_rate: float = 0.02
    walk_in_receipt_rate: float = 0.2  # anonymous receipts per known receipt
    walk_in_junk_phone_rate: float = 0.3
    refund_rate: float = 0.06
    sms_opt_out_rate: float = 0.08  # opted in first, then opted out in a later export
    unsubscribe_rate: float = 0.12
    self_referral_rate: float = 0.002
    bad_row_rate: float = 0.001  # corrupt rows added to each source (rejects expected)
    interactions_per_follower: float = 8.0


def generate(config: GeneratorConfig, out: Path, progress=print) -> dict:
    """Write `out/landing/<source>/...` and `out/truth/*.parquet`; return the manifest.

    People are generated in shards of at most SHARD_PEOPLE, each with its own disjoint id
    ranges, appending to the same files: memory stays that of one shard, so 10M people fit.
    """
    out = Path(out)
    for source in SOURCES:  # the generator owns these folders: start them empty
        shutil.rmtree(out / "landing" / source, ignore_errors=True)
    shutil.rmtree(out / "truth", ignore_errors=True)
    shards = max(1, -(-config.people // SHARD_PEOPLE))
    progress(f"generating {config.people:,} people (seed {config.seed}, {shards} shard(s))")
    sources: dict = {}
    for shard in range(shards):
        people = min(SHARD_PEOPLE, config.people - shard * SHARD_PEOPLE)
        manifest = _Generator(config, out, progress, shard, shards, people).run()
        for source, counts in manifest.items():
            total = sources.setdefault(source, {"files": 0, "rows": 0, "bad_rows": 0})
            for key, value in counts.items():
                total[key] += value
    truth = out / "truth"
    for name in ("records", "referrals", "consent", "people"):
        parts = sorted((truth / "parts").glob(f"{name}_*.parquet"))
        pl.concat([pl.read_parquet(part) for part in parts]).write_parquet(truth / f"{name}.parquet")
    shutil.rmtree(truth / "parts")
    manifest = {"config": asdict(config), "sources": sources}
    (truth / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    progress(f"  truth written to {truth}")
    return manifest


class _Generator:
    """One shard of people and every record the four silos hold about them."""

    def __init__(self, cfg: GeneratorConfig, out: Path, progress, shard: int, shards: int, people: int):
        self.cfg = cfg
        self.out = out
        self.landing = out / "landing"
        self.truth = out / "truth"
        self.shard, self.shards, self.n = shard, shards, people
        self.offset = shard * SHARD_PEOPLE  # global index of this shard's first person
        self.rng = np.random.default_rng(cfg.seed if shards == 1 else [cfg.seed, shard])
        self.progress = progress
        self.t0 = int(datetime.fromisoformat(cfg.start).timestamp())
        self.t1 = int(datetime.fromisoformat(cfg.end).timestamp()) + 86399
        self.records: list[pl.DataFrame] = []
        self.manifest: dict = {}

    # ---- helpers -------------------------------------------------------------------------
    def flag(self, n: int, rate: float) -> np.ndarray:
        return self.rng.random(n) < rate

    def pick(self, options: list, n: int, weights: np.ndarray | None = None) -> np.ndarray:
        p = None if weights is None else weights / weights.sum()
        return np.asarray(options)[self.rng.choice(len(options), size=n, p=p)]

    def times(self, lo, hi, n: int) -> np.ndarray:
        """Uniform epoch seconds in [lo, hi) (scalars or arrays)."""
        lo = np.broadcast_to(np.asarray(lo, dtype=np.int64), (n,))
        hi = np.broadcast_to(np.asarray(hi, dtype=np.int64), (n,))
        return lo + (self.rng.random(n) * np.maximum(hi - lo, 1)).astype(np.int64)

    def unique_ints(self, n: int, lo: int, hi: int) -> np.ndarray:
        """n distinct integers in this shard's part of [lo, hi), shuffled; cheap even for 10M."""
        width = (hi - lo) // self.shards
        lo, hi = lo + self.shard * width, lo + (self.shard + 1) * width
        step = max((hi - lo) // max(n, 1), 1)
        base = lo + np.arange(n, dtype=np.int64) * step
        return self.rng.permutation(base + self.rng.integers(0, step, n))

    def tokens(self, prefix: str, n: int) -> np.ndarray:
        """WeChat-like 28-character ids: prefix, base-62 digits of a unique integer, random tail."""
        alphabet = np.array(list("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        x = self.unique_ints(n, 62**9, 62**10)
        body = np.full(n, prefix, dtype="<U28")
        for _ in range(10):
            body = np.char.add(body, alphabet[x % 62])
            x //= 62
        for _ in range(28 - 10 - len(prefix)):
            body = np.char.add(body, alphabet[self.rng.integers(0, 62, n)])
        return body

    def stable_ids(self, prefix: str, i: np.ndarray, salt: int, width: int = 10) -> pl.Series:
        """A per-person id that is the same in every record (bijective in i)."""
        mixed = (i.astype(np.int64) * 2_654_435_761 + salt) % (10**width)
        return pl.Series(mixed).cast(pl.String).str.zfill(width).str.replace(r"^", prefix)

    @staticmethod
    def opt(cond: np.ndarray, values) -> pl.Series:
        """values where cond holds, else null (an optional text column)."""
        text = pl.Series(values).cast(pl.String)
        return text.zip_with(pl.Series(cond), pl.repeat(None, len(text), dtype=pl.String, eager=True))

    def add_truth(self, source: str, record_ids, person_ids) -> None:
        self.records.append(
            pl.DataFrame(
                {
                    "source": pl.Series([source] * len(record_ids), dtype=pl.String),
                    "source_record_id": pl.Series(record_ids, dtype=pl.String),
                    "person_id": pl.Series(person_ids, dtype=pl.String),
                }
            )
        )

    def count(self, source: str, rows: int, bad: int = 0, new_file: bool = True) -> None:
        entry = self.manifest.setdefault(source, {"files": 0, "rows": 0, "bad_rows": 0})
        entry["files"] += int(new_file)
        entry["rows"] += rows
        entry["bad_rows"] += bad

    def write_csv(self, df: pl.DataFrame, path: Path, source: str, encoding: str = "utf-8", bad: int = 0) -> None:
        """A CSV export; a later shard appends its rows under the same header."""
        path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not path.exists()
        with path.open("wb" if new_file else "ab") as out:
            out.write(df.write_csv(include_header=new_file).encode(encoding))
        self.count(source, df.height, bad, new_file)

    def write_jsonl(self, df: pl.DataFrame, path: Path, source: str, bad_lines: int = 0) -> None:
        """JSON lines; `bad_lines` malformed lines are slipped in (never the last line)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = df.write_ndjson().splitlines()
        for _ in range(bad_lines if lines else 0):
            at = int(self.rng.integers(0, len(lines)))
            lines.insert(at, lines[at][: len(lines[at]) // 2])  # cut mid-object
        new_file = not path.exists()  # blocks and later shards append
        with path.open("a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        self.count(source, len(lines), bad_lines if lines else 0, new_file)

    def n_bad(self, rows: int) -> int:
        return 0 if rows == 0 or self.cfg.bad_row_rate == 0 else max(1, round(rows * self.cfg.bad_row_rate))

    def corrupt(
        self, df: pl.DataFrame, key: str, column: str, bad_value: str | None, rows: int | None = None
    ) -> tuple[pl.DataFrame, int]:
        """Append copies of random rows with one broken field; they must end in the rejects."""
        n = self.n_bad(df.height) if rows is None else rows
        if n == 0:
            return df, 0
        rows = df.sample(n, seed=int(self.rng.integers(1 << 31)))
        fixes = [pl.lit(bad_value, dtype=pl.String).alias(column)]
        if key != column:
            fixes.append(pl.concat_str([pl.col(key), pl.lit("-BAD")]).alias(key))
        return pl.concat([df, rows.with_columns(fixes)]), n

    @staticmethod
    def local_time(col: str | pl.Expr, fmt: str = "%Y-%m-%d %H:%M:%S") -> pl.Expr:
        """Epoch seconds -> China local wall-clock text, as Chinese systems export it."""
        expr = pl.col(col) if isinstance(col, str) else col
        return pl.from_epoch(expr, time_unit="s").dt.offset_by("8h").dt.strftime(fmt)

    def campaign_of(self, t: np.ndarray) -> np.ndarray:
        k = ((t - self.t0) * len(CAMPAIGNS) // (self.t1 - self.t0 + 1)).clip(0, len(CAMPAIGNS) - 1)
        return np.asarray(CAMPAIGNS)[k]

    # ---- noise -----------------------------------------------------------------------------
    def phone_noise(self, phones: pl.Series) -> pl.Series:
        """The many shapes one mobile number takes in real exports."""
        n = len(phones)
        kind = pl.Series("k", self.rng.choice(6, size=n, p=[0.7, 0.08, 0.07, 0.05, 0.05, 0.05]))
        s = pl.col("p")
        a, b, c = s.str.slice(0, 3), s.str.slice(3, 4), s.str.slice(7, 4)
        k = pl.col("k")
        shaped = (
            pl.when(k == 1)
            .then(pl.concat_str([pl.lit("+86 "), a, pl.lit(" "), b, pl.lit(" "), c]))
            .when(k == 2)
            .then(pl.concat_str([pl.lit("86-"), a, pl.lit("-"), b, pl.lit("-"), c]))
            .when(k == 3)
            .then(s.str.replace_many(list(FULLWIDTH), list(FULLWIDTH.values())))
            .when(k == 4)
            .then(pl.concat_str([pl.lit("+86"), s]))
            .when(k == 5)
            .then(pl.concat_str([a, pl.lit("-"), b, pl.lit("-"), c]))
            .otherwise(s)
        )
        return pl.DataFrame({"p": phones, "k": kind}).select(shaped.alias("phone")).to_series()

    @staticmethod
    def mask(phones: pl.Series) -> pl.Series:
        return phones.str.slice(0, 3) + "****" + phones.str.slice(7, 4)

    def name_noise(self, names: pl.Series) -> pl.Series:
        """A typo replaces the last character of some names."""
        n = len(names)
        typo = self.flag(n, self.cfg.name_typo_rate)
        wrong = names.str.slice(0, 1) + pl.Series(self.pick(GIVEN, n))
        return pl.Series(np.where(typo, wrong.to_numpy(), names.to_numpy()), dtype=pl.String)

    def email_noise(self, emails: pl.Series) -> pl.Series:
        n = len(emails)
        kind = self.rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
        upper = emails.str.to_uppercase().to_numpy()
        padded = (" " + emails.str.to_titlecase() + " ").to_numpy()
        return pl.Series(np.where(kind == 1, upper, np.where(kind == 2, padded, emails.to_numpy())), dtype=pl.String)

    # ---- people ----------------------------------------------------------------------------
    def run(self) -> dict:
        """Write this shard's records; returns its counts per source."""
        steps = [
            self.make_people,
            self.member_cards,
            self.wechat_followers,
            self.weibo_followers,
            self.interactions,
            self.online_orders,
            self.pos_receipts,
            self.write_truth,
        ]
        for step in steps:
            step()
        return self.manifest

    def make_people(self) -> None:
        cfg, rng, n = self.cfg, self.rng, self.n
        i = np.arange(n)
        given2 = np.where(self.flag(n, 0.7), self.pick(GIVEN, n), "")
        names = np.char.add(np.char.add(self.pick(SURNAMES, n), self.pick(GIVEN, n)), given2)
        prefixes = MOBILE_PREFIXES[rng.integers(0, len(MOBILE_PREFIXES), 2 * n)]
        phones = (prefixes * 100_000_000 + self.unique_ints(2 * n, 10_000_000, 99_999_999)).astype(str)
        locals_ = np.char.add(
            self.pick(["wei", "li", "zhang", "chen", "yang", "mei", "jun", "hao"], n),
            rng.integers(100, 9_999_999, n).astype(str),
        )
        emails = np.char.add(np.char.add(locals_, "@"), self.pick(EMAIL_DOMAINS, n))
        joined = np.sort(self.times(self.t0, self.t1 - 45 * 86400, n))  # person i joins before i+1

        silos = {s: self.flag(n, getattr(cfg, f"{s}_rate")) for s in ("member", "wechat", "weibo", "online", "offline")}
        silos["offline"] |= ~np.logical_or.reduce(list(silos.values()))

        changed = self.flag(n, cfg.changed_phone_rate)
        family_of = np.where(self.flag(n, cfg.family_phone_rate) & (i > 0), (rng.random(n) * i).astype(np.int64), -1)
        new_phone = np.where(changed, phones[n:], phones[:n])
        current_phone = np.where(family_of >= 0, new_phone[np.maximum(family_of, 0)], new_phone)

        # Referrals: earlier people bring later ones; u**3 makes a few people bring many.
        referrer = np.where(self.flag(n, cfg.referred_rate) & (i > 10), (rng.random(n) ** 3 * i).astype(np.int64), -1)
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
        self.p = {
            "i": i,
            "person_id": self.stable_person_ids(i + self.offset),
            "name": names,
            "old_phone": phones[:n],
            "current_phone": current_phone,
            "family_of": family_of,
            "changed": changed,
            "email": self.opt(self.flag(n, cfg.email_rate), emails),
            "city": self.pick(CITIES, n, CITY_WEIGHTS),
            "gender": self.pick(["男", "女"], n),
            "birthday": self.times(int(datetime(1960, 1, 1).timestamp()), int(datetime(2006, 1, 1).timestamp()), n),
            "joined_at": joined,
            "referrer": np.where(channel != "", referrer, -1),
            "ref_channel": channel,
            "has_unionid": self.flag(n, cfg.unionid_rate),
            "activity": rng.lognormal(-0.5, 1.0, n),
            **{f"is_{s}": v for s, v in silos.items()},
        }
        self.n_stores = int(np.clip(cfg.people // 25_000, 3, 30))
        self.stores = np.array([f"S{k + 1:03d}" for k in range(self.n_stores)])
        self.home_store = rng.integers(0, self.n_stores, n)
        self.card_no = (800_000_000 + self.unique_ints(n, 0, 199_999_999)).astype(str)
        self.openid = self.tokens("oA1x", n)
        self.unionid = self.tokens("oU9x", n)
        self.mini_openid = self.tokens("oM5x", n)
        self.snapshot_at = self.t1 - 60 * 86400  # first full exports; later files carry changes
        self.ref_time = np.full(n, -1, dtype=np.int64)  # when each referral happened
        self.progress(f"  people: {n:,}, stores: {self.n_stores}")

    @staticmethod
    def stable_person_ids(i: np.ndarray, prefix: str = "P") -> np.ndarray:
        return pl.Series(i).cast(pl.String).str.zfill(8).str.replace(r"^", prefix).to_numpy()

    # ---- member cards: CSV in GBK with Chinese headers, full export then a delta --------------
    def member_cards(self) -> None:
        p, cfg = self.p, self.cfg
        m = np.flatnonzero(p["is_member"])
        n = len(m)
        opened = np.minimum(p["joined_at"][m] + self.times(0, 20 * 86400, n), self.t1 - 3600)
        phone = np.where(p["changed"][m], p["old_phone"][m], p["current_phone"][m])
        junk = self.flag(n, cfg.junk_phone_card_rate)
        phone = np.where(junk, self.pick(JUNK_PHONES, n), phone)
        email = pl.Series(p["email"][m], dtype=pl.String)
        ref = p["referrer"][m]
        invited = p["ref_channel"][m] == "invite_code"
        opened = np.where(invited, p["joined_at"][m], opened)  # an invited friend joins by opening the card
        self.ref_time[m[invited]] = opened[invited]
        sms = self.flag(n, 0.7)
        opt_out = sms & self.flag(n, cfg.sms_opt_out_rate) & (opened < self.snapshot_at)
        opt_out_at = self.times(self.snapshot_at, self.t1, n)
        # Binding the WeChat member card stores the official-account openid (and the unionid,
        # when WeChat gives one) on the card.
        wechat_bound = p["is_wechat"][m] & self.flag(n, cfg.wechat_card_binding_rate)
        cards = pl.DataFrame(
            {
                "card_no": self.card_no[m],
                "name": self.name_noise(pl.Series(p["name"][m])),
                "phone": self.phone_noise(pl.Series(phone)),
                "email": self.email_noise(email.fill_null("")).replace("", None),
                "gender": p["gender"][m],
                "birthday": pl.Series(p["birthday"][m]),
                "city": p["city"][m],
                "store": self.stores[self.home_store[m]],
                "opened": pl.Series(opened),
                "level": self.pick(LEVELS, n, np.array([0.6, 0.25, 0.12, 0.03])),
                "points": self.rng.integers(0, 20_000, n),
                "unionid": self.opt(wechat_bound & p["has_unionid"][m], self.unionid[m]),
                "wechat_openid": self.opt(wechat_bound, self.openid[m]),
                "referrer_card_no": self.opt(invited, self.card_no[np.maximum(ref, 0)]),
                "sms": np.where(sms, "是", "否"),
                "email_opt_in": np.where(email.is_not_null().to_numpy() & self.flag(n, 0.5), "是", "否"),
                "updated": pl.Series(opened),
                "opt_out": opt_out,
                "opt_out_at": pl.Series(opt_out_at),
            }
        )
        self.consent_rows = [
            pl.DataFrame(
                {
                    "person_id": p["person_id"][m],
                    "channel": "sms",
                    "opted_in": sms & ~opt_out,
                }
            ),
            pl.DataFrame(
                {
                    "person_id": p["person_id"][m],
                    "channel": "email",
                    "opted_in": (cards["email_opt_in"] == "是").to_numpy(),
                }
            ),
        ]
        export = cards.with_columns(
            self.local_time("birthday", "%Y-%m-%d").alias("birthday"),
            self.local_time("opened", "%Y-%m-%d").alias("opened_on"),
            self.local_time("updated").alias("updated_at"),
            pl.col("points").cast(pl.String),
        )
        full = export.filter(pl.col("opened") <= self.snapshot_at)
        changed = export.filter(pl.col("opt_out")).with_columns(
            sms=pl.lit("否"), updated_at=self.local_time("opt_out_at")
        )
        delta = pl.concat([export.filter(pl.col("opened") > self.snapshot_at), changed])
        cols = list(MEMBER_HEADERS)
        for label, frame in (("full", full), ("delta", delta)):
            frame = frame.rename({"store": "store", "sms": "sms_opt_in"}).select(cols)
            frame, bad = self.corrupt(frame, "card_no", "opened_on", "2026-13-45")
            frame = frame.rename(MEMBER_HEADERS)
            day = self.snapshot_at if label == "full" else self.t1
            name = f"members_{label}_{datetime.fromtimestamp(day):%Y%m%d}.csv"
            self.write_csv(frame, self.landing / "member_cards" / name, "member_cards", "gbk", bad)
        self.add_truth("member_cards", self.card_no[m], p["person_id"][m])
        self.progress(f"  member cards: {n:,}")

    # ---- WeChat followers: API-style JSON lines, a snapshot then the changes -----------------
    def wechat_followers(self) -> None:
        p, cfg = self.p, self.cfg
        f = np.flatnonzero(p["is_wechat"])
        n = len(f)
        sub = np.minimum(p["joined_at"][f] + self.times(0, 30 * 86400, n), self.t1 - 3600)
        ref = p["referrer"][f]
        by_qr = p["ref_channel"][f] == "wechat_qr"
        self.follow_at = np.full(len(p["i"]), -1, dtype=np.int64)
        self.follow_at[f] = sub
        # a referee joins by scanning the referrer's code, after the referrer followed
        sub = np.where(by_qr, np.maximum(p["joined_at"][f], self.follow_at[np.maximum(ref, 0)] + 3600), sub)
        sub = np.minimum(sub, self.t1 - 60)
        self.follow_at[f] = sub
        self.ref_time[f[by_qr]] = sub[by_qr]
        scene = np.where(
            by_qr,
            np.char.add(np.char.add(np.char.add("ref_", self.campaign_of(sub)), "_"), self.openid[np.maximum(ref, 0)]),
            np.where(self.flag(n, 0.3), np.char.add("store_", self.stores[self.home_store[f]]), ""),
        )
        unsub = self.flag(n, cfg.unsubscribe_rate)
        unsub_at = np.maximum(sub + 86400, self.times(self.snapshot_at, self.t1, n))
        unsub &= unsub_at < self.t1
        self.unsub_at = np.full(len(p["i"]), self.t1 + 1, dtype=np.int64)
        self.unsub_at[f[unsub]] = unsub_at[unsub]
        tags = [[int(t) for t in np.flatnonzero(row) + 100] for row in self.rng.random((n, 3)) < 0.2]
        real = pl.DataFrame(
            {
                "openid": self.openid[f],
                "unionid": self.opt(p["has_unionid"][f], self.unionid[f]),
                "nickname": self.name_noise(pl.Series(p["name"][f])),
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
        k = int(round(self.n * cfg.fake_follower_rate))
        bulk_days = self.times(self.t0, self.t1 - 86400, 3)
        fake_sub = bulk_days[self.rng.integers(0, 3, k)] + self.rng.integers(0, 600, k)
        fake_ids = self.stable_person_ids(np.arange(k) + self.offset, "F")
        fake = pl.DataFrame(
            {
                "openid": self.tokens("oA1x", k) if k else np.array([], dtype=str),
                "unionid": pl.Series([None] * k, dtype=pl.String),
                "nickname": pl.Series(self.rng.integers(10_000, 99_999, k)).cast(pl.String).str.replace(r"^", "用户"),
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
        self.fake_ids = fake_ids
        allf = pl.concat([real, fake])
        cols = [c for c in allf.columns if c not in ("person_id", "unsub", "unsub_at")]
        snapshot = allf.filter(pl.col("subscribe_time") <= self.snapshot_at).select(cols)
        new = allf.filter(pl.col("subscribe_time") > self.snapshot_at).select(cols)
        # WeChat answers an unsubscribed user's details with only these three fields.
        gone = allf.filter(pl.col("unsub")).select(
            "openid", "unionid", subscribe=pl.lit(0, dtype=pl.Int64), unsubscribe_time=pl.col("unsub_at")
        )
        changes = pl.concat([new, gone], how="diagonal")
        for day, frame in ((self.snapshot_at, snapshot), (self.t1, changes)):
            path = self.landing / "wechat_followers" / f"followers_{datetime.fromtimestamp(day):%Y%m%d}.jsonl"
            self.write_jsonl(frame, path, "wechat_followers", self.n_bad(frame.height))
        self.add_truth("wechat_followers", allf["openid"], allf["person_id"])
        self.consent_rows.append(
            pl.DataFrame({"person_id": real["person_id"], "channel": "wechat", "opted_in": ~real["unsub"]})
        )
        self.progress(f"  wechat followers: {n:,} real, {k:,} bought")

    # ---- Weibo followers: a small CSV export ------------------------------------------------
    def weibo_followers(self) -> None:
        p = self.p
        w = np.flatnonzero(p["is_weibo"])
        n = len(w)
        self.weibo_uid = self.stable_ids("", np.arange(len(p["i"])) + self.offset, 7_000_000_000, 10)
        bound = self.flag(n, 0.3)
        frame = (
            pl.DataFrame(
                {
                    "uid": self.weibo_uid.gather(w),
                    "screen_name": pl.Series(p["name"][w], dtype=pl.String)
                    + pl.Series(self.rng.integers(10, 9999, n)).cast(pl.String),
                    "gender": np.where(p["gender"][w] == "男", "m", "f"),
                    "location": pl.Series(p["city"][w], dtype=pl.String),
                    "followed": p["joined_at"][w] + self.times(0, 30 * 86400, n),
                    "bound_mobile": self.opt(bound, p["current_phone"][w]),
                }
            )
            .with_columns(followed_at=self.local_time("followed"))
            .drop("followed")
        )
        frame = frame.select("uid", "screen_name", "gender", "location", "followed_at", "bound_mobile")
        frame, bad = self.corrupt(frame, "uid", "followed_at", "not a time")
        self.write_csv(
            frame,
            self.landing / "weibo_followers" / f"weibo_followers_{datetime.fromtimestamp(self.t1):%Y%m%d}.csv",
            "weibo_followers",
            bad=bad,
        )
        self.add_truth("weibo_followers", self.weibo_uid.gather(w), p["person_id"][w])
        self.progress(f"  weibo followers: {n:,}")

    # ---- interactions: JSON lines per month -------------------------------------------------
    def interactions(self) -> None:
        """Generated in blocks of followers and appended to the monthly files, so memory stays
        bounded at 10M people."""
        p = self.p
        wx = np.flatnonzero(p["is_wechat"])
        wb = np.flatnonzero(p["is_weibo"])
        followers = pl.DataFrame(
            {
                "person": np.concatenate([wx, wb]),
                "platform": pl.Series(["wechat"] * len(wx) + ["weibo"] * len(wb), dtype=pl.Categorical),
                "user_id": pl.concat([pl.Series(self.openid[wx]), self.weibo_uid.gather(wb)]),
                "start": np.concatenate([self.follow_at[wx], p["joined_at"][wb]]),
                "stop": np.concatenate([np.minimum(self.unsub_at[wx], self.t1), np.full(len(wb), self.t1)]),
            }
        )
        total, replies_total = 0, 0
        for block in followers.iter_slices(INTERACTION_BLOCK):
            events, replies = self.interaction_block(block, total, replies_total)
            total += events.height
            replies_total += replies.height
            frame = pl.concat([events, replies]).with_columns(
                event_time=self.local_time("at", "%Y-%m-%dT%H:%M:%S+08:00"),
                month=self.local_time("at", "%Y-%m"),
            )
            for (month,), rows in frame.sort("at").group_by(["month"], maintain_order=True):
                out = rows.select(
                    "event_id", "platform", "user_id", "event_type", "event_time", "content_id", "reply_to"
                )
                path = self.landing / "social_interactions" / f"interactions_{month}.jsonl"
                self.write_jsonl(out, path, "social_interactions", self.n_bad(out.height))
        self.progress(f"  interactions: {total + replies_total:,}")

    def interaction_block(self, block: pl.DataFrame, first_event: int, first_reply: int):
        counts = self.rng.poisson(self.cfg.interactions_per_follower * self.p["activity"][block["person"].to_numpy()])
        rep = np.repeat(np.arange(block.height), counts)
        m = len(rep)
        at = self.times(block["start"].to_numpy()[rep], block["stop"].to_numpy()[rep], m)
        kind = self.pick(EVENT_TYPES, m, EVENT_WEIGHTS)
        first_event += self.shard * 10**9  # event ids stay unique across shards
        event_ids = self.stable_ids("E", np.arange(first_event, first_event + m), 12345, 11)
        who = block.select("platform", "user_id")[rep]
        events = who.with_columns(
            event_id=event_ids,
            event_type=pl.Series(kind),
            at=pl.Series(at),
            content_id=pl.Series(self.rng.integers(1000, 1400, m)).cast(pl.String).str.replace(r"^", "A"),
            reply_to=pl.lit(None, dtype=pl.String),
        )
        # The brand answers most direct messages: the reciprocity the trust mart measures.
        msg = np.flatnonzero((kind == "message") & self.flag(m, 0.6))
        replies = who[msg].with_columns(
            event_id=self.stable_ids(
                "R", self.shard * 10**9 + np.arange(first_reply, first_reply + len(msg)), 54321, 11
            ),
            event_type=pl.lit("brand_reply"),
            at=pl.Series(np.minimum(at[msg] + self.times(60, 6 * 3600, len(msg)), self.t1)),
            content_id=pl.lit(None, dtype=pl.String),
            reply_to=event_ids.gather(msg),
        )
        return events, replies.select(events.columns)

    # ---- online orders: platform exports, one CSV per month of changes -----------------------
    def online_orders(self) -> None:
        p, cfg = self.p, self.cfg
        o = np.flatnonzero(p["is_online"])
        counts = 1 + self.rng.poisson(1.5 * p["activity"][o])
        who = np.repeat(o, counts)
        m = len(who)
        first = np.r_[True, who[1:] != who[:-1]]
        home = self.rng.choice(len(PLATFORMS), size=len(p["i"]), p=PLATFORM_WEIGHTS)
        plat_idx = np.where(self.flag(m, 0.7), home[who], self.rng.choice(len(PLATFORMS), size=m, p=PLATFORM_WEIGHTS))
        plat = np.asarray(PLATFORMS)[plat_idx]
        paid = self.times(p["joined_at"][who], self.t1 - 3600, m)
        paid = np.where(first, np.minimum(p["joined_at"][who] + 3600, self.t1 - 3600), paid)
        by_code = first & (p["ref_channel"][who] == "order_code")
        self.ref_time[who[by_code]] = paid[by_code]
        ref_code = self.opt(by_code, self.card_no[np.maximum(p["referrer"][who], 0)])
        own = p["is_member"][who] & self.flag(m, cfg.self_referral_rate) & ~by_code
        ref_code = pl.Series(self.card_no[who]).zip_with(pl.Series(own), ref_code)  # self-referrals
        mobile = pl.Series(p["current_phone"][who])
        masked = self.rng.random(m) < np.vectorize(PLATFORM_MASK_RATE.get)(plat)
        mobile = pl.Series(np.where(masked, self.mask(mobile).to_numpy(), self.phone_noise(mobile).to_numpy()))
        buyer = np.select(
            [plat == "tmall", plat == "jd", plat == "douyin"],
            [
                self.stable_ids("tb", who + self.offset, 11, 10).to_numpy(),
                self.stable_ids("jd_", who + self.offset, 22, 10).to_numpy(),
                self.stable_ids("dy", who + self.offset, 33, 12).to_numpy(),
            ],
            default=self.mini_openid[who],
        )
        mini = plat == "miniprogram"
        amount = np.round(self.rng.lognormal(5.0, 0.7, m), 2)
        refunded = self.flag(m, cfg.refund_rate)
        refund_at = paid + self.times(3 * 86400, 30 * 86400, m)
        refunded &= refund_at < self.t1
        partial = refunded & self.flag(m, 0.3)
        refund = np.where(partial, np.round(amount * 0.5, 2), amount)
        orders = pl.DataFrame(
            {
                "order_id": (10**15 + self.unique_ints(m, 0, 10**15)).astype(str),
                "platform": plat,
                "shop_id": np.char.add(plat.astype(str), "_flagship"),
                "buyer_id": buyer,
                "buyer_nick": self.stable_ids("nick_", who + self.offset, 99, 8),
                "receiver_name": self.name_noise(pl.Series(p["name"][who])),
                "receiver_mobile": mobile,
                "receiver_city": p["city"][who],
                "openid": self.opt(mini, self.mini_openid[who]),
                "unionid": self.opt(mini & p["has_unionid"][who], self.unionid[who]),
                "paid": paid,
                "status": "completed",
                "amount_yuan": amount,
                "refund_yuan": pl.Series([None] * m, dtype=pl.Float64),
                "coupon_code": self.opt(
                    self.flag(m, 0.2), np.char.add("CPN", self.rng.integers(100, 999, m).astype(str))
                ),
                "referral_code": ref_code,
                "updated": paid,
                "person_id": p["person_id"][who],
            }
        )
        refunds = orders.filter(pl.Series(refunded)).with_columns(
            status=pl.when(pl.Series(partial[refunded]))
            .then(pl.lit("partially_refunded"))
            .otherwise(pl.lit("refunded")),
            refund_yuan=pl.Series(refund[refunded]),
            updated=pl.Series(refund_at[refunded]),
        )
        allo = pl.concat([orders, refunds]).with_columns(
            paid_at=self.local_time("paid"),
            updated_at=self.local_time("updated"),
            month=self.local_time("updated", "%Y-%m"),
            amount_yuan=self.yuan("amount_yuan"),
            refund_yuan=self.yuan("refund_yuan"),
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
            frame, bad = self.corrupt(frame.select(cols), "order_id", "amount_yuan", "12,3O")
            self.write_csv(frame, self.landing / "online_orders" / f"orders_{month}.csv", "online_orders", bad=bad)
        self.add_truth("online_orders", orders["order_id"], orders["person_id"])
        self.progress(f"  online orders: {m:,} (+{int(refunded.sum()):,} refund updates)")

    @staticmethod
    def yuan(col: str) -> pl.Expr:
        """Yuan with fen: always two decimals, as the platforms print them."""
        cents = (pl.col(col).cast(pl.Float64) * 100).round(0).cast(pl.Int64)
        return pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.String).str.zfill(2))

    # ---- offline POS: one CSV per store per day ---------------------------------------------
    def pos_receipts(self) -> None:
        p, cfg = self.p, self.cfg
        w0 = self.t1 - cfg.pos_days * 86400
        off = np.flatnonzero(p["is_offline"])
        counts = 1 + self.rng.poisson(1.2 * p["activity"][off])
        who = np.repeat(off, counts)
        m = len(who)
        sold = self.times(np.maximum(p["joined_at"][who], w0), self.t1 - 3600, m)
        store = np.where(self.flag(m, 0.8), self.home_store[who], self.rng.integers(0, self.n_stores, m))
        # A known customer always leaves a trace: card, phone, or both (else they are a walk-in).
        ident = self.rng.choice(3, size=m, p=[0.55, 0.35, 0.10])  # card, phone, both
        ident = np.where(p["is_member"][who], ident, 1)
        card = self.opt(ident != 1, self.card_no[who])
        phone = self.opt(ident != 0, self.phone_noise(pl.Series(p["current_phone"][who])))
        # Walk-ins: strangers; cashiers type a junk or the store's own number for some.
        k = int(round(m * cfg.walk_in_receipt_rate))
        store_phone = np.char.add("1390000", np.char.zfill((np.arange(self.n_stores) + 1).astype(str), 4))
        wstore = self.rng.integers(0, self.n_stores, k)
        junk = np.where(self.flag(k, 0.5), self.pick(JUNK_PHONES, k), store_phone[wstore])
        wphone = self.opt(self.flag(k, cfg.walk_in_junk_phone_rate), junk)
        sales = pl.DataFrame(
            {
                "person_id": np.concatenate(
                    [p["person_id"][who], self.stable_person_ids(np.arange(k) + self.shard * 10**7, "W")]
                ),
                "store_i": np.concatenate([store, wstore]),
                "store_id": self.stores[np.concatenate([store, wstore])],
                "sold": np.concatenate([sold, self.times(w0, self.t1 - 3600, k)]),
                "card": pl.concat([card, pl.repeat(None, k, dtype=pl.String, eager=True)]),
                "phone": pl.concat([phone, wphone]),
            }
        )
        n = sales.height
        sales = sales.with_columns(
            amount=pl.Series(np.round(self.rng.lognormal(4.5, 0.8, n), 2)),
            payment=pl.Series(self.pick(PAYMENTS, n, np.array([0.5, 0.35, 0.1, 0.05]))),
            items=pl.Series(1 + self.rng.poisson(1.5, n)),
            receipt_type=pl.lit("sale"),
            original=pl.lit(None, dtype=pl.String),
        )
        returned = self.flag(n, cfg.refund_rate) & (sales["sold"].to_numpy() + 2 * 86400 < self.t1)
        returns = sales.filter(pl.Series(returned)).with_columns(
            receipt_type=pl.lit("return"),
            sold=pl.col("sold") + pl.Series(self.times(3600, 2 * 86400, int(returned.sum()))),
            card=pl.lit(None, dtype=pl.String),
            phone=pl.lit(None, dtype=pl.String),
        )
        allr = (
            pl.concat([sales, returns])
            .with_columns(
                day=self.local_time("sold", "%Y%m%d"),
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
                    pl.lit(f"{self.shard:02d}" if self.shards > 1 else ""),
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
            sold_at=self.local_time("sold"),
            amount_yuan=self.yuan("amount"),
            date=self.local_time("sold", "%Y-%m-%d"),
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
        spoiled = set(self.rng.choice(len(groups), size=min(len(groups), self.n_bad(out.height)), replace=False))
        for i, ((store_id, date), frame) in enumerate(groups):
            body, bad = frame.select(cols), 0
            if i in spoiled:  # a few files carry one corrupt row
                body, bad = self.corrupt(body, "receipt_no", "sold_at", "not a time", rows=1)
            self.write_csv(body, self.landing / "pos_receipts" / f"{store_id}_{date}.csv", "pos_receipts", bad=bad)
        self.add_truth("pos_receipts", out["receipt_no"], out["person_id"])
        self.progress(f"  pos receipts: {out.height:,}")

    # ---- truth -------------------------------------------------------------------------------
    def write_truth(self) -> None:
        p = self.p
        parts = self.truth / "parts"
        parts.mkdir(parents=True, exist_ok=True)
        part = f"{self.shard:03d}.parquet"
        pl.concat(self.records).write_parquet(parts / f"records_{part}")
        r = np.flatnonzero(p["referrer"] >= 0)
        pl.DataFrame(
            {
                "referrer_person_id": p["person_id"][p["referrer"][r]],
                "referee_person_id": p["person_id"][r],
                "channel": p["ref_channel"][r],
                "referred_at": pl.from_epoch(pl.Series(self.ref_time[r]), time_unit="s"),
            }
        ).filter(pl.col("referred_at") > pl.datetime(2000, 1, 1)).write_parquet(parts / f"referrals_{part}")
        pl.concat(self.consent_rows).write_parquet(parts / f"consent_{part}")
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
