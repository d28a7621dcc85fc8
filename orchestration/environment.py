"""Where things are and which systems the sources talk to.

This is the one module that reads the process environment, and it does so inside functions,
never at import time, so tests and the CLI can change the environment before anything runs.

Two targets exist:

- ``sandbox`` (the default): the sources talk to the local vendor API emulator and the
  generated world's e-shop database and web drops. The emulator's base URLs and credentials
  are filled in as ``SOURCES__<ROLE>__<KEY>`` variables unless they are already set.
- ``vendors``: nothing is filled in; base URLs and credentials come from ``.dlt/secrets.toml``
  or the environment, exactly as for any dlt pipeline.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

DEFAULT_SANDBOX_HOST = "127.0.0.1"
DEFAULT_SANDBOX_PORT = 8765

# The emulator accepts these credentials; they are sandbox-only values, not secrets.
SANDBOX_CREDENTIALS: dict[str, str] = {
    "SOURCES__CRM__ACCESS_TOKEN": "pat-sandbox-crm",
    "SOURCES__ESP__API_KEY": "pk_sandbox_esp",
    "SOURCES__HELPDESK__EMAIL": "sandbox@closedloop.test",
    "SOURCES__HELPDESK__API_TOKEN": "sandbox-helpdesk-token",
}


def target() -> str:
    """Return ``sandbox`` or ``vendors`` (``CLOSEDLOOP_TARGET``, default ``sandbox``)."""
    value = os.environ.get("CLOSEDLOOP_TARGET", "sandbox").strip().lower()
    if value not in {"sandbox", "vendors"}:
        raise ValueError(f"CLOSEDLOOP_TARGET must be 'sandbox' or 'vendors', not {value!r}")
    return value


def warehouse_path() -> Path:
    """Absolute path of the DuckDB warehouse (``WAREHOUSE_PATH``, default ``./warehouse.duckdb``)."""
    raw = os.environ.get("WAREHOUSE_PATH") or str(PROJECT_ROOT / "warehouse.duckdb")
    return Path(raw).expanduser().resolve()


def world_dir() -> Path:
    """Directory of the synthetic world (``CLOSEDLOOP_WORLD``, default ``./data/world``)."""
    raw = os.environ.get("CLOSEDLOOP_WORLD") or str(PROJECT_ROOT / "data" / "world")
    return Path(raw).expanduser().resolve()


def sandbox_url() -> str:
    """Base URL of the vendor API emulator (``CLOSEDLOOP_SANDBOX_URL``)."""
    default = f"http://{DEFAULT_SANDBOX_HOST}:{DEFAULT_SANDBOX_PORT}"
    return os.environ.get("CLOSEDLOOP_SANDBOX_URL", default).rstrip("/")


def dagster_home() -> Path:
    """Project-local Dagster instance directory (``DAGSTER_HOME``, default ``./.dagster_home``)."""
    raw = os.environ.get("DAGSTER_HOME") or str(PROJECT_ROOT / ".dagster_home")
    return Path(raw).expanduser().resolve()


def venv_executable(name: str) -> str:
    """Path of a console script installed next to the running interpreter (dbt, dagster).

    dagster-dbt and the CLI shell out to ``dbt``; when closedloop is started as
    ``.venv/bin/closedloop`` without an activated venv, ``dbt`` is not on PATH.
    """
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def sandbox_source_env(url: str, world: Path) -> dict[str, str]:
    """Source configuration that points every dlt source at the sandbox.

    Args:
        url: Base URL of the running emulator, e.g. ``http://127.0.0.1:8765``.
        world: The world directory whose e-shop database and web drops are read.

    Returns:
        ``SOURCES__...`` variables for the five roles.
    """
    url = url.rstrip("/")
    return {
        "SOURCES__CRM__BASE_URL": f"{url}/hubspot",
        "SOURCES__ESP__BASE_URL": f"{url}/klaviyo",
        "SOURCES__HELPDESK__BASE_URL": f"{url}/zendesk",
        "SOURCES__SHOP__CREDENTIALS": f"sqlite:///{world / 'shop' / 'shop.sqlite'}",
        "SOURCES__WEB__BUCKET_URL": str(world / "web"),
        **SANDBOX_CREDENTIALS,
    }


def apply_runtime_env() -> None:
    """Set process-wide defaults every entry point needs (telemetry off, paths absolute)."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DAGSTER_HOME", str(dagster_home()))
    # dbt resolves a relative path against its own cwd; dlt against ours: make them agree.
    os.environ["WAREHOUSE_PATH"] = str(warehouse_path())
    # dlt reads .dlt/ relative to the working directory unless told where the project is.
    os.environ.setdefault("DLT_PROJECT_DIR", str(PROJECT_ROOT))
    # dagster-dbt's manifest preparer runs `dbt parse` from PATH; make it the venv's dbt.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def apply_source_env() -> dict[str, str]:
    """Fill in sandbox source configuration when the target is the sandbox.

    Values already present in the environment win, so a single source can be pointed
    elsewhere. Returns the variables that were set.
    """
    apply_runtime_env()
    if target() != "sandbox":
        return {}
    applied: dict[str, str] = {}
    for key, value in sandbox_source_env(sandbox_url(), world_dir()).items():
        if key not in os.environ:
            os.environ[key] = value
            applied[key] = value
    return applied


def run_id() -> str | None:
    """The orchestrator's run id (``CLOSEDLOOP_RUN_ID``), set by Dagster around ``dbt build``."""
    return os.environ.get("CLOSEDLOOP_RUN_ID") or None
