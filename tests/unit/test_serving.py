"""The serving copy: what a crashed publish left behind is cleaned up."""

import json
import subprocess
import sys
from datetime import datetime

import duckdb

from activation.serving import publish

MARTS = {
    "fans": "'F1' as fan_id, 'w' as fan_name, now() as first_seen_at, now() as last_seen_at",
    "fan_360": "'F1' as fan_id, 'c' as city, 'fan' as ladder_rung, 'loyal' as rfm_segment",
    "orders": "'F1' as fan_id",
    "fan_lifecycle": "'fan' as ladder_rung, 3 as ladder_level",
    "lifecycle_funnel": "1 as n",
    "channel_overlap": "1 as n",
    "referral_campaigns": "1 as n",
    "referral_advocates": "1 as advocate_rank",
}


def test_a_publish_cleans_up_what_a_killed_one_left_behind(tmp_path):
    # issue 12 item 8: the leftover .tmp went away, its .tmp.wal (1 GB at 1M people) stayed
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"nodes": {}}))
    target = tmp_path / "serving" / "warehouse.duckdb"
    target.parent.mkdir()
    leftovers = [target.parent / ".warehouse.duckdb.dead1234.tmp", target.parent / ".warehouse.duckdb.dead1234.tmp.wal"]
    for path in leftovers:
        path.write_bytes(b"half a copy")
    other = target.parent / "notes.txt"  # not ours: left alone
    other.write_text("keep")
    with duckdb.connect(str(tmp_path / "working.duckdb")) as conn:
        conn.execute("create schema marts")
        for table, columns in MARTS.items():  # what the BI views read
            conn.execute(f"create table marts.{table} as select {columns}")
        rows = publish(conn, target, manifest, "run1")
        # the copy is written without keeping row order; the pipeline's own models keep theirs
        assert conn.execute("select current_setting('preserve_insertion_order')").fetchone() == (True,)
    assert rows["marts.fans"] == 1
    assert not any(path.exists() for path in leftovers)
    assert sorted(p.name for p in target.parent.iterdir()) == ["notes.txt", "warehouse.duckdb"]


def model(name: str, columns: dict[str, str | None], publish_key: str | None = None) -> dict:
    """A manifest node: columns -> personal-data kind (None: not personal)."""
    return {
        "resource_type": "model",
        "schema": "marts",
        "name": name,
        "original_file_path": f"models/{name}.sql",
        "config": {"meta": {"publish_key": publish_key, "changed_at": "refreshed_at"} if publish_key else {}},
        "columns": {c: {"meta": {"personal_data": kind} if kind else {}} for c, kind in columns.items()},
    }


MARTS_TABLES = "select table_name from duckdb_tables() where schema_name = 'marts'"


def serving_tables(path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as conn:
        names = [t for (t,) in conn.execute(MARTS_TABLES).fetchall()]
        return {t: conn.execute(f"select * from marts.{t} order by all").fetchall() for t in sorted(names)}


def test_a_day_publishes_only_what_changed_and_equals_a_copy_written_whole(tmp_path):
    manifest = tmp_path / "manifest.json"
    nodes = {
        "fans": model(
            "fans",
            {"fan_id": None, "fan_name": "name", "first_seen_at": None, "last_seen_at": None, "refreshed_at": None},
            publish_key="fan_id",
        ),
        # a key that is personal data is published as a pseudonym: the copy is matched on that
        "orders": model("orders", {"order_key": "id", "fan_id": None, "refreshed_at": None}, publish_key="order_key"),
        # kept by fan, several rows a fan: a fan leaves it by leaving fans, or on its own
        "fan_weeks": model("fan_weeks", {"fan_id": None, "week": None, "refreshed_at": None}, publish_key="fan_id"),
    }
    manifest.write_text(json.dumps({"nodes": nodes}))
    day_one, day_two = "timestamp '2026-11-01 02:00:00'", "timestamp '2026-11-02 02:00:00'"
    with duckdb.connect(str(tmp_path / "working.duckdb")) as conn:
        conn.execute("create schema marts")
        for table, columns in MARTS.items():
            if table not in ("fans", "orders", "fan_weeks"):
                conn.execute(f"create table marts.{table} as select {columns}")
        # ten fans with an order each, built on day one
        conn.execute(f"""create table marts.fans as select 'F' || i as fan_id, '张伟' || i as fan_name,
            {day_one} as first_seen_at, {day_one} as last_seen_at, {day_one} as refreshed_at from range(1, 11) t(i)""")
        conn.execute(f"""create table marts.orders as select 'o' || i as order_key, 'F' || i as fan_id,
            {day_one} as refreshed_at from range(1, 11) t(i)""")
        conn.execute(f"""create table marts.fan_weeks as select 'F' || i as fan_id, w as week,
            {day_one} as refreshed_at from range(1, 11) t(i), range(1, 3) w(w)""")
        target = tmp_path / "serving" / "warehouse.duckdb"
        publish(conn, target, manifest, "run1")
        # day two: F1 renamed, F2 merged into F3 (its order moves), F11 new; lifecycle rebuilt
        conn.execute(f"update marts.fans set fan_name = '王明', refreshed_at = {day_two} where fan_id = 'F1'")
        conn.execute("delete from marts.fans where fan_id = 'F2'")
        conn.execute(f"insert into marts.fans values ('F11', '赵敏', {day_two}, {day_two}, {day_two})")
        conn.execute(f"update marts.orders set fan_id = 'F3', refreshed_at = {day_two} where order_key = 'o2'")
        conn.execute(f"insert into marts.orders values ('o11', 'F11', {day_two})")
        conn.execute("update marts.fan_lifecycle set ladder_level = 4")
        # F2 leaves fan_weeks with fans; F4 stays a fan but its weeks went (its records moved)
        conn.execute("delete from marts.fan_weeks where fan_id in ('F2', 'F4')")
        conn.execute(f"update marts.fan_weeks set refreshed_at = {day_two} where fan_id = 'F3'")
        publish(conn, target, manifest, "run2")
        whole = tmp_path / "whole" / "warehouse.duckdb"
        publish(conn, whole, manifest, "run2")
    assert serving_tables(target) == serving_tables(whole)
    one, two = datetime(2026, 11, 1, 2), datetime(2026, 11, 2, 2)
    fans = {row[0]: row for row in serving_tables(target)["fans"]}
    assert len(fans) == 10 and "F2" not in fans
    assert fans["F1"] == ("F1", "王**", one, one, two) and fans["F11"] == ("F11", "赵**", two, two, two)
    orders = serving_tables(target)["orders"]
    assert len(orders) == 11 and all(key.startswith("h:") for key, *_ in orders)
    assert sorted(fan for _, fan, when in orders if when == two) == ["F11", "F3"]
    with duckdb.connect(str(target), read_only=True) as copy:
        how = dict(copy.execute("select table_name, changes_only from _serving.published").fetchall())
    assert how["marts.fans"] and how["marts.orders"] and how["marts.fan_weeks"] and not how["marts.fan_lifecycle"]
    weeks = serving_tables(target)["fan_weeks"]
    assert len(weeks) == 16 and not {"F2", "F4"} & {fan for fan, *_ in weeks}


READER = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1], read_only=True)
print(conn.execute("select count(*) from marts.fans").fetchone()[0], flush=True)
sys.stdin.readline()
print(conn.execute("select count(*) from marts.fans").fetchone()[0], flush=True)
"""


def test_a_publish_applies_the_changes_to_a_byte_copy_and_a_reader_keeps_the_copy_it_opened(tmp_path):
    manifest = tmp_path / "manifest.json"
    columns = {"fan_id": None, "fan_name": "name", "first_seen_at": None, "last_seen_at": None, "refreshed_at": None}
    manifest.write_text(json.dumps({"nodes": {"fans": model("fans", columns, publish_key="fan_id")}}))
    target, whole = tmp_path / "serving" / "warehouse.duckdb", tmp_path / "whole" / "warehouse.duckdb"

    def day(conn, n: int) -> None:
        """Day n: fan Fn arrives and F1 is renamed; publish, and compare with a copy written whole."""
        when = f"timestamp '2026-11-{n:02d} 02:00:00'"
        conn.execute(f"insert into marts.fans values ('F{n}', '新{n}', {when}, {when}, {when})")
        conn.execute(f"update marts.fans set fan_name = '王{n}', refreshed_at = {when} where fan_id = 'F1'")
        publish(conn, target, manifest, f"run{n}")
        publish(conn, whole, manifest, f"run{n}")
        assert serving_tables(target) == serving_tables(whole)
        with duckdb.connect(str(target), read_only=True) as copy:
            (changes_only,) = copy.execute(
                "select changes_only from _serving.published where table_name = 'marts.fans'"
            ).fetchone()
        assert changes_only == (n > 1), "from day 2 on, only the day's fans are written into the copy"

    with duckdb.connect(str(tmp_path / "working.duckdb")) as conn:
        conn.execute("create schema marts")
        for table, definition in MARTS.items():
            if table != "fans":
                conn.execute(f"create table marts.{table} as select {definition}")
        # ten fans before day 1: a day changes two of a dozen, so only those two are written
        conn.execute("""create table marts.fans as select 'old' || i as fan_id, '张' || i as fan_name,
            timestamp '2026-10-31' as first_seen_at, timestamp '2026-10-31' as last_seen_at,
            timestamp '2026-10-31' as refreshed_at from range(1, 11) t(i)""")
        day(conn, 1)
        day(conn, 2)
        # an earlier version kept the copy before the last one aside: it goes
        (target.parent / ".warehouse.duckdb.spare").write_bytes(b"an old copy")
        day(conn, 3)
        # a BI client opens the published copy and keeps it open over two publishes
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(target)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            assert reader.stdout.readline().strip() == "13"
            day(conn, 4)
            day(conn, 5)
            reader.stdin.write("\n")
            reader.stdin.flush()
            assert reader.stdout.readline().strip() == "13", "the reader still sees the copy it opened, whole"
        finally:
            reader.kill()
            reader.wait()
        day(conn, 6)
    assert sorted(p.name for p in target.parent.iterdir()) == ["warehouse.duckdb"]


def test_a_mart_view_over_kept_models_is_a_view_in_the_copy_when_what_it_reads_masks_its_personal_data(tmp_path):
    """fan_engagement is a dbt view over a model kept by fan: the copy takes that model's changed
    rows and holds the view, which reads the copy's own rows when BI opens the file alone. A view
    showing a personal column of what it reads (fan_360's phone is the profile's) reads the masked
    copy: a view too. A view showing personal data its reads do not mark is copied as a table,
    masked."""
    manifest = tmp_path / "manifest.json"
    kept = model("activity", {"fan_id": None, "events": None, "refreshed_at": None}, publish_key="fan_id")
    kept["schema"] = "intermediate"
    view = model("engagement", {"fan_id": None, "score": None})
    view["config"]["materialized"] = "view"
    view["depends_on"] = {"nodes": ["model.activity"]}
    names = model("names", {"fan_id": None, "fan_name": "name"})
    named = model("named_engagement", {"fan_id": None, "fan_name": "name", "score": None})
    named["config"]["materialized"] = "view"
    named["depends_on"] = {"nodes": ["model.activity", "model.names"]}
    contacts = model("contacts", {"fan_id": None, "phone": None})  # personal data its docs do not mark
    contacts["schema"] = "intermediate"
    phones = model("phones", {"fan_id": None, "phone": "phone"})
    phones["config"]["materialized"] = "view"
    phones["depends_on"] = {"nodes": ["model.contacts"]}
    nodes = {
        "model.activity": kept,
        "model.engagement": view,
        "model.names": names,
        "model.named_engagement": named,
        "model.contacts": contacts,
        "model.phones": phones,
    }
    manifest.write_text(json.dumps({"nodes": nodes}))
    target = tmp_path / "serving" / "warehouse.duckdb"
    with duckdb.connect(str(tmp_path / "working.duckdb")) as conn:
        conn.execute("create schema marts")
        conn.execute("create schema intermediate")
        for table, columns in MARTS.items():
            conn.execute(f"create table marts.{table} as select {columns}")
        conn.execute("""create table intermediate.activity as select 'F' || i as fan_id, i as events,
            timestamp '2026-11-01 02:00:00' as refreshed_at from range(1, 4) t(i)""")
        conn.execute("create view marts.engagement as select fan_id, 10 * events as score from intermediate.activity")
        conn.execute("create table marts.names as select 'F1' as fan_id, '张伟' as fan_name")
        conn.execute("""create view marts.named_engagement as select fan_id, fan_name, score
            from marts.engagement inner join marts.names using (fan_id)""")
        conn.execute("create table intermediate.contacts as select 'F1' as fan_id, '13812345678' as phone")
        conn.execute("create view marts.phones as select fan_id, phone from intermediate.contacts")
        publish(conn, target, manifest, "run1")
        # day two: F2's events change; the view in the copy follows without being written
        conn.execute(
            "update intermediate.activity set events = 7, refreshed_at = timestamp '2026-11-02 02:00:00' "
            "where fan_id = 'F2'"
        )
        publish(conn, target, manifest, "run2")
    with duckdb.connect(str(target), read_only=True) as copy:
        kinds = dict(
            copy.execute(
                "select table_name, table_type from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        )
        assert kinds["engagement"] == "VIEW" and kinds["named_engagement"] == "VIEW"
        assert kinds["phones"] == "BASE TABLE"
        assert copy.execute("select phone from marts.phones").fetchall() == [("138****5678",)]
        contacts = "select count(*) from information_schema.tables where table_name = 'contacts'"
        assert copy.execute(contacts).fetchone() == (0,), "what a view copied as a table reads is not copied"
        assert copy.execute("select * from marts.engagement order by 1").fetchall() == [
            ("F1", 10),
            ("F2", 70),
            ("F3", 30),
        ]
        assert copy.execute("select * from marts.named_engagement").fetchall() == [("F1", "张**", 10)]
        how = dict(copy.execute("select table_name, changes_only from _serving.published").fetchall())
        assert how["intermediate.activity"], "the kept model's changed rows only"
