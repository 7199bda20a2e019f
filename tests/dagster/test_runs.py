"""A run whose process was killed is marked failed instead of staying STARTED forever."""

import os
import signal
import subprocess
import sys
import time

import dagster as dg

from orchestration.runs import fail_orphaned_runs
from orchestration.settings import prepare_dagster_home

SLOW_JOB = """
import time
import dagster as dg

@dg.op
def slow():
    time.sleep(120)

@dg.job
def slow_job():
    slow()

with dg.DagsterInstance.get() as instance:
    slow_job.execute_in_process(instance=instance)
"""


def test_a_killed_run_is_marked_failed_and_a_live_one_is_left_alone(tmp_path, monkeypatch):
    # issue 12 item 5: a `kill -9` used to leave the run STARTED in the history forever
    home = tmp_path / "dagster_home"
    prepare_dagster_home(home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    script = tmp_path / "slow_job.py"
    script.write_text(SLOW_JOB)
    process = subprocess.Popen([sys.executable, str(script)], env={**os.environ, "DAGSTER_HOME": str(home)})
    try:
        with dg.DagsterInstance.get() as instance:
            deadline = time.time() + 60
            while not instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
                assert time.time() < deadline, "the job never started"
                time.sleep(0.5)
            (run,) = instance.get_runs()
            assert fail_orphaned_runs(instance) == [], "its process is alive: the run is left alone"
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
            messages = []
            assert fail_orphaned_runs(instance, messages.append) == [run.run_id]
            assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
            assert f"pid {process.pid}" in messages[0] and "killed or crashed" in messages[0]
            assert fail_orphaned_runs(instance) == [], "a failed run is not judged again"
    finally:
        process.kill()


def test_a_new_dagster_home_is_created_with_telemetry_off(tmp_path, monkeypatch):
    # a scratch run pointing DAGSTER_HOME at a new folder used to stop at Dagster's "is not a
    # directory" error, before any asset ran
    home = tmp_path / "scratch" / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    prepare_dagster_home()  # what every entry point does first, through apply_defaults
    assert "enabled: false" in (home / "dagster.yaml").read_text().split("telemetry:")[1].splitlines()[1]
    with dg.DagsterInstance.get() as instance:
        assert instance.get_runs() == []
