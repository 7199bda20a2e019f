"""Great Expectations suites built from contracts: critical failures and warnings."""

from datetime import datetime
from decimal import Decimal

import polars as pl

from ingestion.validation import validate


def rows(**overrides):
    base = {
        "order_id": ["A1", "A2"],
        "mobile": ["13812345678", None],
        "paid_at": [datetime(2025, 3, 1), datetime(2025, 3, 2)],
        "amount_yuan": [Decimal("1.00"), Decimal("2.50")],
        "status": ["completed", "refunded"],
        "vip": [True, False],
    }
    base.update(overrides)
    return pl.DataFrame(base, schema_overrides={"amount_yuan": pl.Decimal(18, 2)})


def failed(outcomes):
    return {(o.expectation, o.column, o.critical, o.unexpected) for o in outcomes if not o.success}


def test_clean_rows_pass(orders_contract):
    outcomes = validate(rows(), orders_contract, now=datetime(2026, 1, 1))
    assert outcomes and all(o.success for o in outcomes)


def test_missing_key_negative_amount_and_old_timestamp_are_critical(orders_contract):
    bad = rows(
        order_id=["A1", None],
        amount_yuan=[Decimal("-1.00"), Decimal("2.50")],
        paid_at=[datetime(1999, 12, 31), datetime(2025, 3, 2)],
    )
    assert failed(validate(bad, orders_contract, now=datetime(2026, 1, 1))) == {
        ("expect_column_values_to_not_be_null", "order_id", True, 1),
        ("expect_column_values_to_be_between", "amount_yuan", True, 1),
        ("expect_column_values_to_be_between", "paid_at", True, 1),
    }


def test_a_future_timestamp_is_critical(orders_contract):
    future = rows(paid_at=[datetime(2025, 3, 1), datetime(2026, 1, 3)])
    assert failed(validate(future, orders_contract, now=datetime(2026, 1, 1))) == {
        ("expect_column_values_to_be_between", "paid_at", True, 1)
    }


def test_an_unknown_enumeration_value_only_warns(orders_contract):
    outcomes = validate(rows(status=["completed", "lost_in_post"]), orders_contract, now=datetime(2026, 1, 1))
    assert failed(outcomes) == {("expect_column_values_to_be_in_set", "status", False, 1)}
