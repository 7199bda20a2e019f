"""A run whose process was killed is marked failed instead of staying STARTED forever; the
instance's settings; the event log keeps a connection open per database."""

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from sqlalchemy import event
from sqlalchemy.pool import Pool

from orchestration.event_log import OPEN_DATABASES, PooledSqliteEventLogStorage
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


def test_the_event_log_keeps_a_connection_per_database_in_the_files_dagster_reads(tmp_path, monkeypatch):
    # issue 16: Dagster's class opened a connection for every event it stored (twice for an asset
    # event), 3 s of a 10 s run with nothing new at 1M people
    home = tmp_path / "dagster_home"
    prepare_dagster_home(home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    runs_folder = home / "history" / "runs"
    opened = collections.Counter()

    def on_connect(dbapi_connection, _record):
        database = Path(dbapi_connection.execute("pragma database_list").fetchone()[2])
        if database.parent == runs_folder:
            opened[database.stem] += 1

    def chain(length: int) -> list[dg.AssetsDefinition]:
        assets = []
        for step in range(length):

            @dg.asset(name=f"step_{step}", deps=assets[-1:])
            def _step() -> None:
                return None

            assets.append(_step)
        return assets

    event.listen(Pool, "connect", on_connect)
    try:
        with dg.DagsterInstance.get() as instance:
            assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
            # more runs than databases kept open, every other one with 6 times the assets
            run_ids = [dg.materialize(chain(2 if n % 2 else 12), instance=instance).run_id for n in range(10)]
            assert len(instance.event_log_storage._engines) <= OPEN_DATABASES < len(run_ids)
            stored = {run_id: len(instance.all_logs(run_id)) for run_id in run_ids}
    finally:
        event.remove(Pool, "connect", on_connect)
    small, large = (stored[run_ids[n]] for n in (1, 0))
    assert large > 3 * small
    # a run's database is opened as often, whatever number of events it stores
    assert opened[run_ids[0]] == opened[run_ids[1]] > 0, opened
    # Dagster's own class (the UI's, an instance without these settings) reads the same files
    plain = SqliteEventLogStorage(str(runs_folder))
    assert {run_id: len(plain.get_logs_for_run(run_id)) for run_id in run_ids} == stored
    (record,) = plain.get_asset_records([dg.AssetKey("step_1")])
    assert record.asset_entry.last_materialization.run_id == run_ids[-1]


def test_wiping_the_event_log_closes_its_connections_before_deleting_the_files(tmp_path, monkeypatch):
    # a connection kept open to a deleted file would go on writing there, out of sight
    home = tmp_path / "dagster_home"
    prepare_dagster_home(home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    @dg.asset
    def one() -> None:
        return None

    with dg.DagsterInstance.get() as instance:
        before = dg.materialize([one], instance=instance).run_id
        events = len(instance.all_logs(before))
        instance.wipe()
        assert instance.all_logs(before) == []
        after = dg.materialize([one], instance=instance).run_id
    plain = SqliteEventLogStorage(str(home / "history" / "runs"))
    assert len(plain.get_logs_for_run(after)) == events
    (record,) = plain.get_asset_records([dg.AssetKey("one")])
    assert record.asset_entry.last_materialization.run_id == after
