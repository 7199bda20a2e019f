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
    assert {(f"raw/{s}", "freshness") for s in SOURCES} <= checks
    assert ("raw/erasure_requests", "freshness") not in checks  # requests come when people ask
    assert defs.resolve_job_def("scrm_pipeline") is not None
    assert defs.resolve_schedule_def("scrm_daily").cron_schedule == "0 3 * * *"
    assert defs.resolve_sensor_def("landing_sensor") is not None
    assert defs.resolve_sensor_def("failure_alert_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.get_assets_def(dg.AssetKey(["raw", "online_orders"])).op.retry_policy.max_retries == 2
    raw = graph.get(dg.AssetKey(["raw", "member_cards"]))
    assert "store CRM" in raw.description
    assert "SCRM_SHOP_API_URL" in graph.get(dg.AssetKey(["raw", "online_orders"])).description
    # segments follow the marts, and the serving copy waits for every mart and the exports
    assert {"exports/segment_exports", "segments/wechat_advocates", "serving/warehouse"} <= keys
    serving_parents = {k.path[-1] for k in graph.get(dg.AssetKey(["serving", "warehouse"])).parent_keys}
    assert {"fans", "fan_360", "lifecycle_funnel", "fan_trust_weekly", "segment_exports"} <= serving_parents


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


def test_a_bad_segment_fails_its_asset_and_the_others_still_export(dbt_manifest, tmp_path):
    """On a hand-made fan_360: the export asset writes the good segment and lists the refused
    one; the bad segment's own asset fails naming the file, the line and the field."""
    import duckdb
    from dagster_duckdb import DuckDBResource

    from orchestration.resources import ExportFolder, SegmentsFolder
    from orchestration.segment_assets import build_segment_asset, segment_exports

    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("create schema marts")
        conn.execute("""create table marts.fan_360 as select 'A' as fan_id, '13800001111' as phone,
            'oA' as wechat_openid, null::varchar as email, 'fan' as ladder_rung, 'high' as trust_tier,
            true as is_wechat_contactable""")
        conn.execute("create schema privacy")
        conn.execute("create table privacy.fans_to_forget (fan_id varchar)")
    segments = tmp_path / "segments"
    segments.mkdir()
    head = "description: t\nowner: t\nchannel: wechat\n"
    (segments / "good.yml").write_text(f"name: good\n{head}rule: {{field: ladder_rung, op: eq, value: fan}}\n")
    (segments / "bad.yml").write_text(f"name: bad\n{head}rule: {{field: phone, op: eq, value: '138'}}\n")
    result = dg.materialize(
        [segment_exports, build_segment_asset(segments / "good.yml"), build_segment_asset(segments / "bad.yml")],
        resources={
            "duckdb": DuckDBResource(database=str(warehouse)),
            "segments": SegmentsFolder(path=str(segments)),
            "exports": ExportFolder(path=str(tmp_path / "exports")),
        },
        raise_on_error=False,
    )
    assert not result.success
    done = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert done == {"exports/segment_exports", "segments/good"}
    failure = next(e for e in result.all_events if e.is_step_failure and "bad" in e.step_key)
    message = failure.step_failure_data.error.message
    assert "bad.yml, line 5, field 'rule.field': 'phone' is not a documented non-personal fan_360 field" in message
    assert (tmp_path / "exports" / "good" / "LATEST").exists() and not (tmp_path / "exports" / "bad").exists()


def test_one_place_decides_where_the_manifest_is(tmp_path, monkeypatch):
    # issue 12 item 6: dbt wrote the manifest under DBT_TARGET_PATH, Dagster read target/
    from orchestration.project import dbt_project, prepare_dbt

    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "elsewhere"))
    written = prepare_dbt()
    assert written == tmp_path / "elsewhere" / "manifest.json" and written.exists()
    assert dbt_project().manifest_path == written


def test_the_manifest_is_parsed_again_only_when_the_project_or_the_connection_changed(tmp_path, monkeypatch):
    from orchestration import project

    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    project.prepare_dbt()
    parses = []
    real_run = project.subprocess.run
    monkeypatch.setattr(project.subprocess, "run", lambda *a, **k: parses.append(a) or real_run(*a, **k))
    project.prepare_dbt()
    assert parses == [], "nothing changed: the manifest on disk is the project's"
    monkeypatch.setattr(project, "project_fingerprint", lambda: "a model was edited")
    project.prepare_dbt()
    assert len(parses) == 1
    # dbt parses everything again in each build when the connection it parsed with changed
    monkeypatch.setenv("SCRM_DUCKDB_PATH", str(tmp_path / "another.duckdb"))
    project.prepare_dbt()
    assert len(parses) == 2
    # a variable the profile does not read changes nothing (tests.sql reads this one when tests run)
    monkeypatch.setenv("SCRM_TEST_ALL_ROWS", "true")
    project.prepare_dbt()
    assert len(parses) == 2


def test_dbt_assets_show_column_types_and_seeds_no_empty_sql(dbt_manifest, isolated_env):
    # issue 12 item 11: the UI showed no column type on any dbt asset, and seeds ended their
    # description with an empty "Raw SQL" block
    from orchestration.definitions import build_definitions
    from scrm.links import SEEDS  # the identity seeds' folder

    graph = build_definitions().resolve_asset_graph()
    untyped, dbt_models, seeds = [], 0, 0
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if "dbt" not in node.kinds:
            continue
        schema = node.metadata.get("dagster/column_schema")
        if node.group_name in ("staging", "intermediate", "marts") or node.group_name.startswith("marts"):
            dbt_models += 1
            untyped += [f"{key.to_user_string()}.{c.name}" for c in schema.columns if c.type in ("", "?")]
        if node.group_name == "identity":  # the identity configuration seeds
            seeds += 1
            assert "Raw SQL" not in (node.description or ""), key
    assert dbt_models > 30 and seeds == len(list(SEEDS.glob("*.csv")))
    assert untyped == []


def test_marts_are_grouped_by_area_and_the_serving_copy_exposure_lists_every_published_mart(dbt_manifest):
    import json

    from orchestration.definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {"marts_core", "marts_engagement", "marts_trust", "marts_referral", "marts_lifecycle"} <= groups
    assert "marts" not in groups
    manifest = json.loads(dbt_manifest.read_text())
    published = {
        n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    exposure = manifest["exposures"]["exposure.scrm.serving_copy"]
    assert {node.split(".")[-1] for node in exposure["depends_on"]["nodes"]} == published
    exports = manifest["exposures"]["exposure.scrm.segment_exports"]
    assert {node.split(".")[-1] for node in exports["depends_on"]["nodes"]} == {"fan_360", "fans_to_forget"}
