"""The dbt project, as every entry point sees it: where its manifest goes, which dbt runs it and
how it is prepared. One place decides (DBT_TARGET_PATH, default target/); Dagster, the command
line, the tests and the benchmarks all ask here."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from functools import cache
from importlib.metadata import version
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import ROOT, engine, path_setting

PROFILES_DIR = ROOT / "dbt_project"
# what the models are made of: the project, and the Python module the clustering imports
PROJECT_FILES = ("dbt_project.yml", "dbt_project", "transform")
PROFILE_ENV_VARS = re.compile(r"env_var\(\s*['\"](\w+)['\"]")


def target_path() -> Path:
    """dbt's target folder (manifest, compiled SQL, partial-parse state), absolute."""
    return path_setting("DBT_TARGET_PATH")


def dbt_executable() -> str:
    """The dbt beside this interpreter: an unactivated virtual environment has none on PATH."""
    return str(Path(sys.executable).parent / "dbt")


def dbt_environment() -> dict[str, str]:
    """The environment dbt runs in: the same target folder and profiles as Dagster reads."""
    return {**os.environ, "DBT_TARGET_PATH": str(target_path()), "DBT_PROFILES_DIR": str(PROFILES_DIR)}


def project_fingerprint() -> str:
    """The dbt project's files (and the Python its models import), by path and content, the
    dbt version that reads them and the engine it compiles for."""
    digest = hashlib.sha256(f"{version('dbt-core')} {engine()}".encode())
    for name in PROJECT_FILES:
        top = ROOT / name
        for path in sorted([top] if top.is_file() else top.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def manifest_fingerprint() -> str:
    """The project's fingerprint and the values of the environment variables the profile reads.
    dbt parses the whole project again, in every build, when the connection it was parsed with
    differs ("Unable to do partial parsing because profile has changed"): after the tests wrote
    target/ with their own warehouse path, each run of the pipeline paid 2.9 s for it."""
    names = sorted(set(PROFILE_ENV_VARS.findall((PROFILES_DIR / "profiles.yml").read_text())))
    digest = hashlib.sha256(project_fingerprint().encode())
    for name in names:
        digest.update(f"{name}={os.environ.get(name)}\0".encode())
    return digest.hexdigest()


def prepare_dbt() -> Path:
    """Write the manifest dagster-dbt loads and return its path: `dbt parse`, unless the
    manifest was written from the project as it is now, for the same connection (its
    fingerprint is kept beside it)."""
    manifest = dbt_project().manifest_path
    stamp = target_path() / "manifest.fingerprint"
    current = manifest_fingerprint()
    if manifest.exists() and stamp.exists() and stamp.read_text() == current:
        return manifest
    # a full parse: dbt 1.11's partial parse, after a macro changed, loses the enabled one of the
    # two int_identity__clusters models (Python for DuckDB, SQL for Spark) and fails with
    # "depends on a node named 'int_identity__clusters' which is disabled"; the dbt build that
    # follows parses partially from this state, with nothing changed since
    subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--no-partial-parse"], cwd=ROOT, env=dbt_environment(), check=True
    )
    stamp.write_text(current)
    return manifest


@cache
def _project(target: Path) -> DbtProject:
    return DbtProject(project_dir=ROOT, profiles_dir=PROFILES_DIR, target_path=target)


def dbt_project() -> DbtProject:
    """The project with the manifest under the current target folder (built once per folder)."""
    return _project(target_path())
