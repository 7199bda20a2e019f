"""Resources: the warehouse, the landing folder and dbt. Paths are read when a resource is
built (at definitions load), never at import."""

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from orchestration.project import dbt_project
from orchestration.settings import memory_limit, path_setting


class LandingFolder(dg.ConfigurableResource):
    """The folder the four sources drop their files into."""

    path: str

    @property
    def folder(self) -> Path:
        return Path(self.path)


def build_resources() -> dict:
    warehouse = path_setting("SCRM_DUCKDB_PATH")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return {
        "duckdb": DuckDBResource(database=str(warehouse), connection_config={"memory_limit": memory_limit()}),
        "landing": LandingFolder(path=str(path_setting("SCRM_LANDING_DIR"))),
        # an unactivated venv has no dbt on PATH: use the one beside this interpreter
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(Path(sys.executable).parent / "dbt")),
    }
