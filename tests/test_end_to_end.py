"""Generated sources -> every asset materialised in a temporary folder -> row accounting
checked against the generator's own counts and truth; a second run adds nothing."""

import json

import duckdb
import polars as pl
import pytest

from scrm.generate import GeneratorConfig, generate
from scrm.pipeline import run_pipeline

STAGING = {
    "member_cards": "stg_crm__member_cards",
    "online_orders": "stg_shop__orders",
    "pos_receipts": "stg_pos__receipts",
    "wechat_followers": "stg_wechat__followers",
    "weibo_followers": "stg_weibo__followers",
}


def table_counts(path) -> dict:
    with duckdb.connect(str(path)) as conn:
        ledger = conn.execute("""select source, sum(rows_read), sum(rows_loaded), sum(rows_rejected), count(*)
                                 from raw._load_ledger group by source""").fetchall()
        raw = {s: conn.execute(f"select count(*) from raw.{s}").fetchall()[0][0] for s, *_ in ledger}
        rejects = dict(conn.execute("select source, count(*) from raw._rejects group by source").fetchall())
        staging = {s: conn.execute(f"select count(*) from staging.{m}").fetchall()[0][0] for s, m in STAGING.items()}
    return {"ledger": {s: rest for s, *rest in ledger}, "raw": raw, "rejects": rejects, "staging": staging}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e")
    manifest = generate(GeneratorConfig(people=300, seed=11), out / "sample", progress=lambda _: None)
    return out, manifest


def test_pipeline_accounts_for_every_row_and_is_idempotent(sample, dbt_manifest, isolated_env, monkeypatch):
    out, manifest = sample
    monkeypatch.setenv("SCRM_LANDING_DIR", str(out / "sample" / "landing"))
    ok, checks = run_pipeline()
    assert ok
    assert checks and all(c.passed for c in checks)
    first = table_counts(isolated_env / "warehouse.duckdb")

    for source, entry in manifest["sources"].items():
        read, loaded, rejected, files = first["ledger"][source]
        assert files == entry["files"], source
        assert read == entry["rows"], source
        assert rejected == entry["bad_rows"] == first["rejects"][source], source
        assert loaded == entry["rows"] - entry["bad_rows"] == first["raw"][source], source

    # staging keeps one row per real record: exactly the generator's truth
    truth = pl.read_parquet(out / "sample" / "truth" / "records.parquet").group_by("source").len()
    assert first["staging"] == dict(truth.iter_rows())

    ok, _ = run_pipeline()
    assert ok
    assert table_counts(isolated_env / "warehouse.duckdb") == first
    assert json.loads((out / "sample" / "truth" / "manifest.json").read_text())["sources"] == manifest["sources"]
