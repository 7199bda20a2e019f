"""Readers: every kind of bad file and bad row, with hand-made inputs."""

import json
from datetime import datetime
from decimal import Decimal

import polars as pl
import pytest

from ingestion.readers import LINE, FileError, read_file
from tests.support.inputs import write

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


def test_jsonl_lines_are_found_on_the_bytes_whatever_their_ends(tmp_path, events_contract):
    # CRLF line ends, an object padded with spaces, a blank line, a cut-off line, and (second
    # file) a line shaped like an object that is not JSON, which only a parser can tell
    e = '{{"id": "e{n}", "user": "u1", "time": "2025-01-01T09:30:00+08:00"}}'
    text = "\r\n".join([e.format(n=1), "  " + e.format(n=2) + " ", "", '{"id": "e3", "us', e.format(n=4)]) + "\r\n"
    good, rejects = read_file(write(tmp_path / "a.jsonl", text), events_contract)
    assert dict(zip(good["event_id"], good[LINE], strict=True)) == {"e1": 1, "e2": 2, "e4": 5}
    assert rejects.select(LINE, "record").rows() == [(4, '{"id": "e3", "us')]
    text = "\n".join([e.format(n=1), '{"id": "e2", "user": }', e.format(n=3)]) + "\n"
    good, rejects = read_file(write(tmp_path / "b.jsonl", text), events_contract)
    assert dict(zip(good["event_id"], good[LINE], strict=True)) == {"e1": 1, "e3": 3}
    assert rejects[LINE].to_list() == [2]


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
    from tests.support.inputs import ORDERS_CONTRACT

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


def test_line_numbers_are_the_lines_a_person_opens_the_file_at(tmp_path, orders_contract):
    # issue 12 item 9: a quoted field with a line break inside (a CRLF export from Weibo) used
    # to make every later reject point one line too early
    text = (
        HEADER.replace("\n", "\r\n")
        + 'A1,138,2025-03-01 10:00:00,1.00,"completed",是\r\n'  # line 2
        + 'A2,"138\r\n139",2025-03-01 10:00:00,1.00,completed,是\r\n'  # lines 3-4: one record
        + "A3,138,2025-03-01 10:00:00,-1.00,completed,是\r\n"  # line 5: negative amount
        + "A4,138,2025-03-01 10:00:00,1.00,completed,是\r\n"  # line 6
    )
    good, rejects = read_file(write(tmp_path / "o.csv", text), orders_contract)
    assert dict(zip(good["order_id"], good[LINE], strict=True)) == {"A1": 2, "A2": 3, "A4": 6}
    assert rejects[LINE].to_list() == [5]
    # the slow path (a row with too many fields after the quoted break) counts lines the same way
    text += "A5,138,2025-03-01 10:00:00,12,3O,completed,是\r\nA6,138,2025-03-01 10:00:00,1.00,completed,是\r\n"
    good, rejects = read_file(write(tmp_path / "o.csv", text), orders_contract)
    assert dict(zip(good["order_id"], good[LINE], strict=True)) == {"A1": 2, "A2": 3, "A4": 6, "A6": 8}
    assert sorted(rejects[LINE].to_list()) == [5, 7]


def test_a_text_over_its_maximum_length_is_rejected_naming_the_column(tmp_path, orders_contract):
    # issue 12 item 10: a 10 MB nickname used to load and reach fan_name whole
    huge = "飞" * 5000  # over the default limit for text (1,000 characters)
    path = write(
        tmp_path / "o.csv",
        HEADER + f"A1,138,2025-03-01 10:00:00,1.00,{huge},是\nA2,138,2025-03-01 10:00:00,1.00,completed,是\n",
    )
    good, rejects = read_file(path, orders_contract)
    assert good["order_id"].to_list() == ["A2"]
    (reject,) = rejects.to_dicts()
    assert reject[LINE] == 2 and reject["column_name"] == "status"
    assert "5000 characters, over the maximum of 1000" in reject["reason"]
    assert len(reject["record"]) < 3000, "the reject keeps the start of the value, not 5,000 characters"
    # a contract sets its own limit
    contract = orders_contract.__class__(
        **{
            **orders_contract.__dict__,
            "columns": tuple(
                c.__class__(**{**c.__dict__, "max_length": 3}) if c.name == "order_id" else c
                for c in orders_contract.columns
            ),
        }
    )
    good, rejects = read_file(
        write(tmp_path / "p.csv", HEADER + "A123,1,2025-03-01 10:00:00,1,completed,是\n"), contract
    )
    assert good.height == 0 and rejects["column_name"].to_list() == ["order_id"]


def test_a_column_missing_from_the_header_is_named(tmp_path, orders_contract):
    # issue 12 item 7: a renamed 手机号 used to load every phone as null without a word
    from ingestion.readers import read_text_rows

    path = write(tmp_path / "o.csv", "订单号,手机号码,付款时间,金额\nA1,138,2025-03-01 10:00:00,1.00\n")
    rows, _ = read_text_rows(path, orders_contract)
    assert [c.source for c in orders_contract.columns if c.source not in rows.columns] == ["手机", "状态", "会员"]
    jsonl = write(tmp_path / "e.jsonl", '{"id": "e1", "user": "u1", "time": "2025-01-01T09:30:00+08:00"}\n')
    rows, _ = read_text_rows(jsonl, load_events_contract(tmp_path))
    assert "followed" not in rows.columns and "n" not in rows.columns and "user" in rows.columns


def test_a_column_the_contract_requires_fails_the_file_when_absent(tmp_path):
    from ingestion.contracts import load_contract
    from tests.support.inputs import ORDERS_CONTRACT

    text = ORDERS_CONTRACT.replace("{from: 手机, type: string,", "{from: 手机, type: string, column_required: true,")
    contract = load_contract(write(tmp_path / "c" / "online_orders.yml", text))
    path = write(tmp_path / "o.csv", "订单号,手机号码,付款时间,金额\nA1,138,2025-03-01 10:00:00,1.00\n")
    with pytest.raises(FileError, match="missing required column.*手机"):
        read_file(path, contract)
    good, _ = read_file(
        write(tmp_path / "p.csv", "订单号,手机,付款时间,金额\nA1,,2025-03-01 10:00:00,1.00\n"), contract
    )
    assert good["mobile"].to_list() == [None], "a required column may still have empty values"


def load_events_contract(tmp_path):
    from ingestion.contracts import load_contract
    from tests.support.inputs import EVENTS_CONTRACT

    return load_contract(write(tmp_path / "c" / "events.yml", EVENTS_CONTRACT))


def test_a_key_the_source_leaves_out_when_empty_is_not_reported_missing(tmp_path):
    from ingestion.contracts import load_contract
    from ingestion.readers import missing_columns, read_text_rows
    from tests.support.inputs import EVENTS_CONTRACT

    text = EVENTS_CONTRACT.replace("{from: n, type: integer,", "{from: n, type: integer, may_be_absent: true,")
    contract = load_contract(write(tmp_path / "c" / "events.yml", text))
    jsonl = write(tmp_path / "e.jsonl", '{"id": "e1", "user": "u1", "time": "2025-01-01T09:30:00+08:00"}\n')
    rows, _ = read_text_rows(jsonl, contract)
    assert missing_columns(rows, contract) == ["followed"]


def test_small_csv_files_are_parsed_together_and_keep_their_own_lines(tmp_path, orders_contract, monkeypatch):
    # a store's POS export of a day is a small file: thousands are parsed in one go, not one by one
    from ingestion import readers

    row = "A{n},138,2025-03-01 10:00:00,1.00,completed,是\n"
    files = [
        write(tmp_path / "a.csv", HEADER + row.format(n=1) + row.format(n=2)),
        write(tmp_path / "b.csv", "\ufeff" + (HEADER + row.format(n=3)).replace("\n", "\r\n")),  # BOM, CRLF
        write(tmp_path / "c.csv", HEADER),  # no rows
        write(tmp_path / "d.csv", HEADER + row.format(n=4) + "A5,138,2025-03-01 10:00:00,-1.00,completed,是\n"),
    ]
    # b.csv's header line ends with \r\n: it is read on its own; the other three together
    calls = []
    original = readers._csv_rows
    monkeypatch.setattr(readers, "_csv_rows", lambda path, *rest: calls.append(path.name) or original(path, *rest))
    read = readers.read_text_files([(f, f.read_bytes()) for f in files], orders_contract)
    assert calls == ["b.csv"]
    rows = {f.name: dict(zip(r["订单号"], r[LINE], strict=True)) for f, (r, _) in zip(files, read, strict=True)}
    assert rows == {"a.csv": {"A1": 2, "A2": 3}, "b.csv": {"A3": 2}, "c.csv": {}, "d.csv": {"A4": 2, "A5": 3}}
    assert [unreadable.height for _, unreadable in read] == [0, 0, 0, 0]


def test_one_odd_file_sends_the_small_files_back_to_one_by_one(tmp_path, orders_contract):
    # a quoted line break makes a record span lines, a row with a field too many fails polars'
    # parse: either would shift the other files' line numbers, so each is read on its own
    from ingestion.readers import read_text_files

    row = "A{n},138,2025-03-01 10:00:00,1.00,completed,是\n"
    a = write(tmp_path / "a.csv", HEADER + row.format(n=1))
    spanning = 'B1,"138\n139",2025-03-01 10:00:00,1.00,completed,是\n'  # lines 2-3: one record
    quoted = write(tmp_path / "b.csv", HEADER + spanning + row.format(n=2))
    wide = write(tmp_path / "c.csv", HEADER + row.format(n=3) + "C2,138,2025-03-01 10:00:00,12,3O,completed,是\n")
    cut = write(tmp_path / "d.csv", HEADER + "A4,138")
    e = write(tmp_path / "e.csv", HEADER + row.format(n=5))

    def lines(files):
        read = read_text_files([(f, f.read_bytes()) for f in files], orders_contract)
        return [r if isinstance(r, FileError) else dict(zip(r[0]["订单号"], r[0][LINE], strict=True)) for r in read]

    assert lines([a, quoted, e]) == [{"A1": 2}, {"B1": 2, "A2": 4}, {"A5": 2}]
    assert lines([a, wide, e]) == [{"A1": 2}, {"A3": 2}, {"A5": 2}]
    odd = lines([a, cut, e])
    assert isinstance(odd[1], FileError) and "truncated" in str(odd[1]) and odd[::2] == [{"A1": 2}, {"A5": 2}]
    read = read_text_files([(wide, wide.read_bytes())], orders_contract)
    assert read[0][1][LINE].to_list() == [3]  # the row with a field too many, rejected by its line
