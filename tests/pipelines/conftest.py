"""Fixtures for the pipeline tests: a small generated world, the vendor emulator on 127.0.0.1,
and the environment that points every source, the warehouse and dlt's working state at them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestration.environment import sandbox_source_env
from sandbox.emulator import EmulatorThread, FaultConfig
from sandbox.world import generate

PEOPLE = 1000
SEED = 7
# Rate-limit scale that never throttles: tests that want 429s lower it themselves.
NO_THROTTLE = 10_000.0


@dataclass
class Sandbox:
    """Everything one test's pipelines talk to."""

    world: Path
    emulator: EmulatorThread
    warehouse: Path
    pipelines_dir: Path


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated world per session; tests get private copies (they advance them)."""
    out = tmp_path_factory.mktemp("template") / "world"
    generate(PEOPLE, SEED, out)
    return out


@pytest.fixture
def world(world_template: Path, tmp_path: Path) -> Path:
    """A private copy of the template world."""
    target = tmp_path / "world"
    shutil.copytree(world_template, target)
    return target


@pytest.fixture
def emulator(world: Path) -> Iterator[EmulatorThread]:
    """The vendor emulator serving this test's world on a free port."""
    with EmulatorThread(world, faults=FaultConfig(rate_limit_scale=NO_THROTTLE)) as emu:
        yield emu


@pytest.fixture
def sandbox(
    world: Path, emulator: EmulatorThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Sandbox:
    """Point all five sources, the warehouse and the pipelines dir at this test's sandbox."""
    env = {
        **sandbox_source_env(emulator.url, world),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
        "DLT_PIPELINES_DIR": str(tmp_path / "dlt_pipelines"),
        # Short backoff: retries must happen, but a test must not sleep for minutes.
        "SOURCES__BACKOFF_FACTOR": "0.05",
        "SOURCES__MAX_RETRY_DELAY": "3",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Sandbox(world, emulator, tmp_path / "warehouse.duckdb", tmp_path / "dlt_pipelines")
