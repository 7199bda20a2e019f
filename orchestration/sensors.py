"""A sensor on the landing folder: new or changed files start the pipeline."""

import hashlib
from pathlib import Path

import dagster as dg

from orchestration.jobs import pipeline_job
from orchestration.resources import LandingFolder


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
