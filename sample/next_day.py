"""A day of new data on top of a generated sample: what lands the day after the export.

`write_delta` adds one file per source to the landing folder, in the source's own format and
encoding, with about `fraction` of the rows the source already has: new orders, sales and
interactions by people already known, new followers and cards (cards carry a known phone, so
fans merge), unsubscribes, a changed opt-in, and late data: refunds of old online orders and
returns of old store sales. Used by the incremental-run benchmark and tests.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from ingestion.contracts import Contract, load_contracts
from ingestion.readers import LINE, read_text_rows

LOCAL = "+08:00"
NULL = pl.lit(None, dtype=pl.String)


def write_delta(landing: Path, day: str = "2026-11-02", fraction: float = 0.01, seed: int = 7) -> dict[str, int]:
    """Write `<source>/delta_<day>.<ext>` for five sources; return the rows written per source."""
    landing = Path(landing)
    contracts = load_contracts()
    rng = np.random.default_rng(seed)
    start = datetime.fromisoformat(day)
    written = {}
    for source, make, sampled in (
        ("member_cards", _cards, pl.lit(True)),
        ("wechat_followers", _followers, pl.col("subscribe") == "1"),
        ("online_orders", _orders, pl.col("status") == "completed"),
        ("pos_receipts", _receipts, pl.col("receipt_type") == "sale"),
        ("social_interactions", _interactions, pl.col("event_type") != "brand_reply"),
    ):
        contract = contracts[source]
        rows = _rows(landing, contract)
        k = max(1, round(rows.height * fraction))
        candidates = rows.filter(sampled)
        picked = candidates.sample(min(k, candidates.height), seed=int(rng.integers(1 << 31)))
        seconds = rng.integers(0, 86400, picked.height)
        times = [start + timedelta(seconds=int(s)) for s in seconds]
        tag = start.strftime("%Y%m%d")
        frame = make(picked, times, tag, rng)
        _write(frame, landing / source / f"delta_{tag}{Path(contract.files).suffix}", contract)
        written[source] = frame.height
    return written


def _rows(landing: Path, contract: Contract) -> pl.DataFrame:
    """Every row the source has landed, as text under its canonical names."""
    frames = []
    for path in sorted(landing.glob(contract.files)):
        rows, _ = read_text_rows(path, contract)
        frames.append(rows.drop(LINE))
    text = pl.concat(frames, how="diagonal")
    return text.rename({c.source: c.name for c in contract.columns if c.source in text.columns})


def _fmt(times: list[datetime], pattern: str = "%Y-%m-%d %H:%M:%S") -> pl.Series:
    return pl.Series([t.strftime(pattern) for t in times], dtype=pl.String)


def _epoch(times: list[datetime]) -> pl.Series:
    return pl.Series([str(int(datetime.fromisoformat(t.isoformat() + LOCAL).timestamp())) for t in times])


def _ids(prefix: str, tag: str, n: int) -> pl.Series:
    return pl.Series([f"{prefix}{tag}{i:07d}" for i in range(n)], dtype=pl.String)  # typed when empty too


def _halves(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    cut = frame.height * 4 // 5
    return frame.head(cut), frame.tail(frame.height - cut)


def _cards(rows: pl.DataFrame, times, tag, rng) -> pl.DataFrame:
    # new cards with a phone already known elsewhere (fans merge); changed opt-ins on old cards
    new, changed = _halves(rows.with_columns(updated_at=_fmt(times)))
    new = new.with_columns(
        card_no=_ids("D", tag, new.height),
        opened_on=pl.col("updated_at").str.slice(0, 10),
        unionid=NULL,
        wechat_openid=NULL,
        referrer_card_no=NULL,
        points=pl.lit("0"),
    )
    return pl.concat([new, changed.with_columns(sms_opt_in=pl.lit("否"))])


def _followers(rows: pl.DataFrame, times, tag, rng) -> pl.DataFrame:
    latest = rows.with_columns(t=_epoch(times))
    new, gone = _halves(latest)
    new = new.with_columns(
        openid=_ids("oD", tag, new.height),
        unionid=NULL,
        subscribe=pl.lit("1"),
        subscribe_time=pl.col("t"),
        unsubscribe_time=NULL,
        qr_scene_str=pl.lit(""),
    )
    gone = gone.select("openid", "unionid", subscribe=pl.lit("0"), unsubscribe_time=pl.col("t"))
    return pl.concat([new.drop("t"), gone], how="diagonal")


def _orders(rows: pl.DataFrame, times, tag, rng) -> pl.DataFrame:
    rows = rows.with_columns(updated_at=_fmt(times))
    new, late = _halves(rows)
    new = new.with_columns(
        order_id=_ids("9", tag, new.height),
        paid_at=pl.col("updated_at"),
        status=pl.lit("completed"),
        refund_yuan=NULL,
        referral_code=NULL,
    )
    refunds = late.with_columns(status=pl.lit("refunded"), refund_yuan=pl.col("amount_yuan"))  # late refunds
    return pl.concat([new, refunds])


def _receipts(rows: pl.DataFrame, times, tag, rng) -> pl.DataFrame:
    new, old = _halves(rows.with_columns(sold_at=_fmt(times)))
    new = new.with_columns(receipt_no=_ids("R", tag, new.height), original_receipt_no=NULL)
    returns = old.with_columns(  # late returns of old sales
        original_receipt_no=pl.col("receipt_no"), receipt_no=_ids("X", tag, old.height), receipt_type=pl.lit("return")
    )
    return pl.concat([new, returns])


def _interactions(rows: pl.DataFrame, times, tag, rng) -> pl.DataFrame:
    return rows.with_columns(
        event_id=_ids("ED", tag, rows.height), event_time=_fmt(times, "%Y-%m-%dT%H:%M:%S" + LOCAL), reply_to=NULL
    )


def _write(frame: pl.DataFrame, path: Path, contract: Contract) -> None:
    """In the source's format and encoding, under its own headers."""
    frame = frame.select(
        pl.col(c.name).cast(pl.String).alias(c.source) for c in contract.columns if c.name in frame.columns
    )
    if contract.format == "csv":
        buf = io.StringIO()
        frame.write_csv(buf)
        path.write_bytes(buf.getvalue().encode(contract.encoding))
    else:
        lines = (
            json.dumps({k: v for k, v in row.items() if v is not None}, ensure_ascii=False)
            for row in frame.iter_rows(named=True)
        )
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
