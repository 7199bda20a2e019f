"""A critical Great Expectations failure blocks the assets downstream of the source."""

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from orchestration.checks import build_freshness_check, build_raw_check
from orchestration.raw_assets import build_raw_asset, raw_key
from orchestration.resources import LandingFolder
from tests.conftest import write

HEADER = "订单号,手机,付款时间,金额,状态,会员\n"


def run(tmp_path, orders_contract, rows: str, *checks):
    landing = tmp_path / "landing"
    write(landing / "orders" / "a.csv", HEADER + rows)
    built = []

    @dg.asset(deps=[raw_key("online_orders")])
    def downstream():
        built.append(True)

    result = dg.materialize(
        [build_raw_asset(orders_contract), *(checks or [build_raw_check(orders_contract)]), downstream],
        resources={
            "duckdb": DuckDBResource(database=str(tmp_path / "w.duckdb")),
            "landing": LandingFolder(path=str(landing)),
        },
        raise_on_error=False,
    )
    evaluations = result.get_asset_check_evaluations()
    return (evaluations[0] if len(evaluations) == 1 else evaluations), built


def test_clean_batch_passes_and_downstream_builds(tmp_path, orders_contract):
    check, built = run(tmp_path, orders_contract, "A1,138,2025-03-01 10:00:00,1.00,completed,是\n")
    assert check.passed and built == [True]


def test_a_timestamp_out_of_range_blocks_downstream(tmp_path, orders_contract):
    # the reader accepts 1999 (it parses); the suite's sane range starts in 2000
    check, built = run(tmp_path, orders_contract, "A1,138,1999-03-01 10:00:00,1.00,completed,是\n")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert built == []


def test_an_unknown_status_warns_without_blocking(tmp_path, orders_contract):
    check, built = run(tmp_path, orders_contract, "A1,138,2025-03-01 10:00:00,1.00,lost,是\n")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert built == [True]


def test_a_run_that_loads_nothing_new_validates_nothing_again(tmp_path, orders_contract):
    first, _ = run(tmp_path, orders_contract, "A1,138,2025-03-01 10:00:00,1.00,completed,是\n")
    second, built = run(tmp_path, orders_contract, "A1,138,2025-03-01 10:00:00,1.00,completed,是\n")
    assert first.metadata["rows validated"].value == 1
    assert second.passed and second.metadata["rows validated"].value == 0 and built == [True]


def test_a_source_with_nothing_new_for_too_long_fails_its_freshness_check(tmp_path, orders_contract):
    rows = "A1,138,2025-03-01 10:00:00,1.00,completed,是\n"
    fresh, _ = run(tmp_path, orders_contract, rows, build_freshness_check(orders_contract))
    assert fresh.passed and fresh.check_name == "freshness"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:  # the last new rows came 3 days ago
        conn.execute("update raw._load_ledger set loaded_at = loaded_at - interval 72 hours")
    stale, built = run(tmp_path, orders_contract, rows, build_freshness_check(orders_contract))
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.ERROR
    assert "nothing new for 72.0 hours (limit 36)" in stale.description
    assert built == [True], "a stale source warns; it does not stop the run"
