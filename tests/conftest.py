"""Shared fixtures: small hand-readable contracts, an isolated environment for a pipeline run,
and the dbt manifest that dagster-dbt needs before the definitions can load."""

import pytest

from ingestion.contracts import load_contract
from orchestration.project import prepare_dbt
from tests.support.inputs import EVENTS_CONTRACT, ORDERS_CONTRACT, isolate, write


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
    isolate(monkeypatch, tmp_path)
    return tmp_path
