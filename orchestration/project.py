"""The dbt project, as Dagster sees it."""

from pathlib import Path

from dagster_dbt import DbtProject

ROOT = Path(__file__).resolve().parents[1]

dbt_project = DbtProject(project_dir=ROOT, profiles_dir=ROOT / "dbt_project")
