"""The serving copy: what a crashed publish left behind is cleaned up."""

import json

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
    assert rows["marts.fans"] == 1
    assert not any(path.exists() for path in leftovers)
    assert sorted(p.name for p in target.parent.iterdir()) == ["notes.txt", "warehouse.duckdb"]
