"""Resources: the warehouse, dbt, and every setting a run needs (folders, the serving copy, alerts,
the source APIs). Each setting comes from its environment variable (`dg.EnvVar`, so the UI's
resources tab names the variable and never shows a secret) or, when the variable is unset, from
the default in `orchestration/settings.py`. Resources are built when the definitions load, never
at import; tests pass their own."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from importlib import metadata
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource
from packaging import version

from activation.serving import DEFAULT_STORAGE_VERSION
from orchestration.project import dbt_executable, dbt_project
from orchestration.settings import DEFAULTS, ROOT, path_setting, warehouse_config


def _absolute(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else ROOT / path


class LandingFolder(dg.ConfigurableResource):
    """The folder the four sources drop their files into (SCRM_LANDING_DIR)."""

    path: str

    @property
    def folder(self) -> Path:
        return _absolute(self.path)


class SegmentsFolder(dg.ConfigurableResource):
    """Segment definitions (`*.yml`) and the frequency-cap policy (`_policy.yml`) (SCRM_SEGMENTS_DIR)."""

    path: str

    @property
    def folder(self) -> Path:
        return _absolute(self.path)


class ExportFolder(dg.ConfigurableResource):
    """Where segment exports are written, a folder per segment and run (SCRM_EXPORT_DIR)."""

    path: str

    @property
    def folder(self) -> Path:
        return _absolute(self.path)


class ServingCopy(dg.ConfigurableResource):
    """The read-only copy BI opens (SCRM_SERVING_PATH), in a DuckDB storage version BI clients
    embedding DuckDB 1.4 or 1.5 can open (SCRM_SERVING_STORAGE_VERSION)."""

    path: str
    storage_version: str = DEFAULT_STORAGE_VERSION

    @property
    def file(self) -> Path:
        return _absolute(self.path)


class Alerts(dg.ConfigurableResource):
    """Failed runs become alerts: a line in `<folder>/alerts.jsonl` (SCRM_ALERT_DIR) and a POST to
    the webhook when one is set (SCRM_ALERT_WEBHOOK)."""

    path: str
    webhook: str | None = None

    @property
    def folder(self) -> Path:
        return _absolute(self.path)


class WeChatApi(dg.ConfigurableResource):
    """The WeChat official-account API; the pull is on when the URL is set (SCRM_WECHAT_API_URL,
    SCRM_WECHAT_APP_ID, SCRM_WECHAT_APP_SECRET)."""

    url: str | None = None
    app_id: str | None = None
    app_secret: str | None = None


class ShopApi(dg.ConfigurableResource):
    """The shop platform's order API; the pull is on when the URL is set (SCRM_SHOP_API_URL,
    SCRM_SHOP_API_KEY)."""

    url: str | None = None
    api_key: str | None = None


def setting(name: str, default: str | None = None) -> str | dg.EnvVar | None:
    """The variable when it is set, else the default (the project's, for the path settings)."""
    if os.environ.get(name):
        return dg.EnvVar(name)
    return default if default is not None else DEFAULTS.get(name)


def warehouse_resource() -> DuckDBResource:
    """The working warehouse. Every connection in the process goes through this resource: DuckDB
    refuses a second connection to a file with other settings while one is open (a failed step's
    traceback can keep its connection alive until the end of the run)."""
    warehouse = path_setting("SCRM_DUCKDB_PATH")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBResource(database=str(warehouse), connection_config=warehouse_config())


class DbtCli(DbtCliResource):
    """dagster-dbt's resource without two costs it pays before every dbt invocation for what
    this project does not use: it asks the executable its version (`dbt --version`, 2.8 s on a
    2-core machine), and opens a dbt adapter in this process (1.6 s) that only
    `fetch_column_metadata` and `fetch_row_counts` need. The executable is the dbt-core of this
    environment (orchestration/project.py). Both are dagster-dbt internals: if an upgrade renames
    them, the cost comes back and nothing else changes."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def build_resources() -> dict:
    return {
        "duckdb": warehouse_resource(),
        "dbt": DbtCli(project_dir=dbt_project(), dbt_executable=dbt_executable()),
        "landing": LandingFolder(path=setting("SCRM_LANDING_DIR")),
        "segments": SegmentsFolder(path=setting("SCRM_SEGMENTS_DIR")),
        "exports": ExportFolder(path=setting("SCRM_EXPORT_DIR")),
        "serving": ServingCopy(
            path=setting("SCRM_SERVING_PATH"),
            storage_version=setting("SCRM_SERVING_STORAGE_VERSION", DEFAULT_STORAGE_VERSION),
        ),
        "alerts": Alerts(path=setting("SCRM_ALERT_DIR"), webhook=setting("SCRM_ALERT_WEBHOOK")),
        "wechat_api": WeChatApi(
            url=setting("SCRM_WECHAT_API_URL"),
            app_id=setting("SCRM_WECHAT_APP_ID"),
            app_secret=setting("SCRM_WECHAT_APP_SECRET"),
        ),
        "shop_api": ShopApi(url=setting("SCRM_SHOP_API_URL"), api_key=setting("SCRM_SHOP_API_KEY")),
    }
