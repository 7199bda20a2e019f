"""The raw layer for Spark (batches as Parquet files in the lake) and the way back (the tables a
Spark build wrote, as views in the DuckDB warehouse), on hand-made tables."""

from datetime import date

import duckdb
import pytest

from ingestion.lake import attach_spark_tables, detach_spark_tables, spark_table_folder, sync_raw, table_folder


@pytest.fixture
def warehouse():
    conn = duckdb.connect()
    conn.execute("create schema raw")
    conn.execute("create table raw.member_cards as select * from (values ('B1', 'c1'), ('B1', 'c2'), ('B:2', 'c3')) "
                 "as t(_batch_id, card_no)")  # fmt: skip
    conn.execute("create table raw.erasure_requests (_batch_id varchar, request_id varchar)")
    conn.execute("create table raw._batch_verdicts as select 'B1' as batch_id, 'passed' as verdict")
    yield conn
    conn.close()


def files(folder):
    return sorted(path.name for path in folder.iterdir())


def test_each_batch_is_one_file_and_a_second_sync_writes_nothing(warehouse, tmp_path):
    first = sync_raw(warehouse, tmp_path)
    cards = table_folder(tmp_path, "member_cards")
    assert files(cards) == ["batch-B1-2.parquet", "batch-B_2-1.parquet"]
    assert (first.written, first.removed, first.kept) == (2, 0, 0)
    assert warehouse.execute(f"select count(*) from read_parquet('{cards}/*.parquet')").fetchone() == (3,)
    # a table without batches still has a file with its columns; the verdicts' folder has no "_"
    assert files(table_folder(tmp_path, "erasure_requests")) == ["empty.parquet"]
    assert files(tmp_path / "raw" / "batch_verdicts") == ["verdicts.parquet"]
    second = sync_raw(warehouse, tmp_path)
    assert (second.written, second.removed, second.kept) == (0, 0, 2)


def test_a_dropped_batch_leaves_the_lake(warehouse, tmp_path):
    sync_raw(warehouse, tmp_path)
    warehouse.execute("delete from raw.member_cards where _batch_id = 'B:2'")  # scrm batches drop
    result = sync_raw(warehouse, tmp_path)
    assert (result.written, result.removed) == (0, 1)
    assert files(table_folder(tmp_path, "member_cards")) == ["batch-B1-2.parquet"]


def test_spark_tables_become_views_and_a_duckdb_build_drops_them(tmp_path):
    conn = duckdb.connect()
    conn.execute("create schema marts")
    conn.execute("create table marts.fans as select 'from a DuckDB build' as fan_id")
    fans = spark_table_folder(tmp_path, "marts", "fans")
    fans.mkdir(parents=True)
    conn.execute(f"copy (select 'F1' as fan_id) to '{fans / 'part-00000.parquet'}' (format parquet)")
    weekly = spark_table_folder(tmp_path, "marts", "fan_trust_weekly") / "week_start_date=2026-11-09"
    weekly.mkdir(parents=True)
    conn.execute(f"copy (select 'F1' as fan_id) to '{weekly / 'part-00000.parquet'}' (format parquet)")

    assert attach_spark_tables(conn, tmp_path, [("marts", "fans"), ("marts", "fan_trust_weekly")]) == 2
    assert conn.execute("select fan_id from marts.fans").fetchall() == [("F1",)]
    assert conn.execute("select fan_id, week_start_date from marts.fan_trust_weekly").fetchall() == [
        ("F1", date(2026, 11, 9))
    ]
    with pytest.raises(FileNotFoundError, match="marts.db/orders"):
        attach_spark_tables(conn, tmp_path, [("marts", "orders")])

    assert detach_spark_tables(conn, tmp_path) == 2
    assert conn.execute("select count(*) from duckdb_views() where not internal").fetchone() == (0,)
