"""Shared fixtures: small hand-readable contracts and files, a generated sample, and the dbt
manifest that dagster-dbt needs before the definitions can load."""

from pathlib import Path

import pytest

from ingestion.contracts import load_contract
from orchestration.project import prepare_dbt

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


@pytest.fixture
def orders_contract(tmp_path):
    return load_contract(write(tmp_path / "contracts" / "online_orders.yml", ORDERS_CONTRACT))


@pytest.fixture
def events_contract(tmp_path):
    return load_contract(write(tmp_path / "contracts" / "events.yml", EVENTS_CONTRACT))


@pytest.fixture(scope="session")
def dbt_manifest():
    """dagster-dbt reads the manifest at import: parse the project once per session."""
    return prepare_dbt()


@pytest.fixture
def isolated_env(tmp_path, monkeypatch):
    """Warehouse, landing folder, exports, serving copy and Dagster instance in a temporary folder."""
    monkeypatch.setenv("SCRM_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("SCRM_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("SCRM_EXPORT_DIR", str(tmp_path / "exports"))
    monkeypatch.setenv("SCRM_SERVING_PATH", str(tmp_path / "serving" / "warehouse.duckdb"))
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return tmp_path
