"""One shard of people: the random helpers, the noise of real exports, and the order the silos
are written in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from sample.generator.config import (
    CAMPAIGNS,
    FULLWIDTH,
    GIVEN,
    SHARD_PEOPLE,
    GeneratorConfig,
)


class Shard:
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

    def add_truth(self, source: str, record_ids, person_ids, phenomena: pl.Series | None = None) -> None:
        """Who each record really is, and the phenomena it shows (for accuracy per phenomenon)."""
        n = len(record_ids)
        self.records.append(
            pl.DataFrame(
                {
                    "source": pl.Series([source] * n, dtype=pl.String),
                    "source_record_id": pl.Series(record_ids, dtype=pl.String),
                    "person_id": pl.Series(person_ids, dtype=pl.String),
                    "phenomena": phenomena
                    if phenomena is not None
                    else pl.Series([[] for _ in range(n)], dtype=pl.List(pl.String)),
                }
            )
        )

    @staticmethod
    def tags(**conditions) -> pl.Series:
        """Per record, the names of the conditions that hold (the phenomena it shows)."""
        frame = pl.DataFrame({name: pl.Series(np.asarray(c, dtype=bool)) for name, c in conditions.items()})
        listed = pl.concat_list(
            [pl.when(pl.col(c)).then(pl.lit(c)).otherwise(pl.lit(None, pl.String)) for c in conditions]
        )
        return frame.select(listed.list.drop_nulls().alias("phenomena")).to_series()

    def number_tags(self, phones: np.ndarray) -> dict[str, np.ndarray]:
        """The phenomena a number brings to a record: reissued by the carrier, shared in a
        household, a cashier's own number typed for others."""
        return {
            "recycled_number": np.isin(phones, self.recycled_numbers),
            "household_phone": np.isin(phones, self.family_numbers),
            "staff_number": np.isin(phones, self.staff_numbers),
        }

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

    def name_noise(self, names: pl.Series) -> tuple[pl.Series, np.ndarray]:
        """A typo at the counter replaces the last character of some names; returns the names
        and which were mistyped."""
        n = len(names)
        typo = self.flag(n, self.cfg.name_typo_rate)
        wrong = names.str.slice(0, names.str.len_chars() - 1) + pl.Series(self.pick(GIVEN, n))
        typo &= (wrong != names).to_numpy()
        return pl.Series(np.where(typo, wrong.to_numpy(), names.to_numpy()), dtype=pl.String), typo

    def email_noise(self, emails: pl.Series) -> pl.Series:
        n = len(emails)
        kind = self.rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
        upper = emails.str.to_uppercase().to_numpy()
        padded = (" " + emails.str.to_titlecase() + " ").to_numpy()
        return pl.Series(np.where(kind == 1, upper, np.where(kind == 2, padded, emails.to_numpy())), dtype=pl.String)

    @staticmethod
    def stable_person_ids(i: np.ndarray, prefix: str = "P") -> np.ndarray:
        return pl.Series(i).cast(pl.String).str.zfill(8).str.replace(r"^", prefix).to_numpy()

    @staticmethod
    def yuan(col: str) -> pl.Expr:
        """Yuan with fen: always two decimals, as the platforms print them."""
        cents = (pl.col(col).cast(pl.Float64) * 100).round(0).cast(pl.Int64)
        return pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.String).str.zfill(2))
