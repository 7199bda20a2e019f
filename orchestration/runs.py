"""Runs whose process is gone. A run killed with `kill -9` (or lost with its machine) never
writes its end, so the instance shows it STARTED forever. Every Dagster event records the pid
of the process that wrote it: a started run whose process no longer exists, or is another
program that got the same pid later, is marked failed, with the reason."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

UNFINISHED = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.CANCELING]


def _started_at(pid: int) -> float | None:
    """When the process with this pid started (epoch seconds); None when there is none."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, under another user
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(
            float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
        )
    except (OSError, StopIteration, IndexError):
        return 0.0  # no /proc (macOS): the process exists, its age is unknown
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def _run_process(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """(pid, time) of the newest event of the run that names its process."""
    for record in reversed(instance.all_logs(run_id)):
        event = record.dagster_event
        if event is not None and event.pid:
            return event.pid, record.timestamp
    return None


def fail_orphaned_runs(instance: dg.DagsterInstance, log=print) -> list[str]:
    """Mark failed every unfinished run whose process is gone; returns their ids."""
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED)):
        process = _run_process(instance, run.run_id)
        if process is None:
            continue  # queued or starting without any event yet: nothing to judge by
        pid, last_event = process
        started = _started_at(pid)
        if started is not None and started <= last_event + 1:
            continue  # still running
        message = (
            f"The process that ran this run (pid {pid}) is gone: it was killed or crashed, so the run never "
            "finished. Marked failed; nothing it was writing was published (the warehouse and the serving copy "
            "keep their last complete state)."
        )
        instance.report_run_failed(run, message=message)
        log(f"run {run.run_id} ({run.job_name}) was left {run.status.value}: {message}")
        failed.append(run.run_id)
    return failed


@dg.sensor(
    name="orphaned_run_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks failed every run whose process is gone (killed or crashed), so no run stays STARTED forever.",
)
def orphaned_run_sensor(context: dg.SensorEvaluationContext):
    failed = fail_orphaned_runs(context.instance, context.log.warning)
    return dg.SkipReason(f"marked {len(failed)} orphaned run(s) failed" if failed else "no orphaned runs")
