"""Resources: the warehouse, the landing folder and dbt. Paths are read when a resource is
built (at definitions load), never at import."""

from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from orchestration.project import dbt_executable, dbt_project
from orchestration.settings import path_setting, warehouse_config


class LandingFolder(dg.ConfigurableResource):
    """The folder the four sources drop their files into."""

    path: str

    @property
    def folder(self) -> Path:
        return Path(self.path)


def warehouse_resource() -> DuckDBResource:
    """The working warehouse. Every connection in the process goes through this resource: DuckDB
    refuses a second connection to a file with other settings while one is open (a failed step's
    traceback can keep its connection alive until the end of the run)."""
    warehouse = path_setting("SCRM_DUCKDB_PATH")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBResource(database=str(warehouse), connection_config=warehouse_config())


def build_resources() -> dict:
    return {
        "duckdb": warehouse_resource(),
        "landing": LandingFolder(path=str(path_setting("SCRM_LANDING_DIR"))),
        "dbt": DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable()),
    }
