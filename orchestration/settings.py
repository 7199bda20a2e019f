"""Where things live. Every path comes from an environment variable with a default inside
the project, so a fresh clone works as it is; relative values are taken from the project root.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository: dbt_project.yml, data/, segments/

DEFAULTS = {
    "SCRM_DUCKDB_PATH": "data/warehouse.duckdb",
    "SCRM_LANDING_DIR": "data/sample/landing",
    "DAGSTER_HOME": "dagster_home",
    "DBT_TARGET_PATH": "target",
    "DBT_PROFILES_DIR": "dbt_project",
    "SCRM_SEGMENTS_DIR": "segments",
    "SCRM_EXPORT_DIR": "data/exports",
    "SCRM_SERVING_PATH": "data/serving/warehouse.duckdb",
    "SCRM_ALERT_DIR": "data/alerts",
    "SCRM_LAKE_DIR": "data/lake",
}
ENGINES = ("duckdb", "spark")


def path_setting(name: str) -> Path:
    """An environment path setting, absolute."""
    value = Path(os.environ.get(name) or DEFAULTS[name])
    return value if value.is_absolute() else ROOT / value


def engine() -> str:
    """Where the dbt models run (SCRM_ENGINE): duckdb, the default, in the warehouse file; or
    spark, on Apache Spark over the lake folder (SCRM_LAKE_DIR), the raw layer and the serving
    side staying in DuckDB (README, "On Apache Spark")."""
    name = os.environ.get("SCRM_ENGINE") or "duckdb"
    if name not in ENGINES:
        raise ValueError(f"SCRM_ENGINE={name!r}: expected one of {', '.join(ENGINES)}")
    return name


def memory_limit() -> str:
    """DuckDB's memory limit for the pipeline and dbt alike (SCRM_DUCKDB_MEMORY_LIMIT, e.g. 12GB or
    50%): beyond it DuckDB spills to a temporary folder beside the warehouse instead of failing,
    and the Dagster process keeps the rest of the machine."""
    return os.environ.get("SCRM_DUCKDB_MEMORY_LIMIT") or "50%"


def warehouse_config() -> dict:
    """DuckDB settings of every connection to the working warehouse. One process may hold several
    connections to a file only when they share the same settings."""
    return {"memory_limit": memory_limit()}


def apply_defaults() -> None:
    """Put the defaults into the environment (absolute), so dbt's subprocess sees the same
    DuckDB file and Dagster the same instance as every other entry point."""
    for name in DEFAULTS:
        os.environ[name] = str(path_setting(name))
    os.environ["SCRM_DUCKDB_MEMORY_LIMIT"] = memory_limit()
    os.environ["SCRM_ENGINE"] = engine()
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    prepare_dagster_home()


def prepare_dagster_home(home: Path | None = None) -> None:
    """A DAGSTER_HOME (`home`, or the setting) set to a new folder (a scratch run, a second
    warehouse, a test) is created, with the project's instance settings (telemetry off), instead
    of Dagster refusing to start."""
    home = home or path_setting("DAGSTER_HOME")
    settings = home / "dagster.yaml"
    if not settings.exists():
        home.mkdir(parents=True, exist_ok=True)
        settings.write_text((ROOT / DEFAULTS["DAGSTER_HOME"] / "dagster.yaml").read_text())
