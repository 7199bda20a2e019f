"""Great Expectations suites built from contracts, run in DuckDB: critical failures, warnings,
and the batches the unexpected rows came from."""

from datetime import date, datetime
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from ingestion.validation import validate_batches

NOW = datetime(2026, 1, 1)


def rows(**overrides):
    base = {
        "order_id": ["A1", "A2"],
        "mobile": ["13812345678", None],
        "paid_at": [datetime(2025, 3, 1), datetime(2025, 3, 2)],
        "amount_yuan": [Decimal("1.00"), Decimal("2.50")],
        "status": ["completed", "refunded"],
        "vip": [True, False],
        "_batch_id": ["b1", "b1"],
    }
    base.update(overrides)
    return pl.DataFrame(base, schema_overrides={"amount_yuan": pl.Decimal(18, 2)})


@pytest.fixture
def conn():
    with duckdb.connect() as c:
        c.execute("create schema raw")
        yield c


def validate(conn, frame, contract, batch_ids=("b1",)):
    """Land the rows in raw as a load would, then judge the batches."""
    conn.register("frame", frame)
    conn.execute(f"create or replace table raw.{contract.source} as select * from frame")
    conn.unregister("frame")
    outcomes, _ = validate_batches(conn, contract, list(batch_ids), now=NOW)
    return outcomes


def failed(outcomes):
    return {(o.expectation, o.column, o.critical, o.unexpected) for o in outcomes if not o.success}


def test_clean_rows_pass(conn, orders_contract):
    outcomes = validate(conn, rows(), orders_contract)
    assert outcomes and all(o.success for o in outcomes)


def test_missing_key_negative_amount_and_old_timestamp_are_critical(conn, orders_contract):
    bad = rows(
        order_id=["A1", None],
        amount_yuan=[Decimal("-1.00"), Decimal("2.50")],
        paid_at=[datetime(1999, 12, 31), datetime(2025, 3, 2)],
    )
    assert failed(validate(conn, bad, orders_contract)) == {
        ("expect_column_values_to_not_be_null", "order_id", True, 1),
        ("expect_column_values_to_be_between", "amount_yuan", True, 1),
        ("expect_column_values_to_be_between", "paid_at", True, 1),
    }


def test_a_future_timestamp_is_critical(conn, orders_contract):
    future = rows(paid_at=[datetime(2025, 3, 1), datetime(2026, 1, 3)])
    assert failed(validate(conn, future, orders_contract)) == {
        ("expect_column_values_to_be_between", "paid_at", True, 1)
    }


def test_an_unknown_enumeration_value_only_warns(conn, orders_contract):
    outcomes = validate(conn, rows(status=["completed", "lost_in_post"]), orders_contract)
    assert failed(outcomes) == {("expect_column_values_to_be_in_set", "status", False, 1)}


def test_each_failure_names_only_the_batches_with_unexpected_rows(conn, orders_contract):
    """Three batches: b1 has a negative amount, b2 a missing key and a negative amount, b3 is
    clean (and b4, already judged, has a bad row but is not in this validation)."""
    frame = pl.concat(
        [
            rows(amount_yuan=[Decimal("-1.00"), Decimal("2.50")]),
            rows(order_id=[None, "B2"], amount_yuan=[Decimal("3.00"), Decimal("-0.01")], _batch_id=["b2", "b2"]),
            rows(order_id=["C1", "C2"], _batch_id=["b3", "b3"]),
            rows(order_id=[None, "D2"], _batch_id=["b4", "b4"]),
        ]
    )
    conn.register("frame", frame)
    conn.execute("create table raw.online_orders as select * from frame")
    conn.unregister("frame")
    outcomes, validated = validate_batches(conn, orders_contract, ["b1", "b2", "b3"], now=NOW)
    assert validated == 6
    by_check = {(o.expectation, o.column): o for o in outcomes if not o.success}
    assert set(by_check) == {
        ("expect_column_values_to_be_between", "amount_yuan"),
        ("expect_column_values_to_not_be_null", "order_id"),
    }
    assert by_check["expect_column_values_to_be_between", "amount_yuan"].unexpected == 2
    assert by_check["expect_column_values_to_be_between", "amount_yuan"].batches == {"b1", "b2"}
    assert by_check["expect_column_values_to_not_be_null", "order_id"].batches == {"b2"}
    # the view Great Expectations read is gone: the warehouse holds the source's table only
    assert conn.execute("select table_schema, table_name from information_schema.tables").fetchall() == [
        ("raw", "online_orders")
    ]


def test_dates_are_compared_with_the_earliest_plausible_day(conn, tmp_path):
    """A date column (a birthday) before 1900 is critical; 1900-01-01 itself is not."""
    from ingestion.contracts import load_contract
    from tests.support.inputs import write

    contract = load_contract(
        write(
            tmp_path / "member_cards.yml",
            """
source: member_cards
description: test cards
files: "cards/*.csv"
format: csv
key: card_no
columns:
  card_no: {from: 卡号, type: string, required: true}
  birthday: {from: 生日, type: date, format: "%Y-%m-%d"}
""",
        )
    )
    frame = pl.DataFrame(
        {"card_no": ["1", "2", "3"], "birthday": [date(1899, 12, 31), date(1900, 1, 1), None], "_batch_id": ["b1"] * 3}
    )
    assert failed(validate(conn, frame, contract)) == {("expect_column_values_to_be_between", "birthday", True, 1)}
