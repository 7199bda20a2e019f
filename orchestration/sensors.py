"""Sensors: new landing files start the pipeline; a failed run raises an alert."""

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import requests

from orchestration.jobs import pipeline_job
from orchestration.resources import Alerts, LandingFolder


def new_files(folder: Path, cursor: float) -> tuple[list[Path], float]:
    """Files modified after the cursor (an mtime), and the new cursor."""
    if not folder.exists():
        return [], cursor
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    fresh = sorted(p for p in files if p.stat().st_mtime > cursor)
    return fresh, max([cursor, *(p.stat().st_mtime for p in fresh)])


@dg.sensor(job=pipeline_job, minimum_interval_seconds=60, description="Starts the pipeline when files land.")
def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingFolder):
    cursor = float(context.cursor or 0)
    fresh, cursor = new_files(landing.folder, cursor)
    if not fresh:
        return dg.SkipReason(f"no new files in {landing.folder}")
    key = hashlib.sha256("\n".join(f"{p}:{p.stat().st_mtime}" for p in fresh).encode()).hexdigest()[:16]
    context.update_cursor(str(cursor))
    return dg.RunRequest(run_key=key, tags={"landing_files": str(len(fresh))})


def write_alert(alert: dict, folder: Path, webhook: str | None, log=print) -> Path:
    """Append the alert to `<folder>/alerts.jsonl` and, when a webhook is set, POST it there as
    JSON. A webhook that fails is logged, never raised: the file always has the alert."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "alerts.jsonl"
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(alert, ensure_ascii=False) + "\n")
    if webhook:
        try:
            requests.post(webhook, json=alert, timeout=10).raise_for_status()
        except requests.RequestException as exc:
            log(f"alert webhook failed ({type(exc).__name__}); the alert is in {path}")
    return path


@dg.run_failure_sensor(
    name="failure_alert_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes an alert for every failed run to the alerts folder (SCRM_ALERT_DIR) and POSTs it to the "
    "webhook (SCRM_ALERT_WEBHOOK) when one is set.",
)
def failure_alert_sensor(context: dg.RunFailureSensorContext, alerts: Alerts):
    run = context.dagster_run
    failed_steps = sorted({e.step_key for e in context.get_step_failure_events() if e.step_key})
    alert = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "job": run.job_name,
        "run_id": run.run_id,
        "failed_steps": failed_steps,
        "message": context.failure_event.message,
    }
    path = write_alert(alert, alerts.folder, alerts.webhook, context.log.warning)
    context.log.info(f"alert for run {run.run_id} written to {path}")
