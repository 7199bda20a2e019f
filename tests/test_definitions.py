"""The Dagster definitions: they load, and the lineage is one graph from raw files to staging."""

import os
import time

import dagster as dg

from orchestration.sensors import new_files

SOURCES = [
    "member_cards",
    "online_orders",
    "pos_receipts",
    "social_interactions",
    "wechat_followers",
    "weibo_followers",
]
STAGING = {
    "member_cards": "stg_crm__member_cards",
    "online_orders": "stg_shop__orders",
    "pos_receipts": "stg_pos__receipts",
    "social_interactions": "stg_social__interactions",
    "wechat_followers": "stg_wechat__followers",
    "weibo_followers": "stg_weibo__followers",
}


def test_definitions_load_as_one_graph(dbt_manifest, isolated_env):
    from orchestration.definitions import build_definitions

    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {f"raw/{s}" for s in SOURCES} <= keys
    for source, model in STAGING.items():
        model_key = next(k for k in graph.get_all_asset_keys() if k.path[-1] == model)
        assert dg.AssetKey(["raw", source]) in graph.get(model_key).parent_keys, model
        assert graph.get(model_key).group_name == "staging"
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert {(f"raw/{s}", "great_expectations") for s in SOURCES} <= checks
    assert defs.resolve_job_def("scrm_pipeline") is not None
    assert defs.resolve_schedule_def("scrm_daily").cron_schedule == "0 3 * * *"
    assert defs.resolve_sensor_def("landing_sensor") is not None
    raw = graph.get(dg.AssetKey(["raw", "member_cards"]))
    assert "store CRM" in raw.description


def test_sensor_sees_only_files_newer_than_its_cursor(tmp_path):
    old = tmp_path / "a" / "old.csv"
    old.parent.mkdir()
    old.write_text("x")
    os.utime(old, (time.time() - 100, time.time() - 100))
    fresh, cursor = new_files(tmp_path, 0.0)
    assert fresh == [old]
    assert new_files(tmp_path, cursor) == ([], cursor)
    new = tmp_path / "a" / "new.csv"
    new.write_text("y")
    fresh, later = new_files(tmp_path, cursor)
    assert fresh == [new] and later > cursor
    assert new_files(tmp_path / "missing", 5.0) == ([], 5.0)
