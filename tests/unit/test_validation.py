"""Great Expectations suites built from contracts: critical failures and warnings."""

from datetime import datetime
from decimal import Decimal

import polars as pl

from ingestion.validation import validate, validate_slices


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


def test_a_batch_in_slices_sums_what_each_slice_found(orders_contract):
    """Two slices, each with one negative amount and one clean: 2 unexpected in all, 4 rows."""
    one = rows(amount_yuan=[Decimal("-1.00"), Decimal("2.50")])
    two = rows(order_id=["A3", "A4"], amount_yuan=[Decimal("3.00"), Decimal("-0.01")])
    outcomes, validated = validate_slices([one, two], orders_contract, now=datetime(2026, 1, 1))
    assert validated == 4
    assert failed(outcomes) == {("expect_column_values_to_be_between", "amount_yuan", True, 2)}
    assert len(outcomes) == len(validate(one, orders_contract, now=datetime(2026, 1, 1)))
