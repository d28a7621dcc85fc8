"""Fixtures for the dbt tests: a small loaded world in DuckDB and in a throw-away Postgres.

The world is loaded twice with the same dlt pipelines, once into the DuckDB warehouse file
and once into a Postgres database, so the two dbt builds start from the same raw data.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestration.environment import sandbox_source_env
from tests.dbt.postgres import PostgresServer

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
PORTABILITY_PEOPLE = 400
PORTABILITY_SEED = 7
PG_DATABASE = "closedloop"


@contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def dbt_executable() -> str:
    """The ``dbt`` next to the running interpreter (the project's venv)."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(
    args: list[str], *, target: str, env: Mapping[str, str], work_dir: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``dbt <args> --target <target>`` on the project, with its own target/log dirs.

    Separate target and log paths per target keep the two builds (and the developer's own
    ``dbt_project/target``) from overwriting each other's manifests and partial-parse state.
    """
    command = [dbt_executable(), *args, "--target", target]
    command += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    command += ["--target-path", str(work_dir / f"target-{target}")]
    command += ["--log-path", str(work_dir / f"logs-{target}")]
    full_env = {**os.environ, "DO_NOT_TRACK": "1", **env}
    return subprocess.run(
        command, cwd=REPO_ROOT, env=full_env, capture_output=True, text=True, timeout=1200
    )


@dataclass(frozen=True)
class LoadedWorld:
    """One world loaded into both warehouses."""

    world_dir: Path
    duckdb_path: Path
    pg: PostgresServer
    pg_database: str
    work_dir: Path

    @property
    def pg_dsn(self) -> str:
        """URL of the Postgres database holding the raw data and the dbt build."""
        return self.pg.dsn(self.pg_database)

    def dbt_env(self) -> dict[str, str]:
        """Environment both dbt targets read (``WAREHOUSE_PATH`` and ``PG_*``)."""
        return {"WAREHOUSE_PATH": str(self.duckdb_path), **self.pg.env(self.pg_database)}


def _load_world(world_dir: Path, duckdb_path: Path, pg: PostgresServer, work_dir: Path) -> None:
    """Serve the world with the emulator and run every pipeline into both warehouses."""
    import dlt

    from pipelines import factory
    from sandbox.emulator import EmulatorThread

    with EmulatorThread(world_dir) as emulator:
        source_env = {
            **sandbox_source_env(emulator.url, world_dir),
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "WAREHOUSE_PATH": str(duckdb_path),
        }
        # Separate dlt working dirs: each leg must start from no state, or the second leg
        # would continue from the first one's incremental cursors and load nothing.
        legs = {
            "duckdb": None,
            "postgres": dlt.destinations.postgres(credentials=pg.dsn(PG_DATABASE)),
        }
        for leg, destination in legs.items():
            pipelines_dir = work_dir / f"dlt-{leg}"
            with environ({**source_env, "DLT_PIPELINES_DIR": str(pipelines_dir)}):
                for role in factory.ROLES:
                    factory.run(role, destination=destination)


@pytest.fixture(scope="session")
def loaded_world(
    tmp_path_factory: pytest.TempPathFactory, pg_server: PostgresServer
) -> LoadedWorld:
    """A small generated world loaded by the dlt pipelines into DuckDB and Postgres."""
    from sandbox.world import generate

    base = tmp_path_factory.mktemp("portability")
    world_dir = base / "world"
    generate(out=world_dir, people=PORTABILITY_PEOPLE, seed=PORTABILITY_SEED)
    pg_server.create_database(PG_DATABASE)
    duckdb_path = base / "warehouse.duckdb"
    _load_world(world_dir, duckdb_path, pg_server, base)
    return LoadedWorld(world_dir, duckdb_path, pg_server, PG_DATABASE, base)
