"""The raw layer: every row lands once, in raw or in the rejects; reloads change nothing."""

import os
from pathlib import Path

import duckdb
import pytest

from ingestion.load import load_source
from tests.support.inputs import write

HEADER = "订单号,手机,付款时间,金额,状态,会员\n"
GOOD = "A{n},13812345678,2025-03-01 10:00:00,1.00,completed,是\n"


def counts(conn):
    raw = conn.execute("select count(*) from raw.online_orders").fetchall()[0][0]
    rejects = conn.execute("select count(*) from raw._rejects").fetchall()[0][0]
    ledger = conn.execute("select count(*) from raw._load_ledger").fetchall()[0][0]
    return raw, rejects, ledger


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        yield connection


def test_every_row_ends_in_raw_or_rejects(tmp_path, conn, orders_contract):
    landing = tmp_path / "landing"
    write(landing / "orders" / "a.csv", HEADER + GOOD.format(n=1) + GOOD.format(n=2) + "A3,1,never,1.00,completed,是\n")
    write(landing / "orders" / "b.csv", HEADER + GOOD.format(n=4))
    report = load_source(conn, orders_contract, landing)
    assert report.summary() == {
        "files_loaded": 2,
        "files_failed": 0,
        "files_skipped": 0,
        "rows_read": 4,
        "rows_loaded": 3,
        "rows_rejected": 1,
    }
    assert counts(conn) == (3, 1, 2)
    rows = conn.execute(
        "select source_file, rows_read, rows_loaded, rows_rejected, status from raw._load_ledger order by source_file"
    ).fetchall()
    assert rows == [("orders/a.csv", 3, 2, 1, "loaded"), ("orders/b.csv", 1, 1, 0, "loaded")]
    lineage = conn.execute("select _source_file, _line_number from raw.online_orders order by order_id").fetchall()
    assert lineage == [("orders/a.csv", 2), ("orders/a.csv", 3), ("orders/b.csv", 2)]


def test_loading_the_same_files_twice_adds_nothing(tmp_path, conn, orders_contract):
    landing = tmp_path / "landing"
    write(landing / "orders" / "a.csv", HEADER + GOOD.format(n=1) + "A2,1,never,1.00,completed,是\n")
    load_source(conn, orders_contract, landing)
    before = counts(conn)
    again = load_source(conn, orders_contract, landing)
    assert again.summary()["files_skipped"] == 1 and again.summary()["rows_read"] == 0
    assert counts(conn) == before == (1, 1, 1)


def test_only_new_or_changed_files_are_read_again(tmp_path, conn, orders_contract, monkeypatch):
    landing = tmp_path / "landing"
    a = write(landing / "orders" / "a.csv", HEADER + GOOD.format(n=1))
    load_source(conn, orders_contract, landing)
    read = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or original(self))
    write(landing / "orders" / "b.csv", HEADER + GOOD.format(n=2))
    again = load_source(conn, orders_contract, landing)
    assert read == ["b.csv"]
    assert [(f.source_file, f.status, f.message) for f in again.files][0] == (
        "orders/a.csv",
        "skipped",
        "unchanged since it was loaded",
    )
    write(a, HEADER + GOOD.format(n=1) + GOOD.format(n=3))  # the file grew: read it again
    read.clear()
    grown = load_source(conn, orders_contract, landing)
    assert read == ["a.csv"] and grown.summary()["rows_loaded"] == 2
    assert counts(conn)[0] == 4  # A1 twice (staging keeps one), A2, A3


def test_a_copy_under_another_name_is_skipped(tmp_path, conn, orders_contract):
    landing = tmp_path / "landing"
    write(landing / "orders" / "a.csv", HEADER + GOOD.format(n=1))
    write(landing / "orders" / "a_copy.csv", HEADER + GOOD.format(n=1))
    report = load_source(conn, orders_contract, landing)
    assert [f.status for f in report.files] == ["loaded", "skipped"]
    assert counts(conn) == (1, 0, 1)


def test_a_landing_folder_copied_without_its_times_is_read_once_then_skipped_unread(
    tmp_path, conn, orders_contract, monkeypatch
):
    # restored from a backup, copied to a new disk: every file gets a new time, the same content
    landing = tmp_path / "landing"
    a = write(landing / "orders" / "a.csv", HEADER + GOOD.format(n=1))
    bad = write(landing / "orders" / "bad.csv", "订单号,付款时间\nB1,2025-03-01 10:00:00\n")  # no amount column
    load_source(conn, orders_contract, landing)
    before = counts(conn)
    for path in (a, bad):
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 3600))
    read = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or original(self))
    copied = load_source(conn, orders_contract, landing)
    assert sorted(read) == ["a.csv", "bad.csv"], "a new time: the content is compared"
    assert [f.message for f in copied.files] == ["already loaded (same content)"] * 2
    read.clear()
    load_source(conn, orders_contract, landing)
    # the loaded content is remembered under its new time; a failed file is read again (under a
    # new contract it may load)
    assert read == ["bad.csv"]
    assert counts(conn) == before


def test_an_unreadable_file_is_recorded_failed_and_the_others_load(tmp_path, conn, orders_contract):
    landing = tmp_path / "landing"
    write(landing / "orders" / "a.csv", HEADER + GOOD.format(n=1))
    write(landing / "orders" / "b.csv", "订单号,付款时间\nB1,2025-03-01 10:00:00\n")  # no amount column
    write(landing / "orders" / "c.csv", HEADER + GOOD.format(n=3), encoding="gbk")
    report = load_source(conn, orders_contract, landing)
    assert [f.status for f in report.files] == ["loaded", "failed", "failed"]
    assert counts(conn) == (1, 0, 3)
    messages = dict(
        conn.execute("select source_file, message from raw._load_ledger where status = 'failed'").fetchall()
    )
    assert "金额" in messages["orders/b.csv"] and "b.csv" in messages["orders/b.csv"]
    assert "not valid utf-8" in messages["orders/c.csv"]
    # the same failed file is not retried (and not recorded again) while the contract is the same
    load_source(conn, orders_contract, landing)
    assert counts(conn) == (1, 0, 3)


def test_a_corrected_file_loads_after_a_failed_one(tmp_path, conn, orders_contract):
    landing = tmp_path / "landing"
    path = write(landing / "orders" / "a.csv", HEADER + "A1,1,2025-03-01 10:00:00,1.00,completed,是\nA2,1,2025-0")
    load_source(conn, orders_contract, landing)
    write(path, HEADER + GOOD.format(n=1) + GOOD.format(n=2))
    load_source(conn, orders_contract, landing)
    statuses = [r[0] for r in conn.execute("select status from raw._load_ledger order by loaded_at").fetchall()]
    assert statuses == ["failed", "loaded"]
    assert counts(conn)[0] == 2


def test_new_contract_columns_are_added_to_raw(tmp_path, conn, orders_contract):
    landing = tmp_path / "landing"
    write(landing / "orders" / "a.csv", HEADER + GOOD.format(n=1))
    load_source(conn, orders_contract, landing)
    from ingestion.contracts import Column

    wider = orders_contract.__class__(
        **{
            **orders_contract.__dict__,
            "columns": (*orders_contract.columns, Column("coupon", "优惠券", "string", "coupon")),
        }
    )
    write(landing / "orders" / "b.csv", HEADER.strip() + ",优惠券\n" + GOOD.format(n=2).strip() + ",C9\n")
    load_source(conn, wider, landing)
    assert conn.execute("select order_id, coupon from raw.online_orders order by 1").fetchall() == [
        ("A1", None),
        ("A2", "C9"),
    ]


def test_a_link_to_a_file_outside_the_landing_folder_is_refused_unread(tmp_path, conn, orders_contract, monkeypatch):
    # issue 12 item 4: a .csv link to /etc/passwd was opened and its first line reached the ledger
    landing = tmp_path / "landing"
    write(landing / "orders" / "a.csv", HEADER + GOOD.format(n=1))
    secret = write(tmp_path / "outside" / "passwd", "root:x:0:0:SECRET-LINE\n")
    (landing / "orders" / "evil.csv").symlink_to(secret)
    (landing / "orders" / "inside.csv").symlink_to(landing / "orders" / "a.csv")  # inside: fine
    opened = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: opened.append(self.name) or real(self))
    report = load_source(conn, orders_contract, landing)
    refused = [f for f in report.files if f.source_file == "orders/evil.csv"]
    assert refused and refused[0].status == "failed"
    assert "outside the landing folder" in refused[0].message
    assert "evil.csv" not in opened and "passwd" not in opened
    everything = str(conn.execute("select * from raw._load_ledger").fetchall())
    everything += str(conn.execute("select * from raw._rejects").fetchall())
    assert "SECRET" not in everything and "SECRET" not in refused[0].message
    assert counts(conn)[0] == 1, "the link inside the landing folder is the same content as a.csv: loaded once"


def test_a_missing_contract_column_is_recorded_per_file(tmp_path, conn, orders_contract):
    # issue 12 item 7: the ledger says which declared columns a file lacks
    landing = tmp_path / "landing"
    write(landing / "orders" / "a.csv", "订单号,手机号码,付款时间,金额,状态,会员\n" + GOOD.format(n=1))
    write(landing / "orders" / "b.csv", HEADER + GOOD.format(n=2))
    report = load_source(conn, orders_contract, landing)
    assert [f.missing_columns for f in report.files] == [["手机"], []]
    rows = conn.execute("select source_file, missing_columns from raw._load_ledger order by 1").fetchall()
    assert rows == [("orders/a.csv", ["手机"]), ("orders/b.csv", [])]
