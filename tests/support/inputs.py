"""Small hand-readable contracts and a file writer, for the tests of every tier."""

from pathlib import Path

import pytest

from orchestration.settings import prepare_dagster_home

ORDERS_CONTRACT = """
source: online_orders
description: test orders
files: "orders/*.csv"
format: csv
key: order_id
columns:
  order_id: {from: 订单号, type: string, required: true}
  mobile: {from: 手机, type: string, identifier: phone}
  paid_at: {from: 付款时间, type: datetime, format: "%Y-%m-%d %H:%M:%S", required: true}
  amount_yuan: {from: 金额, type: decimal, required: true, min: 0}
  status: {from: 状态, type: string, allowed: [completed, refunded]}
  vip: {from: 会员, type: boolean, true_values: [是], false_values: [否]}
"""

EVENTS_CONTRACT = """
source: events
description: test events
files: "events/*.jsonl"
format: jsonl
key: event_id
columns:
  event_id: {from: id, type: string, required: true}
  user_id: {from: user, type: string, required: true}
  at: {from: time, type: datetime, format: "%Y-%m-%dT%H:%M:%S%z", required: true}
  followed: {from: followed, type: epoch_seconds}
  count: {from: n, type: integer, min: 0}
"""


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def isolate(patch: pytest.MonkeyPatch, root: Path) -> None:
    """Point the warehouse, landing folder, exports, serving copy and Dagster instance of a
    pipeline run under root."""
    patch.setenv("SCRM_DUCKDB_PATH", str(root / "warehouse.duckdb"))
    patch.setenv("SCRM_LANDING_DIR", str(root / "landing"))
    patch.setenv("DAGSTER_HOME", str(root / "dagster_home"))
    patch.setenv("SCRM_EXPORT_DIR", str(root / "exports"))
    patch.setenv("SCRM_SERVING_PATH", str(root / "serving" / "warehouse.duckdb"))
    prepare_dagster_home(root / "dagster_home")
