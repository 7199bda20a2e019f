"""When a run may skip the dbt build: nothing it reads changed since the last successful one."""

import duckdb
import pytest

from orchestration import builds


@pytest.fixture
def warehouse():
    """A warehouse after one build: a loaded batch, its verdict, the reporting day, one mart."""
    conn = duckdb.connect()
    conn.execute("create schema raw; create schema intermediate; create schema marts")
    conn.execute("create table raw._load_ledger (batch_id varchar, status varchar, rows_loaded bigint)")
    conn.execute("insert into raw._load_ledger values ('L1:1', 'loaded', 10)")
    conn.execute("create table raw._batch_verdicts (batch_id varchar, verdict varchar, decided_at timestamp)")
    conn.execute("insert into raw._batch_verdicts values ('L1:1', 'passed', null)")
    conn.execute("create table intermediate.int_calendar__as_of as select false as depends_on_run_day")
    conn.execute("create table marts.fans (fan_id varchar)")
    record(conn, "run-1")
    return conn


MODELS = [("marts", "fans"), ("intermediate", "int_calendar__as_of")]


def record(conn, run_id, project="project v1"):
    builds.record_build(conn, run_id, builds.inputs_fingerprint(conn), project)


def skip(conn):
    return builds.nothing_to_build(conn, MODELS, builds.inputs_fingerprint(conn))


def test_the_same_inputs_need_no_build(warehouse):
    assert "run-1" in skip(warehouse)


def test_a_new_batch_a_release_or_a_drop_needs_a_build(warehouse):
    warehouse.execute("insert into raw._load_ledger values ('L2:1', 'loaded', 5)")
    assert skip(warehouse) is None
    record(warehouse, "run-2")
    warehouse.execute("update raw._batch_verdicts set verdict = 'released', decided_at = now()")
    assert skip(warehouse) is None
    record(warehouse, "run-3")
    warehouse.execute("update raw._load_ledger set status = 'dropped', rows_loaded = 0 where batch_id = 'L2:1'")
    assert skip(warehouse) is None


def test_a_changed_project_needs_a_build(warehouse, monkeypatch):
    monkeypatch.setattr(builds, "project_fingerprint", lambda: "another project")
    assert skip(warehouse) is None


def test_a_missing_model_needs_a_build(warehouse):
    warehouse.execute("drop table marts.fans")
    assert skip(warehouse) is None


def test_a_reporting_day_that_may_still_move_needs_a_build(warehouse):
    # events dated after the day of the last build's run: a later day may bring them in
    warehouse.execute("update intermediate.int_calendar__as_of set depends_on_run_day = true")
    record(warehouse, "run-2")
    assert skip(warehouse) is None


def test_a_run_knows_whether_it_built(warehouse):
    assert builds.built_in_run(warehouse, "run-1") and not builds.built_in_run(warehouse, "run-9")


def test_every_row_is_tested_only_when_the_project_changed_since_the_last_build(warehouse):
    assert builds.project_built(warehouse, "project v1")
    assert not builds.project_built(warehouse, "project v2")
    record(warehouse, "run-2", project="project v2")
    assert builds.project_built(warehouse, "project v2") and not builds.project_built(warehouse, "project v1")


def test_a_warehouse_built_before_projects_were_recorded_tests_every_row(warehouse):
    warehouse.execute("alter table raw._dbt_builds drop column project_fingerprint")
    assert not builds.project_built(warehouse, "project v1")
    assert not builds.project_built(duckdb.connect(), "project v1")  # nothing built yet
