"""A critical Great Expectations failure blocks the assets downstream of the source."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.checks import build_raw_check
from orchestration.raw_assets import build_raw_asset, raw_key
from orchestration.resources import LandingFolder
from tests.conftest import write

HEADER = "订单号,手机,付款时间,金额,状态,会员\n"


def run(tmp_path, orders_contract, rows: str):
    landing = tmp_path / "landing"
    write(landing / "orders" / "a.csv", HEADER + rows)
    built = []

    @dg.asset(deps=[raw_key("online_orders")])
    def downstream():
        built.append(True)

    result = dg.materialize(
        [build_raw_asset(orders_contract), build_raw_check(orders_contract), downstream],
        resources={
            "duckdb": DuckDBResource(database=str(tmp_path / "w.duckdb")),
            "landing": LandingFolder(path=str(landing)),
        },
        raise_on_error=False,
    )
    (check,) = result.get_asset_check_evaluations()
    return check, built


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
