"""Dagster code location: loads every module under ``orchestration/defs/``.

Only cross-cutting wiring lives here; assets, checks, jobs and schedules sit in their
``defs/<area>/`` folders.
"""

from pathlib import Path

import dagster as dg

from orchestration.environment import apply_source_env


@dg.definitions
def defs() -> dg.Definitions:
    """Build the definitions; the source configuration is applied first.

    dlt resolves a source's configuration when the source object is built, which happens
    while the ``defs/`` modules load, so the sandbox defaults must be in place before.
    """
    apply_source_env()
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
