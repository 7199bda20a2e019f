"""A critical Great Expectations failure blocks the assets downstream of the source."""

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from ingestion.batches import BatchError, drop, release
from orchestration.checks import build_freshness_check, build_raw_check
from orchestration.raw_assets import build_raw_asset, raw_key
from orchestration.resources import LandingFolder, ShopApi, WeChatApi
from tests.support.inputs import write

HEADER = "订单号,手机,付款时间,金额,状态,会员\n"


def run(tmp_path, orders_contract, rows: str | None, *checks):
    """Land orders/a.csv with these rows (None: leave the landing folder as it is) and run."""
    landing = tmp_path / "landing"
    if rows is not None:
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
            "wechat_api": WeChatApi(),  # no API configured: files only
            "shop_api": ShopApi(),
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


def verdicts(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        return conn.execute("select verdict, rows_validated from raw._batch_verdicts order by validated_at").fetchall()


def test_a_batch_that_failed_stays_held_until_someone_releases_it(tmp_path, orders_contract):
    # issue 12 item 2: the second run used to validate nothing, pass, and let the bad rows flow
    bad = "A1,138,1970-01-01 10:00:00,1.00,completed,是\nA2,138,2099-12-31 10:00:00,1.00,completed,是\n"
    write(tmp_path / "landing" / "orders" / "b.csv", HEADER + "B1,138,2025-03-01 10:00:00,1.00,completed,是\n")
    first, built = run(tmp_path, orders_contract, bad)
    assert not first.passed and first.severity == dg.AssetCheckSeverity.ERROR and built == []
    # each file is a batch: only the one with the bad rows is held
    assert sorted(verdicts(tmp_path)) == [("held", 2), ("passed", 1)]
    second, built = run(tmp_path, orders_contract, bad)  # nothing new: the held batch is still reported
    assert not second.passed and second.severity == dg.AssetCheckSeverity.WARN
    assert "1 batch(es) held" in second.description and "orders/a.csv" in second.description
    assert "orders/b.csv" not in second.description
    assert built == [True], "held rows are out of staging: the rest of the warehouse builds"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        (batch_id,) = conn.execute("select batch_id from raw._batch_verdicts where verdict = 'held'").fetchone()
        assert release(conn, batch_id, "the dates are right: a test shop") == "online_orders"
        with pytest.raises(BatchError, match="released, not held"):
            release(conn, batch_id, "twice")
    third, _ = run(tmp_path, orders_contract, bad)
    assert third.passed and sorted(verdicts(tmp_path)) == [("passed", 1), ("released", 2)]


def test_a_dropped_batch_moves_its_rows_to_the_rejects_and_can_be_landed_again_fixed(tmp_path, orders_contract):
    run(
        tmp_path, orders_contract, "A1,138,2099-12-31 10:00:00,1.00,completed,是\nA2,138,2025-01-01 10:00:00,1.00,,是\n"
    )
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        (batch_id,) = conn.execute("select batch_id from raw._batch_verdicts").fetchone()
        assert drop(conn, batch_id, "typo in the shop's export") == ("online_orders", 2)
        assert conn.execute("select count(*) from raw.online_orders").fetchone() == (0,)
        rejects = conn.execute("select _line_number, reason from raw._rejects order by 1").fetchall()
        assert [line for line, _ in rejects] == [2, 3]
        assert all("dropped after failing validation: typo in the shop's export" in r for _, r in rejects)
        ledger = conn.execute("select status, rows_read, rows_loaded, rows_rejected from raw._load_ledger").fetchall()
        assert ledger == [("dropped", 2, 0, 2)], "every row read is still accounted for"
    # the dropped file, unchanged, is not read again; the fixed file loads and passes
    same, _ = run(tmp_path, orders_contract, None)
    assert same.passed and same.metadata["rows validated"].value == 0
    fixed, built = run(tmp_path, orders_contract, "A1,138,2025-12-31 10:00:00,1.00,completed,是\n")
    assert fixed.passed and built == [True] and verdicts(tmp_path)[-1] == ("passed", 1)
