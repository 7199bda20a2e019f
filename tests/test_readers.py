"""Readers: every kind of bad file and bad row, with hand-made inputs."""

import json
from datetime import datetime
from decimal import Decimal

import polars as pl
import pytest

from ingestion.readers import LINE, FileError, read_file
from tests.conftest import write

HEADER = "订单号,手机,付款时间,金额,状态,会员\n"


def test_good_rows_are_typed_under_canonical_names(tmp_path, orders_contract):
    path = write(
        tmp_path / "o.csv",
        HEADER + "A1,13812345678,2025-03-01 10:00:00,12.30,completed,是\nA2,,2025-03-02 11:00:00,0.00,refunded,否\n",
    )
    good, rejects = read_file(path, orders_contract)
    assert rejects.height == 0
    assert good.columns == ["order_id", "mobile", "paid_at", "amount_yuan", "status", "vip", LINE]
    assert good.row(0) == ("A1", "13812345678", datetime(2025, 3, 1, 10), Decimal("12.30"), "completed", True, 2)
    assert good.row(1) == ("A2", None, datetime(2025, 3, 2, 11), Decimal("0.00"), "refunded", False, 3)


def test_bad_rows_are_rejected_with_line_column_and_reason(tmp_path, orders_contract):
    path = write(
        tmp_path / "o.csv",
        HEADER
        + "A1,138,2025-03-01 10:00:00,12.30,completed,是\n"  # line 2: good
        + "A2,138,2025-13-01 10:00:00,12.30,completed,是\n"  # line 3: bad month
        + ",138,2025-03-01 10:00:00,12.30,completed,是\n"  # line 4: no order id
        + "A4,138,2025-03-01 10:00:00,-1.00,completed,是\n"  # line 5: negative
        + "A5,138,2025-03-01 10:00:00,12,3O,completed,是\n"  # line 6: 7 fields
        + "A6,138,2025-03-01 10:00:00,abc,completed,也许\n",
    )  # line 7: two problems
    good, rejects = read_file(path, orders_contract)
    assert good["order_id"].to_list() == ["A1"]
    by_line = {r[LINE]: r for r in rejects.to_dicts()}
    assert sorted(by_line) == [3, 4, 5, 6, 7]
    assert (
        by_line[3]["column_name"] == "paid_at"
        and "'2025-13-01 10:00:00' is not a valid datetime" in by_line[3]["reason"]
    )
    assert by_line[4]["column_name"] == "order_id" and "required value missing" in by_line[4]["reason"]
    assert by_line[5]["column_name"] == "amount_yuan" and "below the minimum 0" in by_line[5]["reason"]
    assert "7 fields where the header has 6" in by_line[6]["reason"]
    assert "amount_yuan" in by_line[7]["reason"] and "vip" in by_line[7]["reason"]
    assert json.loads(by_line[7]["record"])["金额"] == "abc"


def test_gbk_file_reads_with_its_contract_encoding(tmp_path, orders_contract):
    contract = orders_contract.__class__(**{**orders_contract.__dict__, "encoding": "gbk"})
    path = write(tmp_path / "o.csv", HEADER + "A1,13812345678,2025-03-01 10:00:00,1.00,completed,是\n", "gbk")
    good, _ = read_file(path, contract)
    assert good["vip"].to_list() == [True]


def test_wrong_encoding_fails_the_file_naming_it(tmp_path, orders_contract):
    path = write(tmp_path / "o.csv", HEADER + "A1,1,2025-03-01 10:00:00,1.00,completed,是\n", "gbk")
    with pytest.raises(FileError, match=r"o\.csv: not valid utf-8 at byte \d+"):
        read_file(path, orders_contract)


def test_missing_required_column_fails_the_file(tmp_path, orders_contract):
    path = write(tmp_path / "o.csv", "订单号,手机,付款时间,状态\nA1,1,2025-03-01 10:00:00,completed\n")
    with pytest.raises(FileError, match="missing required column.*金额"):
        read_file(path, orders_contract)


def test_missing_optional_column_reads_as_null(tmp_path, orders_contract):
    path = write(tmp_path / "o.csv", "订单号,付款时间,金额\nA1,2025-03-01 10:00:00,1.00\n")
    good, rejects = read_file(path, orders_contract)
    assert rejects.height == 0 and good["mobile"].to_list() == [None]


def test_truncated_csv_fails_the_file(tmp_path, orders_contract):
    path = write(tmp_path / "o.csv", HEADER + "A1,1,2025-03-01 10:00:00,1.00,completed,是\nA2,1,2025-03-0")
    with pytest.raises(FileError, match="truncated"):
        read_file(path, orders_contract)


def test_complete_last_line_without_line_break_is_fine(tmp_path, orders_contract):
    path = write(tmp_path / "o.csv", HEADER + "A1,1,2025-03-01 10:00:00,1.00,completed,是")
    good, rejects = read_file(path, orders_contract)
    assert good.height == 1 and rejects.height == 0


def test_empty_file_fails(tmp_path, orders_contract):
    with pytest.raises(FileError, match="empty"):
        read_file(write(tmp_path / "o.csv", ""), orders_contract)


def test_jsonl_times_become_china_wall_clock(tmp_path, events_contract):
    # 1735689600 is 2025-01-01 00:00:00 UTC, i.e. 08:00 in China.
    path = write(
        tmp_path / "e.jsonl",
        '{"id": "e1", "user": "u1", "time": "2025-01-01T09:30:00+08:00", "followed": 1735689600, "n": 3}\n',
    )
    good, rejects = read_file(path, events_contract)
    assert rejects.height == 0
    assert good.row(0)[:5] == ("e1", "u1", datetime(2025, 1, 1, 9, 30), datetime(2025, 1, 1, 8, 0), 3)


def test_malformed_json_line_is_rejected_and_the_rest_loads(tmp_path, events_contract):
    lines = [
        '{"id": "e1", "user": "u1", "time": "2025-01-01T09:30:00+08:00"}',
        '{"id": "e2", "user": "u1", "ti',
        "[1, 2]",
        "",
        '{"id": "e3", "user": "u2", "time": "2025-01-02T09:30:00+08:00", "n": -4}',
        '{"id": "e4", "user": "u2", "time": "2025-01-03T09:30:00+08:00"}',
    ]
    good, rejects = read_file(write(tmp_path / "e.jsonl", "\n".join(lines) + "\n"), events_contract)
    assert good["event_id"].to_list() == ["e1", "e4"]
    assert good[LINE].to_list() == [1, 6]
    assert sorted(rejects[LINE].to_list()) == [2, 3, 5]


def test_truncated_jsonl_fails_the_file(tmp_path, events_contract):
    path = write(tmp_path / "e.jsonl", '{"id": "e1", "user": "u1", "time": "2025-01-01T09:30:00+08:00"}\n{"id": "e2"')
    with pytest.raises(FileError, match="truncated"):
        read_file(path, events_contract)


def test_jsonl_without_a_required_key_anywhere_fails(tmp_path, events_contract):
    path = write(tmp_path / "e.jsonl", '{"id": "e1", "time": "2025-01-01T09:30:00+08:00"}\n')
    with pytest.raises(FileError, match="missing required column.*user"):
        read_file(path, events_contract)


def test_parquet_goes_through_the_same_contract(tmp_path, orders_contract):
    contract = orders_contract.__class__(**{**orders_contract.__dict__, "format": "parquet"})
    path = tmp_path / "o.parquet"
    pl.DataFrame(
        {"订单号": ["A1", "A2"], "付款时间": ["2025-03-01 10:00:00", "bad"], "金额": [1.5, 2.0]}
    ).write_parquet(path)
    good, rejects = read_file(path, contract)
    assert good["amount_yuan"].to_list() == [Decimal("1.50")]
    assert rejects[LINE].to_list() == [2]


def test_damaged_parquet_fails_the_file(tmp_path, orders_contract):
    contract = orders_contract.__class__(**{**orders_contract.__dict__, "format": "parquet"})
    path = tmp_path / "o.parquet"
    pl.DataFrame({"订单号": ["A1"]}).write_parquet(path)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(FileError, match="not a readable Parquet file"):
        read_file(path, contract)


def test_another_brands_headers_are_a_contract_change(tmp_path, orders_contract):
    """A brand exporting English headers in GBK needs a new YAML, no code."""
    from ingestion.contracts import load_contract
    from tests.conftest import ORDERS_CONTRACT

    english = (
        ORDERS_CONTRACT.replace("订单号", "OrderNo")
        .replace("付款时间", "PaidTime")
        .replace("金额", "Total")
        .replace("format: csv", "format: csv\nencoding: gbk")
    )
    contract = load_contract(write(tmp_path / "brand_b.yml", english))
    path = write(tmp_path / "b.csv", "OrderNo,PaidTime,Total,手机\nB1,2025-05-05 05:05:05,9.99,13912345678\n", "gbk")
    good, _ = read_file(path, contract)
    assert good.select("order_id", "mobile", "amount_yuan").row(0) == ("B1", "13912345678", Decimal("9.99"))
