"""The daily run, after the night's exports have landed."""

import dagster as dg

from orchestration.jobs import pipeline_job

daily_schedule = dg.ScheduleDefinition(
    name="scrm_daily",
    job=pipeline_job,
    cron_schedule="0 3 * * *",
    execution_timezone="Asia/Shanghai",
    description="Every night at 03:00 China time.",
)
