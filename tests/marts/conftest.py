"""A generated world loaded and built once for the marts tests.

The real path: the emulator over HTTP on 127.0.0.1, the SQLite e-shop, the web drops, every
dlt pipeline into a DuckDB file, then ``dbt build`` of the whole project as a subprocess.
Tests read the built marts and compare them with the world's truth files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.environment import sandbox_source_env
from tests.dbt.conftest import environ, run_dbt

MARTS_PEOPLE = 1500
MARTS_SEED = 5


@dataclass(frozen=True)
class BuiltWarehouse:
    """A world and the DuckDB warehouse built from it."""

    world_dir: Path
    path: Path
    work_dir: Path

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection; close it (or use it as a context manager)."""
        return duckdb.connect(str(self.path), read_only=True)

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        """All rows of a query."""
        with self.connect() as con:
            return con.execute(sql).fetchall()

    def dbt(self, *args: str) -> str:
        """Run a dbt command on this warehouse; returns its output, fails the test on error."""
        result = run_dbt(
            list(args),
            target="duckdb",
            env={"WAREHOUSE_PATH": str(self.path)},
            work_dir=self.work_dir,
        )
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
        return result.stdout


@pytest.fixture(scope="session")
def marts_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """A 1,500-person world, ingested and built with ``dbt build`` (every model and test)."""
    from pipelines import factory
    from sandbox.emulator import EmulatorThread
    from sandbox.world import generate

    base = tmp_path_factory.mktemp("marts")
    world_dir = base / "world"
    generate(MARTS_PEOPLE, MARTS_SEED, world_dir)
    built = BuiltWarehouse(world_dir, base / "warehouse.duckdb", base)
    with EmulatorThread(world_dir) as emulator:
        env = {
            **sandbox_source_env(emulator.url, world_dir),
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "WAREHOUSE_PATH": str(built.path),
            "DLT_PIPELINES_DIR": str(base / "dlt"),
        }
        with environ(env):
            for role in factory.ROLES:
                factory.run(role)
    built.dbt("build")
    return built
