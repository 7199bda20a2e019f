"""The same pipeline on Apache Spark (dbt-spark, local Spark in dbt's process): the generator's few
hundred people, run by `scrm run` once on DuckDB and once with `--engine spark`, must give the
same fans, fan records and marts, and the Spark run must publish them as the DuckDB one does.
DuckDB is the reference: the two engines share the SQL, not the code that runs it."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import ROOT
from sample.generator import GeneratorConfig, generate

pytestmark = pytest.mark.slow  # runs the pipeline twice: left out of make test-fast

# when and by which run a row was built, not what it says
RUN_TIME = {
    "_loaded_at",
    "_staged_at",
    "assigned_at",
    "changed_at",
    "clustered_at",
    "fan_created_at",
    "last_changed_at",
    "refreshed_at",
    "run_id",
    "snapshotted_at",
}
DOUBLE_DIGITS = 6  # doubles agree to this many decimals (the engines sum in different orders)


def run_pipeline(root: Path, landing: Path, engine: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SCRM_ENGINE": engine,
        "SCRM_LANDING_DIR": str(landing),
        "SCRM_DUCKDB_PATH": str(root / "warehouse.duckdb"),
        "SCRM_LAKE_DIR": str(root / "lake"),
        "SCRM_EXPORT_DIR": str(root / "exports"),
        "SCRM_SERVING_PATH": str(root / "serving" / "warehouse.duckdb"),
        "SCRM_ALERT_DIR": str(root / "alerts"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "DBT_TARGET_PATH": str(root / "target"),
    }
    (root / "dagster_home").mkdir(parents=True)
    (root / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    scrm = Path(sys.executable).parent / "scrm"
    return subprocess.run([scrm, "run", "--no-truth"], cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("engines")
    generate(GeneratorConfig(people=300, seed=11), root / "sample", progress=lambda _: None)
    landing = root / "sample" / "landing"
    out = {}
    for engine in ("duckdb", "spark"):
        done = run_pipeline(root / engine, landing, engine)
        assert done.returncode == 0, f"{engine}: {done.stdout[-4000:]}{done.stderr[-4000:]}"
        out[engine] = {"root": root / engine, "log": done.stdout}
    return out


def tables(conn: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> dict[str, list[tuple[str, str]]]:
    """schema.table -> [(column, type)] of every table and view in the schemas."""
    rows = conn.execute(
        "select table_schema || '.' || table_name, column_name, data_type from information_schema.columns "
        f"where table_schema in ({', '.join('?' for _ in schemas)}) "
        "order by table_schema, table_name, ordinal_position",
        list(schemas),
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        out.setdefault(table, []).append((column, data_type))
    return out


def comparable(column: str, types: set[str]) -> str:
    """A column as both engines should give it: numbers with a fraction as doubles rounded, the
    rest as text (Spark keeps decimals and bigint where DuckDB has doubles and hugeint)."""
    if types & {"DOUBLE", "FLOAT"} or any(t.startswith("DECIMAL") for t in types):
        return f'round(cast("{column}" as double), {DOUBLE_DIGITS}) as "{column}"'
    return f'cast("{column}" as varchar) as "{column}"'


def rows_only_in(conn: duckdb.DuckDBPyConnection, select: str, table: str, left: str, right: str) -> int:
    return conn.execute(
        f"select count(*) from (select {select} from {left}.{table} except all select {select} from {right}.{table})"
    ).fetchone()[0]


def test_spark_builds_the_rows_duckdb_builds(builds):
    with duckdb.connect() as conn:
        conn.execute(f"attach '{builds['duckdb']['root'] / 'warehouse.duckdb'}' as duck (read_only)")
        conn.execute(f"attach '{builds['spark']['root'] / 'warehouse.duckdb'}' as spark (read_only)")
        conn.execute("use duck")
        reference = tables(conn, ("marts", "privacy"))
        conn.execute("use spark")
        on_spark = tables(conn, ("marts", "privacy"))
        assert set(on_spark) == set(reference)
        assert len(reference) >= 25  # every mart, not a few
        (fans,) = conn.execute("select count(*) from duck.marts.fans").fetchone()
        assert fans > 300  # a real build: more fans than people (records no identifier joins)
        differing = {}
        for table, columns in reference.items():
            assert [c for c, _ in on_spark[table]] == [c for c, _ in columns], table
            types = {c: {t, dict(on_spark[table])[c]} for c, t in columns}
            select = ", ".join(comparable(c, types[c]) for c, _ in columns if c not in RUN_TIME)
            # rows only in the DuckDB build, rows only in the Spark build
            counts = [rows_only_in(conn, select, table, *sides) for sides in (("duck", "spark"), ("spark", "duck"))]
            if any(counts):
                differing[table] = counts
        assert differing == {}


def latest_exports(folder: Path) -> dict[str, list[str]]:
    """segment -> the lines of its latest export (sorted)."""
    out = {}
    for pointer in folder.glob("*/LATEST"):
        segment = pointer.parent.name
        export = pointer.parent / pointer.read_text().strip() / f"{segment}.csv"
        out[segment] = sorted(export.read_text(encoding="utf-8-sig").splitlines())
    return out


def test_the_spark_run_publishes_the_same_serving_copy_and_segment_exports(builds):
    copies = {}
    for engine, build in builds.items():
        with duckdb.connect(str(build["root"] / "serving" / "warehouse.duckdb"), read_only=True) as conn:
            copies[engine] = dict(conn.execute("select table_name, row_count from _serving.published").fetchall())
    assert copies["spark"] == copies["duckdb"]
    exports = {engine: latest_exports(build["root"] / "exports") for engine, build in builds.items()}
    assert sum(len(lines) - 1 for lines in exports["duckdb"].values()) > 0  # members below the headers
    assert exports["spark"] == exports["duckdb"]
