"""The run id stamped on identity outputs (edges, golden ID changes, redirects).

dbt runs every Python model of one invocation in one process, so a process-wide id ties the
outputs of one ``dbt build`` together. Dagster sets ``CLOSEDLOOP_RUN_ID`` to its run id, so
an identity change can be traced to the Dagster run that made it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import cache

from orchestration import environment


@cache
def _process_run_id() -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


def current_run_id() -> str:
    """``CLOSEDLOOP_RUN_ID`` if set, else one id per process."""
    return environment.run_id() or _process_run_id()
