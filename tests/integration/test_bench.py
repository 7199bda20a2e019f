"""A smoke run of the benchmark at a tiny size: every stage is measured, the floor runs the
same compiled SQL, two days of new data and a run with nothing new are measured, and the clustering
agrees with Splink. No figure is asserted."""

import json
import subprocess
import sys

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
