"""The dbt project, as every entry point sees it: where its manifest goes, which dbt runs it and
how it is prepared. One place decides (DBT_TARGET_PATH, default target/); Dagster, the command
line, the tests and the benchmarks all ask here."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import ROOT, path_setting

PROFILES_DIR = ROOT / "dbt_project"


def target_path() -> Path:
    """dbt's target folder (manifest, compiled SQL, partial-parse state), absolute."""
    return path_setting("DBT_TARGET_PATH")


def dbt_executable() -> str:
    """The dbt beside this interpreter: an unactivated virtual environment has none on PATH."""
    return str(Path(sys.executable).parent / "dbt")


def dbt_environment() -> dict[str, str]:
    """The environment dbt runs in: the same target folder and profiles as Dagster reads."""
    return {**os.environ, "DBT_TARGET_PATH": str(target_path()), "DBT_PROFILES_DIR": str(PROFILES_DIR)}


def prepare_dbt() -> Path:
    """Write the manifest dagster-dbt loads (`dbt parse`; partial parsing makes a repeat quick)
    and return its path."""
    subprocess.run([dbt_executable(), "parse", "--quiet"], cwd=ROOT, env=dbt_environment(), check=True)
    return dbt_project().manifest_path


@cache
def _project(target: Path) -> DbtProject:
    return DbtProject(project_dir=ROOT, profiles_dir=PROFILES_DIR, target_path=target)


def dbt_project() -> DbtProject:
    """The project with the manifest under the current target folder (built once per folder)."""
    return _project(target_path())
