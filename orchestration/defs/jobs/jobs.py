"""The one job that runs the whole loop, and its schedule."""

import dagster as dg

# In-process: steps run one after another in one process, which is what a single-writer
# DuckDB file needs, and it avoids re-importing the code location for every step.
closedloop_job = dg.define_asset_job(
    name="closedloop_job",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Ingest every source, then build and test every dbt model.",
)

daily_schedule = dg.ScheduleDefinition(
    name="closedloop_daily",
    job=closedloop_job,
    cron_schedule="0 5 * * *",
    execution_timezone="Europe/Prague",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

defs = dg.Definitions(jobs=[closedloop_job], schedules=[daily_schedule])
