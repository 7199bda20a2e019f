"""A smoke run of the benchmark at a tiny size: every stage is measured, the floor runs the
same compiled SQL, two days of new data and a run with nothing new are measured, and the clustering
agrees with Splink. No figure is asserted."""

import json
import subprocess
import sys

import duckdb
import pytest

from orchestration.settings import ROOT

pytestmark = pytest.mark.slow  # runs the pipeline: left out of make test-fast


def test_the_benchmark_runs_end_to_end_at_a_tiny_size(tmp_path, dbt_manifest):
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--people", "200", "--scratch", str(tmp_path)]
        + ["--splink-edges", "5000", "--results", str(tmp_path / "results")],
        check=True,
        capture_output=True,
    )
    figures = json.loads((tmp_path / "results" / "bench_200.json").read_text())
    stages = figures["stages"]
    for stage in ("ingest member_cards", "validate online_orders", "dbt staging", "dbt identity", "dbt marts"):
        assert stage in stages
    assert "segments and exports" in stages and "publish serving copy" in stages
    assert figures["counts"]["fans"] > 0 and figures["pipeline"]["peak_rss_gib"] > 0
    assert figures["floor"]["transform_seconds"] > 0 and figures["ratio_to_floor"] > 0
    day = figures["day_to_day"]
    for key in ("day", "next_day"):
        assert sum(day[key]["delta_rows"].values()) > 0 and day[key]["dbt"] > 0
    assert day["nothing_new"]["seconds"] > 0
    assert "scrm_dbt_models" in day["nothing_new"]["steps"], "the run with nothing new still looks, then skips"
    splink = figures["identity_vs_splink"]
    assert splink["same_partition"] and splink["same_partition_as_splink"]


def test_the_history_benchmark_builds_the_history_it_says(tmp_path, dbt_manifest):
    # benchmarks/history.py on the tiny bench's warehouse: 3 weeks and 4 runs of copies
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--people", "200", "--scratch", str(tmp_path)]
        + ["--no-floor", "--splink-edges", "0", "--results", str(tmp_path / "results")],
        check=True,
        capture_output=True,
    )
    warehouse = tmp_path / "people_200" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        week = conn.execute(
            "select count(*) from marts.fan_trust_weekly where week_start_date = "
            "(select max(week_start_date) from marts.fan_trust_weekly)"
        ).fetchone()[0]
        export = conn.execute(
            "select count(*) from segments.memberships where run_id = "
            "(select run_id from segments.exports order by exported_at desc limit 1)"
        ).fetchone()[0]
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "history.py"), "--warehouse", str(warehouse)]
        + ["--weeks", "3", "--runs", "4", "--erased", "1", "2"],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(out.stdout)
    assert week > 0 and export > 0
    assert figures["rows"] == {"weeks_as_built": 3 * week, "memberships": 4 * export}
    assert list(figures["delete_seconds"]) == ["1 erased fans", "2 erased fans"]
    assert all(len(seconds) == 3 for deletes in figures["delete_seconds"].values() for seconds in deletes.values())
    assert sorted(p.name for p in warehouse.parent.iterdir() if p.name.startswith("tmp")) == []  # copy removed
